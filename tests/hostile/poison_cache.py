# Overwrites every expected output in the judge's cache with zeros (the path is set by the test), then
# returns zeros: if the judge trusted the cache, this would pass, and a correct answer would fail.
import os

import numpy as np

CACHE = "/nonexistent"
for folder, _, files in os.walk(CACHE):
    for name in files:
        if name.endswith(".npy"):
            path = os.path.join(folder, name)
            try:
                shape = np.load(path, allow_pickle=False).shape
            except Exception:
                shape = (2, 1, 5, 6)
            try:
                np.save(path, np.zeros(shape))
            except OSError:
                pass


def cross_attention_mask(encoder_ids, decoder_len, pad_id=0):
    return np.zeros((1,))
