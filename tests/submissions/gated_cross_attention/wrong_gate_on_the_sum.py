# A learner's answer that gates the residual too: tanh(gate) * (decoder_x + attention).
import jax
import jax.numpy as jnp


def gated_cross_attention(decoder_x, encoder_out, w_q, w_k, w_v, w_o, num_heads, gate=0.0):
    n, t, d = decoder_x.shape
    dh = d // num_heads
    q = (decoder_x @ w_q).reshape(n, t, num_heads, dh)
    k = (encoder_out @ w_k).reshape(n, -1, num_heads, dh)
    v = (encoder_out @ w_v).reshape(n, -1, num_heads, dh)
    w = jax.nn.softmax(jnp.einsum("nqhd,nkhd->nhqk", q, k) / jnp.sqrt(dh), axis=-1)
    attn_out = jnp.einsum("nhqk,nkhd->nqhd", w, v).reshape(n, t, d) @ w_o
    return jnp.tanh(gate) * (decoder_x + attn_out)
