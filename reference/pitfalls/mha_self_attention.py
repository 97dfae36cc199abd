import flax.linen as nn
import jax
import numpy as np


def _flax(seed, x, num_heads, qkv_features, **module):
    """The reference with the module built otherwise (`module`: its keywords)."""
    attn = nn.MultiHeadDotProductAttention(num_heads=int(num_heads), qkv_features=qkv_features, **module)
    return attn.apply(attn.init(jax.random.PRNGKey(int(seed)), x), x).reshape(-1)


def _width_omitted(seed, x, num_heads, qkv_features, **module):
    """qkv_features left out: the width is x's last axis. Where the heads do not divide it, that code raises:
    an empty output, which no answer of the right size matches."""
    if x.shape[-1] % int(num_heads):
        return np.zeros(0)
    return _flax(seed, x, num_heads, None, **module)


XAVIER = nn.initializers.xavier_uniform()

PITFALLS = {
    "fixed_seed": (
        "Your output matches parameters initialised with PRNGKey(0): initialise with jax.random.PRNGKey(seed).",
        lambda seed, x, num_heads, qkv_features: _flax(0, x, num_heads, int(qkv_features)),
    ),
    "qkv_per_head": (
        "Your output matches qkv_features taken as the width of one head: it is the total width over all heads.",
        lambda seed, x, num_heads, qkv_features: _flax(seed, x, num_heads, int(qkv_features) * int(num_heads)),
    ),
    "heads_and_features_swapped": (
        "Your output matches num_heads and qkv_features passed the other way round.",
        lambda seed, x, num_heads, qkv_features: _flax(seed, x, int(qkv_features) // int(num_heads), int(qkv_features)),
    ),
    "xavier_uniform": (
        "Your output matches kernels initialised with xavier_uniform (glorot), as ViT's code does: keep the "
        "module's default kernel_init.",
        lambda seed, x, num_heads, qkv_features: _flax(seed, x, num_heads, int(qkv_features), kernel_init=XAVIER),
    ),
    "kernels_ones": (
        "Your output matches every kernel fixed to ones (kernel_init=initializers.ones, as in library tests): keep "
        "the default kernel_init, which draws the kernels from the PRNG key.",
        lambda seed, x, num_heads, qkv_features: _flax(
            seed, x, num_heads, int(qkv_features), kernel_init=nn.initializers.ones
        ),
    ),
    "qkv_features_omitted": (
        "Your output matches qkv_features left out, so the width defaults to x's last axis: pass "
        "qkv_features=int(qkv_features).",
        lambda seed, x, num_heads, qkv_features: _width_omitted(seed, x, num_heads, qkv_features),
    ),
}

# Mistakes made together in real code, named together: ViT's encoder block (xavier kernels, no qkv_features).
COMBINED = {
    ("xavier_uniform", "qkv_features_omitted"): lambda seed, x, num_heads, qkv_features: _width_omitted(
        seed, x, num_heads, qkv_features, kernel_init=XAVIER
    ),
}
