import flax.linen as nn
import jax
import numpy as np


def _flax(seed, q_src, kv_src, num_heads, qkv_features, **module):
    """The module on these inputs, built with these keywords (qkv_features None: left out)."""
    width = None if qkv_features is None else int(qkv_features)
    attn = nn.MultiHeadDotProductAttention(num_heads=int(num_heads), qkv_features=width, **module)
    args = (q_src,) if kv_src is None else (q_src, kv_src)
    return attn.apply(attn.init(jax.random.PRNGKey(int(seed)), *args), *args).reshape(-1)


def _width_omitted(seed, x_q, x_kv, num_heads, qkv_features, **module):
    """qkv_features left out: the width is x_q's last axis. Where the heads do not divide it, that code raises:
    an empty output, which no answer of the right size matches."""
    if x_q.shape[-1] % int(num_heads):
        return np.zeros(0)
    return _flax(seed, x_q, x_kv, num_heads, None, **module)


XAVIER = nn.initializers.xavier_uniform()


def _softmax(s, axis):
    e = np.exp(s - s.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _by_hand(seed, x_q, x_kv, num_heads, qkv_features, *, softmax_axis=-1, scale=True, out_proj=True):
    """Flax's own parameters with the forward pass written out, one detail changed."""
    attn = nn.MultiHeadDotProductAttention(num_heads=int(num_heads), qkv_features=int(qkv_features))
    p = jax.tree.map(lambda a: np.asarray(a, np.float64), attn.init(jax.random.PRNGKey(int(seed)), x_q, x_kv)["params"])
    proj = lambda x, name: np.einsum("td,dhk->thk", np.asarray(x, np.float64), p[name]["kernel"]) + p[name]["bias"]  # noqa: E731
    q, k, v = proj(x_q, "query"), proj(x_kv, "key"), proj(x_kv, "value")
    scores = np.einsum("qhk,shk->hqs", q, k)
    if scale:
        scores = scores / np.sqrt(q.shape[-1])
    heads = np.einsum("hqs,shk->qhk", _softmax(scores, softmax_axis), v)
    if not out_proj:
        return heads.reshape(-1)
    return (np.einsum("qhk,hkd->qd", heads, p["out"]["kernel"]) + p["out"]["bias"]).reshape(-1)


PITFALLS = {
    "swapped_inputs": (
        "Your output matches calling the module with x_q and x_kv swapped: the first argument is the query source.",
        lambda seed, x_q, x_kv, num_heads, qkv_features: _flax(seed, x_kv, x_q, num_heads, qkv_features),
    ),
    "self_attention": (
        "Your output matches self-attention on x_q alone: cross-attention takes its keys and values from x_kv.",
        lambda seed, x_q, x_kv, num_heads, qkv_features: _flax(seed, x_q, None, num_heads, qkv_features),
    ),
    "fixed_seed": (
        "Your output matches parameters initialised with PRNGKey(0): initialise with jax.random.PRNGKey(seed).",
        lambda seed, x_q, x_kv, num_heads, qkv_features: _flax(0, x_q, x_kv, num_heads, qkv_features),
    ),
    "qkv_per_head": (
        "Your output matches qkv_features taken as the width of one head: it is the total width over all heads.",
        lambda seed, x_q, x_kv, num_heads, qkv_features: _flax(
            seed, x_q, x_kv, num_heads, int(qkv_features) * int(num_heads)
        ),
    ),
    "softmax_over_queries": (
        "Your output matches a softmax over the query axis: normalise over the keys (the last axis of the scores).",
        lambda *a: _by_hand(*a, softmax_axis=-2),
    ),
    "no_scale": (
        "Your output matches attention without the 1/sqrt(head_dim) scale on the scores.",
        lambda *a: _by_hand(*a, scale=False),
    ),
    "no_out_proj": (
        "Your output matches the concatenated heads without the output projection.",
        lambda *a: _by_hand(*a, out_proj=False),
    ),
    "xavier_uniform": (
        "Your output matches kernels initialised with xavier_uniform (glorot), as ViT's and big_vision's MAP "
        "heads do: keep the module's default kernel_init.",
        lambda seed, x_q, x_kv, num_heads, qkv_features: _flax(
            seed, x_q, x_kv, num_heads, qkv_features, kernel_init=XAVIER
        ),
    ),
    "kernels_ones": (
        "Your output matches every kernel fixed to ones (kernel_init=initializers.ones, as in library tests): keep "
        "the default kernel_init, which draws the kernels from the PRNG key.",
        lambda seed, x_q, x_kv, num_heads, qkv_features: _flax(
            seed, x_q, x_kv, num_heads, qkv_features, kernel_init=nn.initializers.ones
        ),
    ),
    "qkv_features_omitted": (
        "Your output matches qkv_features left out, so the width defaults to x_q's last axis: pass "
        "qkv_features=int(qkv_features).",
        lambda *a: _width_omitted(*a),
    ),
}

# Mistakes made together in real code, named together: big_vision's MAP head (xavier kernels, no qkv_features).
COMBINED = {
    ("xavier_uniform", "qkv_features_omitted"): lambda *a: _width_omitted(*a, kernel_init=XAVIER),
}
