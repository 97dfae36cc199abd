# Adapted from google-research/vision_transformer (vit_jax/models_vit.py, Encoder1DBlock): the attention is
# built with xavier_uniform kernels and no qkv_features, so its width is the input's.
# expect: mistakes xavier_uniform qkv_features_omitted
import flax.linen as nn
import jax


def mha_self_attention(seed, x, num_heads, qkv_features):
    attn = nn.MultiHeadDotProductAttention(
        num_heads=int(num_heads),
        kernel_init=nn.initializers.xavier_uniform(),
        broadcast_dropout=False,
        deterministic=True,
        dropout_rate=0.0,
    )
    params = attn.init(jax.random.PRNGKey(int(seed)), x)
    return attn.apply(params, x).reshape(-1)
