# Leaves sleeping processes behind in new sessions; the test looks for TOKEN in every command line.
import subprocess
import sys

import numpy as np

TOKEN = "judge-orphan-token"


def cross_attention_mask(encoder_ids, decoder_len, pad_id=0):
    for _ in range(3):
        subprocess.Popen([sys.executable, "-c", f"import time  # {TOKEN}\ntime.sleep(30)"],
                         start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    keep = (np.asarray(encoder_ids) != pad_id).astype(np.float32)
    return np.repeat(keep[:, None, None, :], decoder_len, axis=2)
