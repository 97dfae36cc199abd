# Six forked children each touch ~500 MB (3 GB in all) under a 2048 MB limit that each process alone respects.
import os
import time

import numpy as np


def cross_attention_mask(encoder_ids, decoder_len, pad_id=0):
    children = []
    for _ in range(6):
        pid = os.fork()
        if pid == 0:
            held = []
            for _ in range(50):  # 10 MB at a time: slow enough for a sampler to see it grow
                held.append(bytearray(10 * 1024 * 1024))
                for i in range(0, len(held[-1]), 4096):
                    held[-1][i] = 1
                time.sleep(0.02)
            time.sleep(6)
            os._exit(0)
        children.append(pid)
    for pid in children:
        os.waitpid(pid, 0)
    return np.zeros((encoder_ids.shape[0], 1, decoder_len, encoder_ids.shape[1]))
