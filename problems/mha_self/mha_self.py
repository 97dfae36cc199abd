import jax
import jax.numpy as jnp
from flax import nnx


def mha_self(seed, x, num_heads, d_model):
    """Multi-head self-attention built from four nnx.Linear layers, flattened.

    Args:
        seed: seed of nnx.Rngs (a float holding an int).
        x: (T, d_model) array.
        num_heads: number of heads (a float holding an int).
        d_model: model width (a float holding an int).

    Returns:
        1-D array of T * d_model values.
    """
    raise NotImplementedError
