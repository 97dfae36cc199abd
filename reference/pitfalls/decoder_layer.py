import math

import numpy as np


def _layer(
    x,
    enc,
    sq,
    sk,
    sv,
    so,
    cq,
    ck,
    cv,
    co,
    w1,
    w2,
    num_heads,
    *,
    self_mask="causal",
    cross_mask=None,
    ln="post",
    eps=1e-5,
    std="biased",
    act="gelu_tanh",
    order=("self", "cross"),
    scale=True,
):
    """The reference layer with one detail changed."""
    x, enc = np.asarray(x, np.float64), np.asarray(enc, np.float64)
    sw = [np.asarray(w, np.float64) for w in (sq, sk, sv, so)]
    cw = [np.asarray(w, np.float64) for w in (cq, ck, cv, co)]
    w1, w2 = np.asarray(w1, np.float64), np.asarray(w2, np.float64)
    h = int(num_heads)
    n, _, d = x.shape

    def norm(v):
        if std == "unbiased":  # the Annotated Transformer's LayerNorm: torch's x.std() (unbiased), plus eps
            return (v - v.mean(-1, keepdims=True)) / (v.std(-1, ddof=1, keepdims=True) + 1e-6)
        return (v - v.mean(-1, keepdims=True)) / np.sqrt(v.var(-1, keepdims=True) + eps)

    def attention(xq, xkv, w, mask):
        split = lambda y: y.reshape(n, y.shape[1], h, d // h).transpose(0, 2, 1, 3)  # noqa: E731
        q, k, v = split(xq @ w[0]), split(xkv @ w[1]), split(xkv @ w[2])
        s = q @ k.transpose(0, 1, 3, 2) / (math.sqrt(d // h) if scale else 1.0)
        tri = np.tril(np.ones((xq.shape[1], xkv.shape[1]), bool))
        if mask == "causal":
            s = np.where(tri, s, -np.inf)
        elif mask == "future":  # only ever the (square) self-attention
            s = np.where(tri.T, s, -np.inf)
        e = np.exp(s - s.max(-1, keepdims=True))
        return ((e / e.sum(-1, keepdims=True)) @ v).transpose(0, 2, 1, 3).reshape(n, xq.shape[1], d) @ w[3]

    def ffn(v):
        u = v @ w1
        if act == "relu":
            u = np.maximum(u, 0)
        elif act == "gelu_erf":
            u = 0.5 * u * (1 + np.vectorize(math.erf)(u / math.sqrt(2)))
        else:
            u = 0.5 * u * (1 + np.tanh(math.sqrt(2 / math.pi) * (u + 0.044715 * u**3)))
        return u @ w2

    sublayers = {
        "self": lambda v: attention(v, v, sw, self_mask),
        "cross": lambda v: attention(v, enc, cw, cross_mask),
        "shared": lambda v: attention(v, enc, sw, cross_mask),
    }
    for name in order:
        x = x + sublayers[name](norm(x)) if ln == "pre" else norm(x + sublayers[name](x))
    return x + ffn(norm(x)) if ln == "pre" else norm(x + ffn(x))


PITFALLS = {
    "no_causal_mask": (
        "Your output matches self-attention without the causal mask: position i may only attend to positions 0..i.",
        lambda *a: _layer(*a, self_mask=None),
    ),
    "mask_wrong_direction": (
        "Your output matches a mask that lets each position see the future instead of the past: keep the lower triangle.",
        lambda *a: _layer(*a, self_mask="future"),
    ),
    "causal_in_cross": (
        "Your output matches a causal mask in the cross-attention too: only the self-attention is masked.",
        lambda *a: _layer(*a, cross_mask="causal"),
    ),
    "cross_before_self": (
        "Your output matches the two attention sublayers in the other order: masked self-attention first, then cross-attention.",
        lambda *a: _layer(*a, order=("cross", "self")),
    ),
    "shared_weights": (
        "Your output matches the self-attention weights reused in the cross-attention: it has its own cross_w_q/k/v/o.",
        lambda *a: _layer(*a, order=("self", "shared")),
    ),
    "pre_ln": (
        "Your output matches a pre-LN layer (LayerNorm before each sublayer): this layer is post-LN, LayerNorm(x + sublayer(x)).",
        lambda *a: _layer(*a, ln="pre"),
    ),
    "gelu_erf": (
        "Your output matches the exact (erf) GELU: use the tanh approximation.",
        lambda *a: _layer(*a, act="gelu_erf"),
    ),
    "relu": (
        "Your output matches ReLU in the feed-forward: use the tanh-approximate GELU.",
        lambda *a: _layer(*a, act="relu"),
    ),
    "no_scale": (
        "Your output matches attention without the 1/sqrt(d_head) scale on the scores.",
        lambda *a: _layer(*a, scale=False),
    ),
    "eps_1e-6": ("Your output matches LayerNorm with eps=1e-6: use eps=1e-5.", lambda *a: _layer(*a, eps=1e-6)),
    "unbiased_std": (
        "Your output matches LayerNorm dividing by the unbiased standard deviation plus eps, as PyTorch's "
        "x.std() gives (the Annotated Transformer's LayerNorm): use the biased variance, (x - mean) / "
        "sqrt(x.var() + 1e-5).",
        lambda *a: _layer(*a, std="unbiased"),
    ),
}

# Mistakes made together in real code, named together: the Annotated Transformer's layer (pre-LN, its LayerNorm,
# ReLU), and a pre-LN layer with ReLU (PyTorch's with norm_first=True).
COMBINED = {
    ("pre_ln", "unbiased_std", "relu"): lambda *a: _layer(*a, ln="pre", std="unbiased", act="relu"),
    ("pre_ln", "relu"): lambda *a: _layer(*a, ln="pre", act="relu"),
}
