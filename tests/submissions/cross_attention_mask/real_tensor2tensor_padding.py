# Adapted from tensorflow/tensor2tensor (layers/common_attention.py, embedding_to_padding and
# attention_bias_ignore_padding), in NumPy: t2t marks the padding (1.0 where the id is 0), and its padding id
# is always 0. Used as a mask of the tokens to keep, that is inverted and ignores pad_id.
# expect: mistakes inverted pad_id_ignored
import numpy as np


def ids_to_padding(ids):
    return np.equal(ids, 0).astype(np.float32)


def cross_attention_mask(encoder_ids, decoder_len, pad_id=0):
    memory_padding = ids_to_padding(np.asarray(encoder_ids))  # (N, S)
    mask = memory_padding[:, None, None, :]
    return np.tile(mask, (1, 1, int(decoder_len), 1))
