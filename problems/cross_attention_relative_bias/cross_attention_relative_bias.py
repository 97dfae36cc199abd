import numpy as np


def cross_attention_relative_bias(decoder_x, encoder_out, w_q, w_k, w_v, w_o, rel_bias, num_heads):
    """Multi-head cross-attention with a learned relative position bias added to the scores.

    Args:
        decoder_x: (N, T_dec, d_model), the source of the queries.
        encoder_out: (N, T_enc, d_model), the source of the keys and values.
        w_q, w_k, w_v, w_o: (d_model, d_model) weights.
        rel_bias: (num_heads, 2 * max_distance + 1), one bias per head and clipped relative position.
        num_heads: int, divides d_model.

    Returns:
        (N, T_dec, d_model) array.
    """
    raise NotImplementedError
