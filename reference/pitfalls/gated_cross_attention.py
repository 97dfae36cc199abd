import numpy as np


def _gated(
    decoder_x,
    encoder_out,
    w_q,
    w_k,
    w_v,
    w_o,
    num_heads,
    gate=None,
    *,
    initial=0.0,
    squash="tanh",
    what="attention",
    residual=True,
    query_norm=False,
):
    """The reference with one detail changed (`query_norm`: a LayerNorm on decoder_x before w_q, as Flamingo's
    cross-attention has)."""
    x, enc, w_q, w_k, w_v, w_o = (np.asarray(a, np.float64) for a in (decoder_x, encoder_out, w_q, w_k, w_v, w_o))
    h = int(num_heads)
    n, t, d = x.shape

    def split(y):
        return y.reshape(y.shape[0], y.shape[1], h, d // h).transpose(0, 2, 1, 3)

    xq = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-5) if query_norm else x
    q, k, v = split(xq @ w_q), split(enc @ w_k), split(enc @ w_v)
    s = q @ k.transpose(0, 1, 3, 2) / np.sqrt(d // h)
    w = np.exp(s - s.max(-1, keepdims=True))
    w /= w.sum(-1, keepdims=True)
    attn = (w @ v).transpose(0, 2, 1, 3).reshape(n, t, d) @ w_o
    g = initial if gate is None else float(gate)
    g = {"tanh": np.tanh(g), "none": g, "sigmoid": 1 / (1 + np.exp(-g))}[squash]
    if what == "sum":
        return g * (x + attn)
    return (x if residual else 0.0) + g * attn


PITFALLS = {
    "gate_opens_by_default": (
        "Your output matches a gate that defaults to 1.0: the gate starts at 0.0, so a new layer leaves "
        "decoder_x unchanged.",
        lambda *a: _gated(*a, initial=1.0),
    ),
    "no_tanh": (
        "Your output matches the raw gate multiplying the attention: squash it with tanh(gate) first.",
        lambda *a: _gated(*a, squash="none"),
    ),
    "sigmoid_gate": (
        "Your output matches sigmoid(gate) as the gate: use tanh(gate), which is 0 at 0 and can also be negative.",
        lambda *a: _gated(*a, squash="sigmoid"),
    ),
    "gate_on_the_sum": (
        "Your output matches the gate multiplying decoder_x + attention: gate only the attention, "
        "decoder_x + tanh(gate) * attn_out.",
        lambda *a: _gated(*a, what="sum"),
    ),
    "no_residual": (
        "Your output matches tanh(gate) * attn_out without decoder_x: add the residual, "
        "decoder_x + tanh(gate) * attn_out.",
        lambda *a: _gated(*a, residual=False),
    ),
    "norm_before_query": (
        "Your output matches a LayerNorm on decoder_x before the query projection (as Flamingo's code has): this "
        "layer projects decoder_x itself, q = decoder_x @ w_q.",
        lambda *a: _gated(*a, query_norm=True),
    ),
}
