import numpy as np


def _layer_norm(x, eps=1e-5):
    return (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + eps)


def _gelu_tanh(t):
    return 0.5 * t * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (t + 0.044715 * t**3)))


def _attention(x_q, x_kv, w_q, w_k, w_v, w_o, num_heads, causal):
    n, t_q, d = x_q.shape
    split = lambda y: y.reshape(n, y.shape[1], num_heads, d // num_heads).transpose(0, 2, 1, 3)  # noqa: E731
    q, k, v = split(x_q @ w_q), split(x_kv @ w_k), split(x_kv @ w_v)
    s = q @ k.transpose(0, 1, 3, 2) / np.sqrt(d // num_heads)
    if causal:  # position i sees positions 0..i only
        s = np.where(np.tril(np.ones((t_q, x_kv.shape[1]), bool)), s, -np.inf)
    w = np.exp(s - s.max(-1, keepdims=True))
    ctx = (w / w.sum(-1, keepdims=True)) @ v
    return ctx.transpose(0, 2, 1, 3).reshape(n, t_q, d) @ w_o


def decoder_layer(
    x,
    encoder_out,
    self_w_q,
    self_w_k,
    self_w_v,
    self_w_o,
    cross_w_q,
    cross_w_k,
    cross_w_v,
    cross_w_o,
    w_mlp1,
    w_mlp2,
    num_heads,
):
    x, enc = np.asarray(x, np.float64), np.asarray(encoder_out, np.float64)
    sw = [np.asarray(w, np.float64) for w in (self_w_q, self_w_k, self_w_v, self_w_o)]
    cw = [np.asarray(w, np.float64) for w in (cross_w_q, cross_w_k, cross_w_v, cross_w_o)]
    w1, w2 = np.asarray(w_mlp1, np.float64), np.asarray(w_mlp2, np.float64)
    h = int(num_heads)
    x = _layer_norm(x + _attention(x, x, *sw, h, causal=True))
    x = _layer_norm(x + _attention(x, enc, *cw, h, causal=False))
    return _layer_norm(x + _gelu_tanh(x @ w1) @ w2)
