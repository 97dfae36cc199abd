import jax
import jax.numpy as jnp
from flax import nnx


class MHA(nnx.Module):
    def __init__(self, d_model: int, num_heads: int, rngs: nnx.Rngs):
        self.num_heads = num_heads
        self.head_dim = d_model // num_heads
        # The creation order fixes which random draw each projection gets.
        self.q_proj = nnx.Linear(d_model, d_model, rngs=rngs)
        self.k_proj = nnx.Linear(d_model, d_model, rngs=rngs)
        self.v_proj = nnx.Linear(d_model, d_model, rngs=rngs)
        self.out_proj = nnx.Linear(d_model, d_model, rngs=rngs)

    def __call__(self, x):
        t = x.shape[0]
        h, dh = self.num_heads, self.head_dim
        q = self.q_proj(x).reshape(t, h, dh).transpose(1, 0, 2)
        k = self.k_proj(x).reshape(t, h, dh).transpose(1, 0, 2)
        v = self.v_proj(x).reshape(t, h, dh).transpose(1, 0, 2)
        weights = jax.nn.softmax(q @ k.transpose(0, 2, 1) / jnp.sqrt(dh), axis=-1)
        concat = (weights @ v).transpose(1, 0, 2).reshape(t, h * dh)
        return self.out_proj(concat)


def mha_self(seed, x, num_heads, d_model):
    model = MHA(int(d_model), int(num_heads), nnx.Rngs(int(seed)))
    return model(x).reshape(-1)
