import flax.linen as nn
import jax
import jax.numpy as jnp


def mha_self_attention(seed, x, num_heads, qkv_features):
    """Self-attention with nn.MultiHeadDotProductAttention, flattened.

    Args:
        seed: int, seed of jax.random.PRNGKey for the parameter initialisation.
        x: (T, D_in) array.
        num_heads: number of heads (may arrive as a float: cast it).
        qkv_features: total Q/K/V width over all heads (may arrive as a float: cast it).

    Returns:
        1-D array of T * D_in values.
    """
    raise NotImplementedError
