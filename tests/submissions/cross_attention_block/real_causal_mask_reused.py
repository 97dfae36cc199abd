# Adapted from decoder code whose self-attention mask is reused in the cross-attention (the causal mask of the
# Annotated Transformer's subsequent_mask, built from the decoder's length): that assumes the source is as
# long as the target, and the mask cannot broadcast against (T_dec, T_enc) scores.
# expect: cause sizes_differ
import jax.numpy as jnp
import numpy as np


def subsequent_mask(size):
    return jnp.tril(jnp.ones((size, size), dtype=bool))


def _norm(x):
    return (x - x.mean(-1, keepdims=True)) / jnp.sqrt(x.var(-1, keepdims=True) + 1e-5)


def cross_attention_block(decoder_x, encoder_out, w_q, w_k, w_v, w_o, w_mlp1, w_mlp2, num_heads):
    n, t_dec, d = decoder_x.shape
    h = int(num_heads)

    def heads(y):
        return y.reshape(n, y.shape[1], h, d // h).transpose(0, 2, 1, 3)

    q, k, v = heads(decoder_x @ w_q), heads(encoder_out @ w_k), heads(encoder_out @ w_v)
    scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(d // h)
    scores = jnp.where(subsequent_mask(t_dec), scores, -1e9)
    w = jnp.exp(scores - scores.max(-1, keepdims=True))
    ctx = ((w / w.sum(-1, keepdims=True)) @ v).transpose(0, 2, 1, 3).reshape(n, t_dec, d)
    x = _norm(decoder_x + ctx @ w_o)
    u = x @ w_mlp1
    return _norm(x + 0.5 * u * (1 + jnp.tanh(np.sqrt(2 / np.pi) * (u + 0.044715 * u**3))) @ w_mlp2)
