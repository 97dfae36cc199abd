# Adapted from a call of jax.nn.dot_product_attention (jax/_src/nn/functions.py), which takes
# (batch, length, heads, width) arrays and requires the value's width to be the key's.
# expect: cause sizes_differ
import jax
import jax.numpy as jnp


def scaled_dot_product_attention(q, k, v):
    q, k, v = (jnp.swapaxes(jnp.asarray(a), 0, 1)[None] for a in (q, k, v))  # (1, T, H, d)
    out = jax.nn.dot_product_attention(q, k, v)
    return jnp.swapaxes(out[0], 0, 1)
