import jax
import jax.numpy as jnp


def layer_norm(x):
    mu = x.mean(-1, keepdims=True)
    return (x - mu) / jnp.sqrt(((x - mu) ** 2).mean(-1, keepdims=True) + 1e-5)


def cross_attention_block(decoder_x, encoder_out, w_q, w_k, w_v, w_o, w_mlp1, w_mlp2, num_heads):
    n, t, d = decoder_x.shape
    dh = d // num_heads
    q = (decoder_x @ w_q).reshape(n, t, num_heads, dh)
    k = (encoder_out @ w_k).reshape(n, -1, num_heads, dh)
    v = (encoder_out @ w_v).reshape(n, -1, num_heads, dh)
    w = jax.nn.softmax(jnp.einsum("nqhd,nkhd->nhqk", q, k) / jnp.sqrt(dh), axis=-1)
    attn_out = jnp.einsum("nhqk,nkhd->nqhd", w, v).reshape(n, t, d) @ w_o
    x = layer_norm(decoder_x + attn_out)
    return layer_norm(x + jax.nn.gelu(x @ w_mlp1, approximate=True) @ w_mlp2)
