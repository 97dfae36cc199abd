import flax.linen as nn
import jax
import jax.numpy as jnp


def mha_cross(seed, x_q, x_kv, num_heads, qkv_features):
    """Cross-attention with nn.MultiHeadDotProductAttention, flattened.

    Args:
        seed: int, seed of jax.random.PRNGKey for the parameter initialisation.
        x_q: (T_q, D_in) array, the query source.
        x_kv: (T_kv, D_in) array, the key/value source.
        num_heads: int, number of heads.
        qkv_features: int, total Q/K/V width over all heads.

    Returns:
        1-D array of T_q * D_in values.
    """
    raise NotImplementedError
