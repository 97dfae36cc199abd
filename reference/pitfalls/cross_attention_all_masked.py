import numpy as np


def _attend(
    q,
    k,
    v,
    decoder_ids,
    encoder_ids,
    pad_id=0,
    *,
    empty_rows="zero",
    decoder_mask=True,
    after_softmax=False,
    compare_with=None,
    scale=True,
):
    """The reference with one detail changed."""
    q, k, v = (np.asarray(a, np.float64) for a in (q, k, v))
    pad = pad_id if compare_with is None else compare_with
    enc_ok = np.asarray(encoder_ids) != pad
    dec_ok = np.asarray(decoder_ids) != pad if decoder_mask else np.ones(np.shape(decoder_ids), bool)
    visible = (dec_ok[:, :, None] & enc_ok[:, None, :])[:, None]
    s = q @ np.swapaxes(k, -1, -2)
    if scale:
        s = s / np.sqrt(q.shape[-1])
    if after_softmax:  # softmax over every key, then the mask, with no renormalisation
        e = np.exp(s - s.max(-1, keepdims=True))
        return (e / e.sum(-1, keepdims=True) * visible) @ v
    fill = {"zero": -np.inf, "nan": -np.inf, "uniform": -1e9}[empty_rows]
    s = np.where(visible, s, fill)
    with np.errstate(invalid="ignore"):
        if empty_rows == "zero":
            m = s.max(-1, keepdims=True)
            e = np.where(visible, np.exp(s - np.where(np.isfinite(m), m, 0.0)), 0.0)
            t = e.sum(-1, keepdims=True)
            return e / np.where(t > 0, t, 1.0) @ v
        e = np.exp(s - s.max(-1, keepdims=True))  # -inf - -inf = NaN where a row is all masked
        return e / e.sum(-1, keepdims=True) @ v


PITFALLS = {
    "nan_rows": (
        "Your output has NaN where a query sees no key: softmax over scores that are all -inf is 0/0. "
        "Give such a query zero weights, so its output is 0.",
        lambda *a: _attend(*a, empty_rows="nan"),
    ),
    "uniform_rows": (
        "Your output matches filling masked scores with a large negative number: a query that sees no key then "
        "averages every value (padding included). Its weights must all be 0, so its output is 0.",
        lambda *a: _attend(*a, empty_rows="uniform"),
    ),
    "decoder_padding_ignored": (
        "Your output matches a mask built from encoder_ids alone: a padded decoder position (decoder_ids == pad_id) "
        "sees no key at all, so its output is 0.",
        lambda *a: _attend(*a, decoder_mask=False),
    ),
    "mask_after_softmax": (
        "Your output matches a softmax over every key followed by zeroing the masked weights: mask the scores "
        "before the softmax, so each visible row's weights sum to 1.",
        lambda *a: _attend(*a, after_softmax=True),
    ),
    "pad_id_ignored": (
        "Your output matches a mask that always compares with 0: compare with the pad_id argument.",
        lambda q, k, v, d, e, pad_id=0: _attend(q, k, v, d, e, pad_id, compare_with=0),
    ),
    "no_scale": (
        "Your output matches attention without the 1/sqrt(d_head) scale on the scores.",
        lambda *a: _attend(*a, scale=False),
    ),
}
