# A learner's answer that multiplies by the raw gate, without tanh.
import numpy as np


def gated_cross_attention(decoder_x, encoder_out, w_q, w_k, w_v, w_o, num_heads, gate=None):
    gate = 0.0 if gate is None else gate
    n, t, d = decoder_x.shape
    dh = d // num_heads
    q = (decoder_x @ w_q).reshape(n, t, num_heads, dh).transpose(0, 2, 1, 3)
    k = (encoder_out @ w_k).reshape(n, -1, num_heads, dh).transpose(0, 2, 1, 3)
    v = (encoder_out @ w_v).reshape(n, -1, num_heads, dh).transpose(0, 2, 1, 3)
    s = q @ k.transpose(0, 1, 3, 2) / np.sqrt(dh)
    w = np.exp(s - s.max(-1, keepdims=True))
    w /= w.sum(-1, keepdims=True)
    return decoder_x + gate * ((w @ v).transpose(0, 2, 1, 3).reshape(n, t, d) @ w_o)
