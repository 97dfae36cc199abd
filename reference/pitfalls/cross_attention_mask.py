import numpy as np


def _mask(encoder_ids, decoder_len, pad_id=0, *, invert=False, causal=False, shape="4d"):
    keep = np.asarray(encoder_ids) != pad_id
    if invert:
        keep = ~keep
    n, s = keep.shape
    t = int(decoder_len)
    m = np.broadcast_to(keep[:, None, None, :], (n, 1, t, s)).astype(np.float32)
    if causal:
        m = m * np.tril(np.ones((t, s), np.float32))
    return {"4d": m, "3d": m[:, 0], "one_row": m[:, :, :1]}[shape]


PITFALLS = {
    "causal": (
        "Your output matches the padding mask combined with a causal (lower-triangular) mask: cross-attention has no causal part.",
        lambda *a, **k: _mask(*a, **k, causal=True),
    ),
    "inverted": (
        "Your output matches the mask inverted: 1.0 marks real tokens, 0.0 marks padding.",
        lambda *a, **k: _mask(*a, **k, invert=True),
    ),
    "pad_id_ignored": (
        "Your output matches a mask that always compares with 0: compare with the pad_id argument.",
        lambda encoder_ids, decoder_len, pad_id=0: _mask(encoder_ids, decoder_len, 0),
    ),
    "missing_head_axis": (
        "Your output has the values of the mask but shape (N, decoder_len, S): keep the axis of size 1, (N, 1, decoder_len, S).",
        lambda *a, **k: _mask(*a, **k, shape="3d"),
    ),
    "not_expanded": (
        "Your output is one row per batch entry, (N, 1, 1, S): expand it to every decoder position, (N, 1, decoder_len, S).",
        lambda *a, **k: _mask(*a, **k, shape="one_row"),
    ),
}

# Mistakes made together in real code, named together: a mask of the padding itself, found by comparing with 0.
COMBINED = {
    ("inverted", "pad_id_ignored"): lambda encoder_ids, decoder_len, pad_id=0: _mask(
        encoder_ids, decoder_len, 0, invert=True
    ),
}
