import flax.linen as nn
import jax


def mha_self_attention(seed, x, num_heads, qkv_features):
    num_heads, qkv_features = int(num_heads), int(qkv_features)
    attn = nn.MultiHeadDotProductAttention(num_heads=num_heads, qkv_features=qkv_features)
    params = attn.init(jax.random.PRNGKey(seed), x)
    return attn.apply(params, x, x).reshape(-1)
