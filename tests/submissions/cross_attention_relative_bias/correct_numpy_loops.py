import math

import numpy as np


def cross_attention_relative_bias(decoder_x, encoder_out, w_q, w_k, w_v, w_o, rel_bias, num_heads):
    n, t_dec, d = decoder_x.shape
    t_enc = encoder_out.shape[1]
    dh = d // num_heads
    max_distance = (rel_bias.shape[1] - 1) // 2
    q, k, v = decoder_x @ w_q, encoder_out @ w_k, encoder_out @ w_v
    merged = np.zeros((n, t_dec, d), dtype=np.float32)
    for b in range(n):
        for h in range(num_heads):
            cols = slice(h * dh, (h + 1) * dh)
            for t in range(t_dec):
                scores = np.empty(t_enc)
                for s in range(t_enc):
                    rel = min(max(s - t, -max_distance), max_distance)
                    scores[s] = q[b, t, cols] @ k[b, s, cols] / math.sqrt(dh) + rel_bias[h, rel + max_distance]
                e = np.exp(scores - scores.max())
                merged[b, t, cols] = (e / e.sum()) @ v[b, :, cols]
    return merged @ w_o
