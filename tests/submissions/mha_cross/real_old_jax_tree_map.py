# Adapted from code written for an older JAX (Flax examples of 2022 cast parameters with jax.tree_map, which
# the installed JAX removed in favour of jax.tree.map).
# expect: cause removed_name
import flax.linen as nn
import jax
import jax.numpy as jnp


def mha_cross(seed, x_q, x_kv, num_heads, qkv_features):
    attn = nn.MultiHeadDotProductAttention(num_heads=int(num_heads), qkv_features=int(qkv_features))
    params = attn.init(jax.random.PRNGKey(int(seed)), x_q, x_kv)
    params = jax.tree_map(lambda p: p.astype(jnp.float32), params)
    return attn.apply(params, x_q, x_kv).reshape(-1)
