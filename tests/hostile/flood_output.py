# Prints tens of megabytes, then returns the right answer.
import sys

import numpy as np

sys.stdout.write("x" * 20_000_000)
sys.stderr.write("y" * 20_000_000)


def cross_attention_mask(encoder_ids, decoder_len, pad_id=0):
    print("z" * 5_000_000)
    keep = (np.asarray(encoder_ids) != pad_id).astype(np.float32)
    return np.repeat(keep[:, None, None, :], decoder_len, axis=2)
