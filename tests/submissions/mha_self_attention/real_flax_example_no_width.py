# Adapted from the Flax examples (examples/wmt/models.py, Encoder1DBlock): qkv_features comes from a config
# field that here was never set, so the module's width defaults to the input's.
# expect: mistakes qkv_features_omitted
import flax.linen as nn
import jax


def mha_self_attention(seed, x, num_heads, qkv_features):
    config = {"num_heads": int(num_heads)}  # qkv_dim forgotten
    attn = nn.MultiHeadDotProductAttention(num_heads=config["num_heads"], qkv_features=config.get("qkv_dim"))
    params = attn.init(jax.random.PRNGKey(int(seed)), x)
    return attn.apply(params, x).reshape(-1)
