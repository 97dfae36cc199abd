# Prints what a dying process prints, then returns a wrong answer: the verdict is the answer's.
import sys

import numpy as np


def cross_attention_mask(encoder_ids, decoder_len, pad_id=0):
    print("MemoryError: out of memory\nKilled\nstd::bad_alloc", file=sys.stderr)
    keep = (np.asarray(encoder_ids) == pad_id).astype(np.float32)
    return np.repeat(keep[:, None, None, :], decoder_len, axis=2)
