# Adapted from google-research/big_vision (big_vision/models/vit.py, MAPHead): the probe cross-attends to the
# tokens through an attention with xavier_uniform kernels and no qkv_features (its width is the query's).
# expect: mistakes xavier_uniform qkv_features_omitted
import flax.linen as nn
import jax


def mha_cross(seed, x_q, x_kv, num_heads, qkv_features):
    attn = nn.MultiHeadDotProductAttention(num_heads=int(num_heads), kernel_init=nn.initializers.xavier_uniform())
    probe, x = x_q, x_kv
    params = attn.init(jax.random.PRNGKey(int(seed)), probe, x)
    return attn.apply(params, probe, x).reshape(-1)
