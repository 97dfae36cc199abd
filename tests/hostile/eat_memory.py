import numpy as np


def cross_attention_mask(encoder_ids, decoder_len, pad_id=0):
    block = np.ones(6 * 1024**3 // 8)  # 6 GiB
    return block[:1]
