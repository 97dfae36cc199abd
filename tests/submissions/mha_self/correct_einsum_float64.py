# The four layers from NNX, the arithmetic in float64 NumPy einsums.
import numpy as np
from flax import nnx


def mha_self(seed, x, num_heads, d_model):
    d, h = int(d_model), int(num_heads)
    rngs = nnx.Rngs(int(seed))
    layers = [nnx.Linear(d, d, rngs=rngs) for _ in range(4)]  # q, k, v, out, in that order
    w = [(np.asarray(l.kernel[...], np.float64), np.asarray(l.bias[...], np.float64)) for l in layers]
    x = np.asarray(x, np.float64)
    q, k, v = ((x @ wk + b).reshape(len(x), h, d // h) for wk, b in w[:3])
    s = np.einsum("qhd,khd->hqk", q, k) / np.sqrt(d // h)
    a = np.exp(s - s.max(-1, keepdims=True))
    a /= a.sum(-1, keepdims=True)
    merged = np.einsum("hqk,khd->qhd", a, v).reshape(len(x), d)
    return (merged @ w[3][0] + w[3][1]).ravel()
