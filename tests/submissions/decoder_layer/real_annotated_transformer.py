# Adapted from harvardnlp/annotated-transformer (the_annotated_transformer.py: LayerNorm, SublayerConnection,
# PositionwiseFeedForward, DecoderLayer), in NumPy: pre-LN sublayers, LayerNorm dividing by x.std() + eps
# (PyTorch's std is unbiased), and a ReLU feed-forward.
# expect: mistakes pre_ln unbiased_std relu
import numpy as np


class LayerNorm:
    def __init__(self, features, eps=1e-6):
        self.a_2, self.b_2, self.eps = np.ones(features), np.zeros(features), eps

    def __call__(self, x):
        mean = x.mean(-1, keepdims=True)
        std = x.std(-1, ddof=1, keepdims=True)  # torch.Tensor.std is unbiased
        return self.a_2 * (x - mean) / (std + self.eps) + self.b_2


def attention(query, key, value, mask=None):
    d_k = query.shape[-1]
    scores = query @ key.swapaxes(-2, -1) / np.sqrt(d_k)
    if mask is not None:
        scores = np.where(mask == 0, -1e9, scores)
    p_attn = np.exp(scores - scores.max(-1, keepdims=True))
    return (p_attn / p_attn.sum(-1, keepdims=True)) @ value


def multi_headed(h, ws, query, key, value, mask=None):
    nbatches, d_model = query.shape[0], query.shape[-1]
    d_k = d_model // h
    q, k, v = (
        (x @ w).reshape(nbatches, -1, h, d_k).transpose(0, 2, 1, 3) for w, x in zip(ws[:3], (query, key, value))
    )
    x = attention(q, k, v, mask)
    return x.transpose(0, 2, 1, 3).reshape(nbatches, -1, h * d_k) @ ws[3]


def decoder_layer(
    x, encoder_out, self_w_q, self_w_k, self_w_v, self_w_o, cross_w_q, cross_w_k, cross_w_v, cross_w_o,
    w_mlp1, w_mlp2, num_heads,
):  # fmt: skip
    h, size = int(num_heads), x.shape[-1]
    norms = [LayerNorm(size) for _ in range(3)]
    tgt_mask = np.tril(np.ones((x.shape[1], x.shape[1])))[None, None]
    self_ws, src_ws = (self_w_q, self_w_k, self_w_v, self_w_o), (cross_w_q, cross_w_k, cross_w_v, cross_w_o)

    def sublayer(i, x, fn):  # SublayerConnection: x + dropout(sublayer(norm(x)))
        return x + fn(norms[i](x))

    m = encoder_out
    x = sublayer(0, x, lambda x: multi_headed(h, self_ws, x, x, x, tgt_mask))
    x = sublayer(1, x, lambda x: multi_headed(h, src_ws, x, m, m))
    return sublayer(2, x, lambda x: np.maximum(x @ w_mlp1, 0) @ w_mlp2)
