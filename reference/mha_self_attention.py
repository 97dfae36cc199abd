import flax.linen as nn
import jax


def mha_self_attention(seed, x, num_heads, qkv_features):
    attn = nn.MultiHeadDotProductAttention(num_heads=int(num_heads), qkv_features=int(qkv_features))
    params = attn.init(jax.random.PRNGKey(int(seed)), x)
    return attn.apply(params, x).reshape(-1)
