# Looks for the reference, the cases, the judge, the checkout and the home directory.
import os

import numpy as np

CHECKOUT = "/nonexistent"  # the test puts the judge's checkout path here
FOUND = []
for name in ("reference", "reference.cross_attention_mask", "grader", "problems"):
    try:
        __import__(name)
        FOUND.append("import " + name)
    except ImportError:
        pass
import sys

for path in (CHECKOUT, "/root", "/home", os.path.expanduser("~/.cache/judge")):
    # The Python runtime may live under a home directory; nothing else of it may show.
    entries = [e for e in os.listdir(path) if not sys.prefix.startswith(os.path.join(path, e))] if os.path.isdir(path) else []
    if entries:
        FOUND.append(f"{path}: {entries[:3]}")
for dirpath, dirnames, filenames in os.walk("/"):
    if dirpath.startswith(("/proc", "/sys", "/dev")):
        dirnames[:] = []
        continue
    for d in dirnames:
        if d.startswith("judge") and os.listdir(os.path.join(dirpath, d)):
            FOUND.append(os.path.join(dirpath, d))
    for f in filenames:
        path = os.path.join(dirpath, f)
        if path.endswith(("grader/grading.py", "grader/worker.py", "reference/mha_cross.py", "/cases.json",
                          "/problem.json")) or (
                f == "cross_attention_mask.py" and path != os.path.abspath(__file__)):
            FOUND.append(path)


def cross_attention_mask(encoder_ids, decoder_len, pad_id=0):
    if FOUND:
        raise RuntimeError("FOUND " + " ".join(FOUND[:8]))
    return np.zeros(1)
