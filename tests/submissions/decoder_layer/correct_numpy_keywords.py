# float64 NumPy, a large negative number for the mask, keyword-only weights.
import numpy as np


def layer_norm(v, eps=1e-5):
    return (v - v.mean(-1, keepdims=True)) / np.sqrt(v.var(-1, keepdims=True) + eps)


def attention(xq, xkv, w, num_heads, mask=None):
    n, t, d = xq.shape
    dh = d // num_heads
    heads = []
    for i in range(num_heads):
        cols = slice(i * dh, (i + 1) * dh)
        s = (xq @ w["q"][:, cols]) @ np.swapaxes(xkv @ w["k"][:, cols], 1, 2) / np.sqrt(dh)
        if mask is not None:
            s = s + mask
        a = np.exp(s - s.max(-1, keepdims=True))
        heads.append(a / a.sum(-1, keepdims=True) @ (xkv @ w["v"][:, cols]))
    return np.concatenate(heads, -1) @ w["o"]


def decoder_layer(x, encoder_out, *, self_w_q, self_w_k, self_w_v, self_w_o, cross_w_q, cross_w_k, cross_w_v,
                  cross_w_o, w_mlp1, w_mlp2, num_heads):
    x, enc = x.astype(np.float64), encoder_out.astype(np.float64)
    t = x.shape[1]
    causal = np.triu(np.full((t, t), -1e30), k=1)
    x = layer_norm(x + attention(x, x, dict(q=self_w_q, k=self_w_k, v=self_w_v, o=self_w_o), num_heads, causal))
    x = layer_norm(x + attention(x, enc, dict(q=cross_w_q, k=cross_w_k, v=cross_w_v, o=cross_w_o), num_heads))
    u = x @ w_mlp1
    return layer_norm(x + 0.5 * u * (1 + np.tanh(np.sqrt(2 / np.pi) * (u + 0.044715 * u ** 3))) @ w_mlp2)
