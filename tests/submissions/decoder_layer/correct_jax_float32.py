import jax
import jax.numpy as jnp


def ln(x):
    mu = x.mean(-1, keepdims=True)
    return (x - mu) / jnp.sqrt(((x - mu) ** 2).mean(-1, keepdims=True) + 1e-5)


def mha(xq, xkv, wq, wk, wv, wo, h, causal):
    n, t, d = xq.shape
    q = (xq @ wq).reshape(n, t, h, d // h)
    k = (xkv @ wk).reshape(n, -1, h, d // h)
    v = (xkv @ wv).reshape(n, -1, h, d // h)
    s = jnp.einsum("nqhd,nkhd->nhqk", q, k) / jnp.sqrt(d // h)
    if causal:
        s = jnp.where(jnp.tril(jnp.ones((t, t), bool)), s, -jnp.inf)
    return jnp.einsum("nhqk,nkhd->nqhd", jax.nn.softmax(s, -1), v).reshape(n, t, d) @ wo


def decoder_layer(x, encoder_out, self_w_q, self_w_k, self_w_v, self_w_o, cross_w_q, cross_w_k, cross_w_v,
                  cross_w_o, w_mlp1, w_mlp2, num_heads):
    x = ln(x + mha(x, x, self_w_q, self_w_k, self_w_v, self_w_o, num_heads, True))
    x = ln(x + mha(x, encoder_out, cross_w_q, cross_w_k, cross_w_v, cross_w_o, num_heads, False))
    return ln(x + jax.nn.gelu(x @ w_mlp1, approximate=True) @ w_mlp2)
