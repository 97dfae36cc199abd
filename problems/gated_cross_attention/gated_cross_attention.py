import numpy as np


def gated_cross_attention(decoder_x, encoder_out, w_q, w_k, w_v, w_o, num_heads, gate=None):
    """Multi-head cross-attention added to decoder_x through a tanh gate.

    Args:
        decoder_x: (N, T_dec, d_model), the source of the queries and the residual.
        encoder_out: (N, T_enc, d_model), the source of the keys and values.
        w_q, w_k, w_v, w_o: (d_model, d_model) weights.
        num_heads: int, divides d_model.
        gate: float, the learned gate parameter; None for a freshly initialised layer (the spec says
            what value the gate starts from).

    Returns:
        (N, T_dec, d_model) array.
    """
    raise NotImplementedError
