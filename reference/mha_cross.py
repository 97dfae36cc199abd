import flax.linen as nn
import jax


def mha_cross(seed, x_q, x_kv, num_heads, qkv_features):
    attn = nn.MultiHeadDotProductAttention(num_heads=int(num_heads), qkv_features=int(qkv_features))
    params = attn.init(jax.random.PRNGKey(int(seed)), x_q, x_kv)
    return attn.apply(params, x_q, x_kv).reshape(-1)
