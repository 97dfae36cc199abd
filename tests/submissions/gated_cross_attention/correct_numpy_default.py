import numpy as np


def _softmax(s):
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def gated_cross_attention(decoder_x, encoder_out, w_q, w_k, w_v, w_o, num_heads, gate=0.0):
    x, enc = decoder_x.astype(np.float64), encoder_out.astype(np.float64)
    n, t, d = x.shape
    dh = d // num_heads
    heads = []
    for h in range(num_heads):
        cols = slice(h * dh, (h + 1) * dh)
        q, k, v = (x @ w_q)[..., cols], (enc @ w_k)[..., cols], (enc @ w_v)[..., cols]
        heads.append(_softmax(q @ k.transpose(0, 2, 1) / np.sqrt(dh)) @ v)
    return x + np.tanh(gate) * (np.concatenate(heads, axis=-1) @ w_o)
