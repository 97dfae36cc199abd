# Adapted from lucidrains/flamingo-pytorch (flamingo_pytorch.py, MaskedCrossAttention and
# GatedCrossAttentionBlock), in NumPy: the text is layer-normed before the query projection.
# expect: mistakes norm_before_query
import numpy as np


def layer_norm(x, eps=1e-5):
    return (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + eps)


def masked_cross_attention(x, media, w_q, w_k, w_v, w_o, heads):
    b, n, dim = x.shape
    dim_head = dim // heads
    x = layer_norm(x)
    q = x @ w_q
    k, v = media @ w_k, media @ w_v

    def rearrange(t):  # 'b n (h d) -> b h n d'
        return t.reshape(t.shape[0], t.shape[1], heads, dim_head).transpose(0, 2, 1, 3)

    q, k, v = rearrange(q), rearrange(k), rearrange(v)
    q = q * dim_head**-0.5
    sim = q @ k.transpose(0, 1, 3, 2)
    sim = sim - sim.max(-1, keepdims=True)
    attn = np.exp(sim) / np.exp(sim).sum(-1, keepdims=True)
    out = (attn @ v).transpose(0, 2, 1, 3).reshape(b, n, dim)
    return out @ w_o


def gated_cross_attention(decoder_x, encoder_out, w_q, w_k, w_v, w_o, num_heads, gate=None):
    attn_gate = 0.0 if gate is None else float(gate)
    x = np.asarray(decoder_x, np.float64)
    media = np.asarray(encoder_out, np.float64)
    return masked_cross_attention(x, media, w_q, w_k, w_v, w_o, int(num_heads)) * np.tanh(attn_gate) + x
