# One head at a time, in float64 NumPy; LayerNorm before each sublayer (pre-LN).
import numpy as np


def ln(x, eps=1e-5):
    return (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + eps)


def gelu(t):
    return 0.5 * t * (1 + np.tanh(np.sqrt(2 / np.pi) * (t + 0.044715 * t ** 3)))


def cross_attention_block(decoder_x, encoder_out, w_q, w_k, w_v, w_o, w_mlp1, w_mlp2, num_heads):
    x, e = decoder_x.astype(np.float64), encoder_out.astype(np.float64)
    d = x.shape[-1]
    dh = d // num_heads
    q, k, v = ln(x) @ w_q, e @ w_k, e @ w_v
    heads = []
    for i in range(num_heads):
        sl = slice(i * dh, (i + 1) * dh)
        s = q[..., sl] @ np.swapaxes(k[..., sl], -1, -2) / np.sqrt(dh)
        a = np.exp(s - s.max(-1, keepdims=True))
        heads.append((a / a.sum(-1, keepdims=True)) @ v[..., sl])
    x = x + np.concatenate(heads, axis=-1) @ w_o
    return x + gelu(ln(x) @ w_mlp1) @ w_mlp2
