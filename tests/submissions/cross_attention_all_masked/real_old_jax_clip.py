# Adapted from attention code written for an older JAX (the safe-softmax of many JAX ports: the row sum is
# kept away from 0 with jnp.clip(..., a_min=...)). The installed JAX removed a_min and a_max from jnp.clip.
# expect: cause removed_keyword
import jax.numpy as jnp


def cross_attention_all_masked(q, k, v, decoder_ids, encoder_ids, pad_id=0):
    visible = (decoder_ids != pad_id)[:, None, :, None] & (encoder_ids != pad_id)[:, None, None, :]
    scores = jnp.einsum("nhqd,nhkd->nhqk", q, k) / jnp.sqrt(q.shape[-1])
    scores = jnp.where(visible, scores, -1e30)
    e = jnp.where(visible, jnp.exp(scores - scores.max(-1, keepdims=True)), 0.0)
    weights = e / jnp.clip(e.sum(-1, keepdims=True), a_min=1e-30)
    return jnp.einsum("nhqk,nhkd->nhqd", weights, v)
