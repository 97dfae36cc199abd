import numpy as np


def cross_attention_mask(encoder_ids, decoder_len, pad_id=0):
    """The source padding mask for cross-attention.

    Args:
        encoder_ids: (N, S) int array of source token ids.
        decoder_len: int, number of decoder positions.
        pad_id: int, the padding id.

    Returns:
        (N, 1, decoder_len, S) float array: 1.0 where encoder_ids != pad_id, else 0.0.
    """
    raise NotImplementedError
