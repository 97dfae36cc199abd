import math

import numpy as np


def _block(
    decoder_x,
    encoder_out,
    w_q,
    w_k,
    w_v,
    w_o,
    w_mlp1,
    w_mlp2,
    num_heads,
    *,
    scale="d_head",
    ln="post",
    eps=1e-5,
    std="biased",
    eps_inside=True,
    act="gelu_tanh",
    residual1=True,
    residual2=True,
    softmax_axis=-1,
    merge="transpose",
):
    """The reference block with one detail changed."""
    x0, enc = np.asarray(decoder_x, np.float64), np.asarray(encoder_out, np.float64)
    w_q, w_k, w_v, w_o, w_mlp1, w_mlp2 = (np.asarray(w, np.float64) for w in (w_q, w_k, w_v, w_o, w_mlp1, w_mlp2))
    h = int(num_heads)
    n, t, d = x0.shape

    def norm(v):
        if std == "unbiased":  # the Annotated Transformer's LayerNorm: torch's x.std() (unbiased), plus eps
            return (v - v.mean(-1, keepdims=True)) / (v.std(-1, ddof=1, keepdims=True) + 1e-6)
        mu, var = v.mean(-1, keepdims=True), v.var(-1, keepdims=True)
        return (v - mu) / (np.sqrt(var + eps) if eps_inside else np.sqrt(var) + eps)

    def activation(v):
        if act == "relu":
            return np.maximum(v, 0)
        if act == "gelu_erf":
            return 0.5 * v * (1 + np.vectorize(math.erf)(v / math.sqrt(2)))
        return 0.5 * v * (1 + np.tanh(math.sqrt(2 / math.pi) * (v + 0.044715 * v**3)))

    def split(v):
        return v.reshape(v.shape[0], v.shape[1], h, d // h).transpose(0, 2, 1, 3)

    def attention(xq):
        q, k, v = split(xq @ w_q), split(enc @ w_k), split(enc @ w_v)
        s = q @ k.transpose(0, 1, 3, 2)
        if scale:
            s = s / math.sqrt(d // h if scale == "d_head" else d)
        e = np.exp(s - s.max(softmax_axis, keepdims=True))
        heads = (e / e.sum(softmax_axis, keepdims=True)) @ v
        merged = heads.transpose(0, 2, 1, 3) if merge == "transpose" else heads
        return merged.reshape(n, t, d) @ w_o

    if ln == "pre":
        x = x0 + attention(norm(x0))
        return x + activation(norm(x) @ w_mlp1) @ w_mlp2
    x = norm((x0 if residual1 else 0) + attention(x0))
    return norm((x if residual2 else 0) + activation(x @ w_mlp1) @ w_mlp2)


PITFALLS = {
    "scale_d_model": (
        "Your output matches scores scaled by 1/sqrt(d_model): scale by 1/sqrt(d_head), d_head = d_model // num_heads.",
        lambda *a: _block(*a, scale="d_model"),
    ),
    "no_scale": (
        "Your output matches attention without the 1/sqrt(d_head) scale on the scores.",
        lambda *a: _block(*a, scale=None),
    ),
    "pre_ln": (
        "Your output matches a pre-LN block (LayerNorm before each sublayer): this block is post-LN, LayerNorm(x + sublayer(x)).",
        lambda *a: _block(*a, ln="pre"),
    ),
    "eps_1e-6": ("Your output matches LayerNorm with eps=1e-6: use eps=1e-5.", lambda *a: _block(*a, eps=1e-6)),
    "eps_outside_sqrt": (
        "Your output matches LayerNorm with eps added after the square root: use sqrt(var + 1e-5).",
        lambda *a: _block(*a, eps_inside=False),
    ),
    "gelu_erf": (
        "Your output matches the exact (erf) GELU: use the tanh approximation.",
        lambda *a: _block(*a, act="gelu_erf"),
    ),
    "relu": (
        "Your output matches ReLU in the feed-forward: use the tanh-approximate GELU.",
        lambda *a: _block(*a, act="relu"),
    ),
    "no_first_residual": (
        "Your output matches the block without the residual around attention: LayerNorm(decoder_x + attn_out).",
        lambda *a: _block(*a, residual1=False),
    ),
    "no_second_residual": (
        "Your output matches the block without the residual around the feed-forward: LayerNorm(x + ffn_out).",
        lambda *a: _block(*a, residual2=False),
    ),
    "softmax_over_queries": (
        "Your output matches a softmax over the query axis: normalise over the encoder positions (the last axis).",
        lambda *a: _block(*a, softmax_axis=-2),
    ),
    "no_merge_transpose": (
        "Your output matches merging heads without moving them back first: transpose to (N, T_dec, H, d_head), then reshape.",
        lambda *a: _block(*a, merge="reshape_only"),
    ),
    "k_v_swapped": (
        "Your output matches w_k and w_v swapped: keys come from encoder_out @ w_k, values from encoder_out @ w_v.",
        lambda dx, enc, wq, wk, wv, *rest: _block(dx, enc, wq, wv, wk, *rest),
    ),
    "mlp_weights_swapped": (
        "Your output matches w_mlp1 and w_mlp2 swapped: the feed-forward is GELU(x @ w_mlp1) @ w_mlp2.",
        lambda dx, enc, wq, wk, wv, wo, m1, m2, h: _block(dx, enc, wq, wk, wv, wo, m2, m1, h),
    ),
    "unbiased_std": (
        "Your output matches LayerNorm dividing by the unbiased standard deviation plus eps, as PyTorch's "
        "x.std() gives (the Annotated Transformer's LayerNorm): use the biased variance, (x - mean) / "
        "sqrt(x.var() + 1e-5).",
        lambda *a: _block(*a, std="unbiased"),
    ),
}

# Mistakes made together in real code, named together: the Annotated Transformer's block (pre-LN, its LayerNorm,
# ReLU), and a pre-LN block with ReLU (PyTorch's with norm_first=True).
COMBINED = {
    ("pre_ln", "unbiased_std", "relu"): lambda *a: _block(*a, ln="pre", std="unbiased", act="relu"),
    ("pre_ln", "relu"): lambda *a: _block(*a, ln="pre", act="relu"),
}
