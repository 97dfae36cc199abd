# Adapted from NNX tutorial code (flax docs, "MNIST tutorial"-style layers): every nnx.Linear is given
# kernel_init=nnx.initializers.xavier_uniform(), where the spec keeps nnx.Linear's default.
# expect: mistakes xavier_uniform
import jax
import jax.numpy as jnp
from flax import nnx


class SelfAttention(nnx.Module):
    def __init__(self, d_model, num_heads, *, rngs):
        init = nnx.initializers.xavier_uniform()
        self.num_heads = num_heads
        self.q_proj = nnx.Linear(d_model, d_model, kernel_init=init, rngs=rngs)
        self.k_proj = nnx.Linear(d_model, d_model, kernel_init=init, rngs=rngs)
        self.v_proj = nnx.Linear(d_model, d_model, kernel_init=init, rngs=rngs)
        self.out_proj = nnx.Linear(d_model, d_model, kernel_init=init, rngs=rngs)

    def __call__(self, x):
        t, d = x.shape
        h = self.num_heads

        def split(y):
            return y.reshape(t, h, d // h).transpose(1, 0, 2)

        q, k, v = split(self.q_proj(x)), split(self.k_proj(x)), split(self.v_proj(x))
        w = jax.nn.softmax(q @ k.transpose(0, 2, 1) / jnp.sqrt(d // h), axis=-1)
        return self.out_proj((w @ v).transpose(1, 0, 2).reshape(t, d))


def mha_self(seed, x, num_heads, d_model):
    model = SelfAttention(int(d_model), int(num_heads), rngs=nnx.Rngs(int(seed)))
    return model(x).reshape(-1)
