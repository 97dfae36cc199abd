import numpy as np


def _decode(
    decoder_x,
    encoder_out,
    w_q,
    w_k,
    w_v,
    w_o,
    num_heads,
    *,
    kv_source="encoder",
    stale_query=False,
    causal=False,
    scale=True,
    out_proj=True,
):
    """The reference decoding loop with one detail changed."""
    x, enc, w_q, w_k, w_v, w_o = (np.asarray(a, np.float64) for a in (decoder_x, encoder_out, w_q, w_k, w_v, w_o))
    h = int(num_heads)
    n, t_dec, d = x.shape

    def heads(y):
        return y.reshape(y.shape[0], y.shape[1], h, d // h).transpose(0, 2, 1, 3)

    src = enc if kv_source == "encoder" else x
    k_cache, v_cache = heads(src @ w_k), heads(src @ w_v)
    steps = []
    for t in range(t_dec):
        q = heads(x[:, (0 if stale_query else t) :][:, :1] @ w_q)
        s = q @ k_cache.transpose(0, 1, 3, 2)
        if scale:
            s = s / np.sqrt(d // h)
        if causal:
            s = np.where(np.arange(s.shape[-1]) <= t, s, -np.inf)
        w = np.exp(s - s.max(-1, keepdims=True))
        ctx = ((w / w.sum(-1, keepdims=True)) @ v_cache).transpose(0, 2, 1, 3).reshape(n, 1, d)
        steps.append(ctx @ w_o if out_proj else ctx)
    return np.concatenate(steps, axis=1)


PITFALLS = {
    "stale_query": (
        "Your output matches reusing the first step's query at every step: cache the encoder's keys and values, "
        "never the decoder's query.",
        lambda *a: _decode(*a, stale_query=True),
    ),
    "cache_from_decoder": (
        "Your output matches keys and values projected from decoder_x: the cache holds projections of encoder_out.",
        lambda *a: _decode(*a, kv_source="decoder"),
    ),
    "causal_over_source": (
        "Your output matches step t attending only to encoder positions up to t: cross-attention sees the whole "
        "source at every step.",
        lambda *a: _decode(*a, causal=True),
    ),
    "k_v_swapped": (
        "Your output matches w_k and w_v swapped: the key cache is encoder_out @ w_k, the value cache encoder_out @ w_v.",
        lambda x, e, wq, wk, wv, wo, h: _decode(x, e, wq, wv, wk, wo, h),
    ),
    "no_scale": (
        "Your output matches attention without the 1/sqrt(d_head) scale on the scores.",
        lambda *a: _decode(*a, scale=False),
    ),
    "no_out_proj": (
        "Your output matches the merged heads without the output projection w_o.",
        lambda *a: _decode(*a, out_proj=False),
    ),
}
