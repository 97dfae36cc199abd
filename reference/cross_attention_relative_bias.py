import numpy as np


def _heads(x, num_heads):
    n, t, d = x.shape
    return x.reshape(n, t, num_heads, d // num_heads).transpose(0, 2, 1, 3)


def cross_attention_relative_bias(decoder_x, encoder_out, w_q, w_k, w_v, w_o, rel_bias, num_heads):
    decoder_x, encoder_out, w_q, w_k, w_v, w_o, rel_bias = (
        np.asarray(a, np.float64) for a in (decoder_x, encoder_out, w_q, w_k, w_v, w_o, rel_bias)
    )
    h = int(num_heads)
    n, t_dec, d = decoder_x.shape
    t_enc = encoder_out.shape[1]
    max_distance = (rel_bias.shape[1] - 1) // 2
    # Key position minus query position, clipped, then shifted to a column of the table.
    rel = np.arange(t_enc)[None, :] - np.arange(t_dec)[:, None]  # (T_dec, T_enc)
    bias = rel_bias[:, np.clip(rel, -max_distance, max_distance) + max_distance]  # (H, T_dec, T_enc)
    q, k, v = _heads(decoder_x @ w_q, h), _heads(encoder_out @ w_k, h), _heads(encoder_out @ w_v, h)
    scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(d // h) + bias  # the bias is not scaled
    weights = np.exp(scores - scores.max(-1, keepdims=True))
    weights /= weights.sum(-1, keepdims=True)
    return (weights @ v).transpose(0, 2, 1, 3).reshape(n, t_dec, d) @ w_o
