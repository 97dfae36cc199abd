import numpy as np


def scaled_dot_product_attention(q, k, v):
    """softmax(q @ k^T / sqrt(d_k)) @ v, per head.

    Args:
        q: (H, T_q, d_k) queries.
        k: (H, T_k, d_k) keys.
        v: (H, T_k, d_v) values.

    Returns:
        (H, T_q, d_v) array.
    """
    raise NotImplementedError
