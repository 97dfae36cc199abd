# Adapted from PyTorch (torch/nn/modules/transformer.py, TransformerDecoderLayer with its defaults: post-LN,
# norm_first=False, eps=1e-5, activation=relu), in NumPy. The spec's layer uses the tanh-approximate GELU.
# expect: mistakes relu
import numpy as np


def _norm(x, eps=1e-5):
    return (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + eps)


def _mha(query, key, w_q, w_k, w_v, w_o, num_heads, causal):
    n, t, e = query.shape
    hd = e // num_heads

    def heads(y):
        return y.reshape(n, y.shape[1], num_heads, hd).transpose(0, 2, 1, 3)

    q, k, v = heads(query @ w_q), heads(key @ w_k), heads(key @ w_v)
    s = q @ k.transpose(0, 1, 3, 2) / np.sqrt(hd)
    if causal:  # nn.Transformer.generate_square_subsequent_mask: -inf above the diagonal
        s = s + np.triu(np.full((t, key.shape[1]), -np.inf), k=1)
    a = np.exp(s - s.max(-1, keepdims=True))
    return ((a / a.sum(-1, keepdims=True)) @ v).transpose(0, 2, 1, 3).reshape(n, t, e) @ w_o


def decoder_layer(
    x, encoder_out, self_w_q, self_w_k, self_w_v, self_w_o, cross_w_q, cross_w_k, cross_w_v, cross_w_o,
    w_mlp1, w_mlp2, num_heads,
):  # fmt: skip
    h = int(num_heads)
    x = _norm(x + _mha(x, x, self_w_q, self_w_k, self_w_v, self_w_o, h, True))  # _sa_block
    x = _norm(x + _mha(x, encoder_out, cross_w_q, cross_w_k, cross_w_v, cross_w_o, h, False))  # _mha_block
    return _norm(x + np.maximum(x @ w_mlp1, 0) @ w_mlp2)  # _ff_block, activation=F.relu
