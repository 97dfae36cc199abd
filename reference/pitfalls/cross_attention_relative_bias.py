import numpy as np


def _attend(
    decoder_x,
    encoder_out,
    w_q,
    w_k,
    w_v,
    w_o,
    rel_bias,
    num_heads,
    *,
    direction="key_minus_query",
    offset=True,
    bias_scaled=False,
    heads="each",
    bias=True,
    queries_from_end=False,
):
    """The reference with one detail changed (`queries_from_end`: query t placed at t + T_enc - T_dec, the last
    T_dec positions of the keys, as caching decoders number their new tokens)."""
    x, enc, w_q, w_k, w_v, w_o, table = (
        np.asarray(a, np.float64) for a in (decoder_x, encoder_out, w_q, w_k, w_v, w_o, rel_bias)
    )
    h = int(num_heads)
    n, t_dec, d = x.shape
    t_enc = enc.shape[1]
    m = (table.shape[1] - 1) // 2
    rel = np.arange(t_enc)[None, :] - np.arange(t_dec)[:, None]
    if queries_from_end:
        rel = rel - (t_enc - t_dec)
    if direction == "query_minus_key":
        rel = -rel
    col = np.clip(rel, -m, m) + (m if offset else 0)  # without the offset, negative columns wrap around
    if heads == "first":
        table = np.broadcast_to(table[:1], table.shape)
    b = table[:, col] if bias else 0.0

    def split(y):
        return y.reshape(y.shape[0], y.shape[1], h, d // h).transpose(0, 2, 1, 3)

    q, k, v = split(x @ w_q), split(enc @ w_k), split(enc @ w_v)
    s = q @ k.transpose(0, 1, 3, 2)
    s = (s + b) / np.sqrt(d // h) if bias_scaled else s / np.sqrt(d // h) + b
    w = np.exp(s - s.max(-1, keepdims=True))
    w /= w.sum(-1, keepdims=True)
    return (w @ v).transpose(0, 2, 1, 3).reshape(n, t_dec, d) @ w_o


PITFALLS = {
    "no_bias": (
        "Your output matches cross-attention without the relative position bias: add rel_bias[h, col] to every "
        "head's scores.",
        lambda *a: _attend(*a, bias=False),
    ),
    "direction_reversed": (
        "Your output matches a bias indexed by query position minus key position: the relative position is "
        "s - t (key minus query).",
        lambda *a: _attend(*a, direction="query_minus_key"),
    ),
    "no_offset": (
        "Your output matches the clipped relative position used as the column without adding max_distance: "
        "column = clip(s - t, -max_distance, max_distance) + max_distance.",
        lambda *a: _attend(*a, offset=False),
    ),
    "bias_scaled": (
        "Your output matches the bias added before dividing by sqrt(d_head): scale q @ kᵀ first, then add the "
        "bias unscaled.",
        lambda *a: _attend(*a, bias_scaled=True),
    ),
    "first_head_bias": (
        "Your output matches every head using the bias of head 0: head h reads row h of rel_bias.",
        lambda *a: _attend(*a, heads="first"),
    ),
    "queries_from_end": (
        "Your output matches query positions counted from the end of the keys (query t at t + T_enc - T_dec, as "
        "decoding caches number them), right only when T_dec == T_enc: here query t is at position t, so the "
        "relative position is s - t.",
        lambda *a: _attend(*a, queries_from_end=True),
    ),
}
