# Flax's parameters, the forward pass in jax.numpy.
import flax.linen as nn
import jax
import jax.numpy as jnp


def mha_self_attention(seed, x, num_heads, qkv_features):
    attn = nn.MultiHeadDotProductAttention(num_heads=int(num_heads), qkv_features=int(qkv_features))
    p = attn.init(jax.random.PRNGKey(int(seed)), x)["params"]
    q, k, v = (jnp.einsum("td,dhk->thk", x, p[n]["kernel"]) + p[n]["bias"] for n in ("query", "key", "value"))
    w = jax.nn.softmax(jnp.einsum("thk,shk->hts", q, k) / jnp.sqrt(q.shape[-1]), axis=-1)
    out = jnp.einsum("thk,hkd->td", jnp.einsum("hts,shk->thk", w, v), p["out"]["kernel"]) + p["out"]["bias"]
    return out.reshape(-1)
