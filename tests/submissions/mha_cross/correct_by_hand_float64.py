# Flax's parameters, with the forward pass written out in float64 NumPy einsums.
import flax.linen as nn
import jax
import numpy as np


def mha_cross(seed, x_q, x_kv, num_heads, qkv_features):
    attn = nn.MultiHeadDotProductAttention(num_heads=num_heads, qkv_features=qkv_features)
    p = attn.init(jax.random.PRNGKey(seed), x_q, x_kv)["params"]
    p = jax.tree.map(lambda a: np.asarray(a, dtype=np.float64), p)
    q = np.einsum("td,dhk->thk", x_q, p["query"]["kernel"]) + p["query"]["bias"]
    k = np.einsum("sd,dhk->shk", x_kv, p["key"]["kernel"]) + p["key"]["bias"]
    v = np.einsum("sd,dhk->shk", x_kv, p["value"]["kernel"]) + p["value"]["bias"]
    scores = np.einsum("thk,shk->hts", q, k) / np.sqrt(q.shape[-1])
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights /= weights.sum(axis=-1, keepdims=True)
    heads = np.einsum("hts,shk->thk", weights, v)
    out = np.einsum("thk,hkd->td", heads, p["out"]["kernel"]) + p["out"]["bias"]
    return out.ravel()
