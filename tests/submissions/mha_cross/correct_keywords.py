# Keyword-only parameters, and keyword arguments to Flax.
import flax.linen as nn
from jax import random


def mha_cross(seed, x_q, x_kv, *, num_heads, qkv_features):
    attention = nn.MultiHeadDotProductAttention(num_heads=num_heads, qkv_features=qkv_features)
    variables = attention.init(random.PRNGKey(seed), inputs_q=x_q, inputs_kv=x_kv)
    return attention.apply(variables, inputs_q=x_q, inputs_kv=x_kv).flatten()
