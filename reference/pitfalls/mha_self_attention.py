import flax.linen as nn
import jax


def _flax(seed, x, num_heads, qkv_features):
    attn = nn.MultiHeadDotProductAttention(num_heads=int(num_heads), qkv_features=int(qkv_features))
    return attn.apply(attn.init(jax.random.PRNGKey(int(seed)), x), x).reshape(-1)


PITFALLS = {
    "fixed_seed": (
        "Your output matches parameters initialised with PRNGKey(0): initialise with jax.random.PRNGKey(seed).",
        lambda seed, x, num_heads, qkv_features: _flax(0, x, num_heads, qkv_features),
    ),
    "qkv_per_head": (
        "Your output matches qkv_features taken as the width of one head: it is the total width over all heads.",
        lambda seed, x, num_heads, qkv_features: _flax(seed, x, num_heads, int(qkv_features) * int(num_heads)),
    ),
    "heads_and_features_swapped": (
        "Your output matches num_heads and qkv_features passed the other way round.",
        lambda seed, x, num_heads, qkv_features: _flax(seed, x, int(qkv_features) // int(num_heads), qkv_features),
    ),
}
