# A learner's answer that reads the table with t - s: the bias of key s for query t is backwards.
import numpy as np


def cross_attention_relative_bias(decoder_x, encoder_out, w_q, w_k, w_v, w_o, rel_bias, num_heads):
    n, t_dec, d = decoder_x.shape
    t_enc = encoder_out.shape[1]
    dh = d // num_heads
    m = (rel_bias.shape[1] - 1) // 2
    rel = np.arange(t_dec)[:, None] - np.arange(t_enc)[None, :]
    bias = rel_bias[:, np.clip(rel, -m, m) + m]
    q = (decoder_x @ w_q).reshape(n, t_dec, num_heads, dh).transpose(0, 2, 1, 3)
    k = (encoder_out @ w_k).reshape(n, t_enc, num_heads, dh).transpose(0, 2, 1, 3)
    v = (encoder_out @ w_v).reshape(n, t_enc, num_heads, dh).transpose(0, 2, 1, 3)
    s = q @ k.transpose(0, 1, 3, 2) / np.sqrt(dh) + bias
    w = np.exp(s - s.max(-1, keepdims=True))
    w /= w.sum(-1, keepdims=True)
    return (w @ v).transpose(0, 2, 1, 3).reshape(n, t_dec, d) @ w_o
