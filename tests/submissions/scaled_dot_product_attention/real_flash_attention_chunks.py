# Adapted from a flash-attention in JAX (the online-softmax loop over key blocks of the FlashAttention paper,
# as JAX ports write it): the output accumulator is allocated like q, which assumes d_v == d_k.
# expect: cause sizes_differ
import jax.numpy as jnp


def scaled_dot_product_attention(q, k, v, block_k=2):
    q, k, v = jnp.asarray(q), jnp.asarray(k), jnp.asarray(v)
    scale = q.shape[-1] ** -0.5
    o = jnp.zeros_like(q)  # the accumulator
    m = jnp.full(q.shape[:-1] + (1,), -jnp.inf)
    l = jnp.zeros(q.shape[:-1] + (1,))  # noqa: E741
    for start in range(0, k.shape[-2], block_k):
        kb, vb = k[..., start : start + block_k, :], v[..., start : start + block_k, :]
        s = q @ jnp.swapaxes(kb, -1, -2) * scale
        m_new = jnp.maximum(m, s.max(-1, keepdims=True))
        p = jnp.exp(s - m_new)
        correction = jnp.exp(m - m_new)
        l = l * correction + p.sum(-1, keepdims=True)  # noqa: E741
        o = o * correction + p @ vb
        m = m_new
    return o / l
