import numpy as np


def cross_attention_all_masked(q, k, v, decoder_ids, encoder_ids, pad_id=0):
    """Masked cross-attention where a padded decoder position sees no key: its output is 0, never NaN.

    Args:
        q: (N, H, T_dec, d_head) queries, one per decoder position and head.
        k, v: (N, H, T_enc, d_head) keys and values, one per encoder position and head.
        decoder_ids: (N, T_dec) int array of target token ids.
        encoder_ids: (N, T_enc) int array of source token ids.
        pad_id: int, the padding id of both.

    Returns:
        (N, H, T_dec, d_head) array with no NaN.
    """
    raise NotImplementedError
