import numpy as np


def cross_attention_mask(encoder_ids, decoder_len, pad_id=0):
    keep = (np.asarray(encoder_ids) != pad_id).astype(np.float32)  # (N, S)
    n, s = keep.shape
    return np.broadcast_to(keep[:, None, None, :], (n, 1, int(decoder_len), s)).copy()
