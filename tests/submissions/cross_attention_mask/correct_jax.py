import jax.numpy as jnp


def cross_attention_mask(encoder_ids, decoder_len, pad_id=0):
    n, s = encoder_ids.shape
    keep = jnp.where(encoder_ids == pad_id, 0.0, 1.0)
    return jnp.broadcast_to(keep[:, None, None, :], (n, 1, decoder_len, s))
