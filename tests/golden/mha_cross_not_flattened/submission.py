import flax.linen as nn
import jax


def mha_cross(seed, x_q, x_kv, num_heads, qkv_features):
    attention = nn.MultiHeadDotProductAttention(num_heads=num_heads, qkv_features=qkv_features)
    variables = attention.init(jax.random.PRNGKey(seed), x_q, x_kv)
    return attention.apply(variables, x_q, x_kv)
