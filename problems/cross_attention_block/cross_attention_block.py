import numpy as np


def cross_attention_block(decoder_x, encoder_out, w_q, w_k, w_v, w_o, w_mlp1, w_mlp2, num_heads):
    """A post-LN cross-attention block: attention, residual, LayerNorm, GELU FFN, residual, LayerNorm.

    Args:
        decoder_x: (N, T_dec, d_model), the source of the queries and of the first residual.
        encoder_out: (N, T_enc, d_model), the source of the keys and values.
        w_q, w_k, w_v, w_o, w_mlp1, w_mlp2: (d_model, d_model) weights.
        num_heads: int, divides d_model.

    Returns:
        (N, T_dec, d_model) array.
    """
    raise NotImplementedError
