import numpy as np


def _layer_norm(x, eps=1e-5):
    mean = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps)


def _gelu_tanh(t):
    return 0.5 * t * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (t + 0.044715 * t**3)))


def _heads(x, num_heads):
    n, t, d = x.shape
    return x.reshape(n, t, num_heads, d // num_heads).transpose(0, 2, 1, 3)


def cross_attention_block(decoder_x, encoder_out, w_q, w_k, w_v, w_o, w_mlp1, w_mlp2, num_heads):
    decoder_x, encoder_out = np.asarray(decoder_x, np.float64), np.asarray(encoder_out, np.float64)
    w_q, w_k, w_v, w_o, w_mlp1, w_mlp2 = (np.asarray(w, np.float64) for w in (w_q, w_k, w_v, w_o, w_mlp1, w_mlp2))
    num_heads = int(num_heads)
    n, t_dec, d_model = decoder_x.shape
    q = _heads(decoder_x @ w_q, num_heads)
    k = _heads(encoder_out @ w_k, num_heads)
    v = _heads(encoder_out @ w_v, num_heads)
    scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(d_model // num_heads)
    scores = scores - scores.max(axis=-1, keepdims=True)
    attn = np.exp(scores)
    attn /= attn.sum(axis=-1, keepdims=True)
    concat = (attn @ v).transpose(0, 2, 1, 3).reshape(n, t_dec, d_model)
    x = _layer_norm(decoder_x + concat @ w_o)
    return _layer_norm(x + _gelu_tanh(x @ w_mlp1) @ w_mlp2)
