# Adapted from Flax's own tests (tests/linen/linen_attention_test.py): the module is built with
# kernel_init=initializers.ones so that its output can be checked by hand.
# expect: mistakes kernels_ones
import flax.linen as nn
import jax
from flax.linen import initializers


def mha_cross(seed, x_q, x_kv, num_heads, qkv_features):
    module = nn.MultiHeadDotProductAttention(
        num_heads=int(num_heads),
        qkv_features=int(qkv_features),
        kernel_init=initializers.ones,
        bias_init=initializers.zeros,
        deterministic=False,
    )
    y, _ = module.init_with_output(jax.random.key(int(seed)), x_q, x_kv)
    return y.reshape(-1)
