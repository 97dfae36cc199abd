import numpy as np


class CrossAttentionCache:
    def __init__(self, encoder_out, w_k, w_v, num_heads):
        n, s, d = encoder_out.shape
        self.k = (encoder_out @ w_k).reshape(n, s, num_heads, d // num_heads)
        self.v = (encoder_out @ w_v).reshape(n, s, num_heads, d // num_heads)

    def step(self, x_t, w_q, w_o):
        n, d = x_t.shape
        h, dh = self.k.shape[2], self.k.shape[3]
        q = (x_t @ w_q).reshape(n, h, dh)
        s = np.einsum("nhd,nshd->nhs", q, self.k) / np.sqrt(dh)
        a = np.exp(s - s.max(-1, keepdims=True))
        a /= a.sum(-1, keepdims=True)
        return np.einsum("nhs,nshd->nhd", a, self.v).reshape(n, d) @ w_o


def cross_attention_decode(decoder_x, encoder_out, w_q, w_k, w_v, w_o, num_heads):
    cache = CrossAttentionCache(encoder_out.astype(np.float64), w_k, w_v, num_heads)
    return np.stack([cache.step(decoder_x[:, t], w_q, w_o) for t in range(decoder_x.shape[1])], axis=1)
