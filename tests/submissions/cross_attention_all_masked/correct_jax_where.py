import jax.numpy as jnp


def cross_attention_all_masked(q, k, v, decoder_ids, encoder_ids, pad_id=0):
    visible = (decoder_ids != pad_id)[:, None, :, None] & (encoder_ids != pad_id)[:, None, None, :]
    scores = jnp.einsum("nhqd,nhkd->nhqk", q, k) / jnp.sqrt(q.shape[-1])
    scores = jnp.where(visible, scores, -jnp.inf)
    m = jnp.max(scores, axis=-1, keepdims=True)
    m = jnp.where(jnp.isfinite(m), m, 0.0)
    e = jnp.where(visible, jnp.exp(scores - m), 0.0)
    total = e.sum(-1, keepdims=True)
    weights = e / jnp.where(total > 0, total, 1.0)
    return jnp.einsum("nhqk,nhkd->nhqd", weights, v)
