# A learner's answer with a plain softmax over -inf: padded queries come out as NaN.
import jax
import jax.numpy as jnp


def cross_attention_all_masked(q, k, v, decoder_ids, encoder_ids, pad_id=0):
    visible = (decoder_ids != pad_id)[:, None, :, None] & (encoder_ids != pad_id)[:, None, None, :]
    scores = jnp.einsum("nhqd,nhkd->nhqk", q, k) / jnp.sqrt(q.shape[-1])
    return jax.nn.softmax(jnp.where(visible, scores, -jnp.inf), axis=-1) @ v
