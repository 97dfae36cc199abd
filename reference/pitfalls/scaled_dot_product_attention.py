import numpy as np


def _sdpa(q, k, v, *, scale="d_k", softmax_axis=-1, scale_after=False):
    """The reference with one detail changed."""
    q, k, v = (np.asarray(a, np.float64) for a in (q, k, v))
    s = q @ np.swapaxes(k, -1, -2)
    factor = {"d_k": np.sqrt(q.shape[-1]), "d_v": np.sqrt(v.shape[-1]), "none": 1.0, "d_k_not_sqrt": q.shape[-1]}[scale]
    if not scale_after:
        s = s / factor
    w = np.exp(s - s.max(axis=softmax_axis, keepdims=True))
    w = w / w.sum(axis=softmax_axis, keepdims=True)
    return (w / factor if scale_after else w) @ v


PITFALLS = {
    "no_scale": (
        "Your output matches attention without the 1/sqrt(d_k) scale on the scores.",
        lambda q, k, v: _sdpa(q, k, v, scale="none"),
    ),
    "scale_d_v": (
        "Your output matches scores scaled by 1/sqrt(d_v): the scale uses the width of the queries and keys, d_k.",
        lambda q, k, v: _sdpa(q, k, v, scale="d_v"),
    ),
    "scale_not_sqrt": (
        "Your output matches scores divided by d_k instead of sqrt(d_k).",
        lambda q, k, v: _sdpa(q, k, v, scale="d_k_not_sqrt"),
    ),
    "softmax_over_queries": (
        "Your output matches a softmax over the query axis: normalise over the keys, axis=-1.",
        lambda q, k, v: _sdpa(q, k, v, softmax_axis=-2),
    ),
    "scale_after_softmax": (
        "Your output matches scaling the weights after the softmax: scale the scores before it.",
        lambda q, k, v: _sdpa(q, k, v, scale_after=True),
    ),
}
