import numpy as np


def cross_attention_decode(decoder_x, encoder_out, w_q, w_k, w_v, w_o, num_heads):
    """Cross-attention for T_dec decoding steps, one step at a time, with an encoder K/V cache.

    Args:
        decoder_x: (N, T_dec, d_model), the decoder's state at each step.
        encoder_out: (N, T_enc, d_model), the encoder's output (the same at every step).
        w_q, w_k, w_v, w_o: (d_model, d_model) projections.
        num_heads: int, divides d_model.

    Returns:
        (N, T_dec, d_model): the output of each step, stacked along axis 1.
    """
    raise NotImplementedError
