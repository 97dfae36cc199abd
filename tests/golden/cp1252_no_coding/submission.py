import numpy as np


def cross_attention_mask(encoder_ids, decoder_len, pad_id=0):
    # 1.0 für echte Tokens, 0.0 für das Padding – sonst nichts
    keep = (np.asarray(encoder_ids) != pad_id).astype(np.float32)
    return np.repeat(keep[:, None, None, :], decoder_len, axis=2)
