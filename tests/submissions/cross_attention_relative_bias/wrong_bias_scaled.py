# A learner's answer that adds the bias before the 1/sqrt(d_head) scale.
import jax
import jax.numpy as jnp


def cross_attention_relative_bias(decoder_x, encoder_out, w_q, w_k, w_v, w_o, rel_bias, num_heads):
    n, t_dec, d = decoder_x.shape
    t_enc = encoder_out.shape[1]
    dh = d // num_heads
    m = (rel_bias.shape[1] - 1) // 2
    rel = jnp.arange(t_enc)[None, :] - jnp.arange(t_dec)[:, None]
    bias = rel_bias[:, jnp.clip(rel, -m, m) + m]
    q = (decoder_x @ w_q).reshape(n, t_dec, num_heads, dh)
    k = (encoder_out @ w_k).reshape(n, t_enc, num_heads, dh)
    v = (encoder_out @ w_v).reshape(n, t_enc, num_heads, dh)
    scores = (jnp.einsum("nqhd,nkhd->nhqk", q, k) + bias) / jnp.sqrt(dh)
    w = jax.nn.softmax(scores, axis=-1)
    return jnp.einsum("nhqk,nkhd->nqhd", w, v).reshape(n, t_dec, d) @ w_o
