import numpy as np


def _heads(x, num_heads):
    n, t, d = x.shape
    return x.reshape(n, t, num_heads, d // num_heads).transpose(0, 2, 1, 3)


def cross_attention_decode(decoder_x, encoder_out, w_q, w_k, w_v, w_o, num_heads):
    decoder_x, encoder_out, w_q, w_k, w_v, w_o = (
        np.asarray(a, np.float64) for a in (decoder_x, encoder_out, w_q, w_k, w_v, w_o)
    )
    h = int(num_heads)
    n, t_dec, d = decoder_x.shape
    # The encoder's keys and values are projected once and reused by every decoding step.
    k_cache, v_cache = _heads(encoder_out @ w_k, h), _heads(encoder_out @ w_v, h)
    steps = []
    for t in range(t_dec):
        q = _heads(decoder_x[:, t : t + 1] @ w_q, h)  # (N, H, 1, d_head)
        s = q @ k_cache.transpose(0, 1, 3, 2) / np.sqrt(d // h)
        w = np.exp(s - s.max(-1, keepdims=True))
        ctx = (w / w.sum(-1, keepdims=True)) @ v_cache
        steps.append(ctx.transpose(0, 2, 1, 3).reshape(n, 1, d) @ w_o)
    return np.concatenate(steps, axis=1)
