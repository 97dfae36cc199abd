import jax
import jax.numpy as jnp
from flax import nnx


class MHA(nnx.Module):
    def __init__(self, d_model, num_heads, rngs):
        assert d_model % num_heads == 0
        self.num_heads = num_heads
        self.head_dim = d_model // num_heads
        self.q_proj = nnx.Linear(d_model, d_model, rngs=rngs)
        self.k_proj = nnx.Linear(d_model, d_model, rngs=rngs)
        self.v_proj = nnx.Linear(d_model, d_model, rngs=rngs)
        self.out_proj = nnx.Linear(d_model, d_model, rngs=rngs)

    def __call__(self, x):
        t, _ = x.shape
        h, dh = self.num_heads, self.head_dim
        q = self.q_proj(x).reshape(t, h, dh).transpose(1, 0, 2)
        k = self.k_proj(x).reshape(t, h, dh).transpose(1, 0, 2)
        v = self.v_proj(x).reshape(t, h, dh).transpose(1, 0, 2)
        weights = jax.nn.softmax(jnp.matmul(q, k.transpose(0, 2, 1)) / jnp.sqrt(dh), axis=-1)
        return self.out_proj(jnp.matmul(weights, v).transpose(1, 0, 2).reshape(t, h * dh))


def mha_self(seed, x, num_heads, d_model):
    return MHA(int(d_model), int(num_heads), nnx.Rngs(int(seed)))(x).reshape(-1)
