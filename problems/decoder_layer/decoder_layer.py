import numpy as np


def decoder_layer(x, encoder_out, self_w_q, self_w_k, self_w_v, self_w_o, cross_w_q, cross_w_k, cross_w_v,
                  cross_w_o, w_mlp1, w_mlp2, num_heads):
    """A post-LN decoder layer: masked self-attention, cross-attention, GELU feed-forward.

    Args:
        x: (N, T, d_model), the decoder's input.
        encoder_out: (N, S, d_model), the encoder's output.
        self_w_q, self_w_k, self_w_v, self_w_o: (d_model, d_model), the self-attention's projections.
        cross_w_q, cross_w_k, cross_w_v, cross_w_o: (d_model, d_model), the cross-attention's projections.
        w_mlp1, w_mlp2: (d_model, d_model), the feed-forward's weights.
        num_heads: int, divides d_model.

    Returns:
        (N, T, d_model) array.
    """
    raise NotImplementedError
