import numpy as np


def _heads(x, num_heads):
    n, t, d = x.shape
    return x.reshape(n, t, num_heads, d // num_heads).transpose(0, 2, 1, 3)


def gated_cross_attention(decoder_x, encoder_out, w_q, w_k, w_v, w_o, num_heads, gate=None):
    decoder_x, encoder_out, w_q, w_k, w_v, w_o = (
        np.asarray(a, np.float64) for a in (decoder_x, encoder_out, w_q, w_k, w_v, w_o)
    )
    h = int(num_heads)
    n, t_dec, d = decoder_x.shape
    q, k, v = _heads(decoder_x @ w_q, h), _heads(encoder_out @ w_k, h), _heads(encoder_out @ w_v, h)
    scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(d // h)
    weights = np.exp(scores - scores.max(-1, keepdims=True))
    weights /= weights.sum(-1, keepdims=True)
    attn_out = (weights @ v).transpose(0, 2, 1, 3).reshape(n, t_dec, d) @ w_o
    # A new layer's gate is 0: tanh(0) = 0, so it passes decoder_x through unchanged.
    gate = 0.0 if gate is None else float(gate)
    return decoder_x + np.tanh(gate) * attn_out
