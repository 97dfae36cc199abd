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

# The Python runtime (a venv, its base interpreter, their site-packages) may live anywhere, under a home
# directory or inside the judge's checkout: the folders leading to it show, and nothing else of them.
RUNTIME = [os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, *sys.path) if p]


def leads_to_runtime(path):
    return any(r == path or r.startswith(path + os.sep) for r in RUNTIME)


def listing(path):
    """What can be read of a folder (where Landlock confines the learner, a folder may exist but not be readable)."""
    try:
        return os.listdir(path)
    except OSError:
        return []


for path in (CHECKOUT, "/root", "/home", os.path.expanduser("~/.cache/judge")):
    entries = [e for e in listing(path) if not leads_to_runtime(os.path.join(path, e))]
    if entries:
        FOUND.append(f"{path}: {entries[:3]}")
for dirpath, dirnames, filenames in os.walk("/"):
    if dirpath.startswith(("/proc", "/sys", "/dev")):
        dirnames[:] = []
        continue
    for d in dirnames:
        path = os.path.join(dirpath, d)
        if d.startswith("judge") and not leads_to_runtime(path) and listing(path):
            FOUND.append(path)
    for f in filenames:
        path = os.path.join(dirpath, f)
        if path.endswith(("grader/grading/pipeline.py", "grader/child/worker.py", "reference/mha_cross.py", "/cases.json",
                          "/problem.json")) or (
                f == "cross_attention_mask.py" and path != os.path.abspath(__file__)):
            FOUND.append(path)


def cross_attention_mask(encoder_ids, decoder_len, pad_id=0):
    if FOUND:
        raise RuntimeError("FOUND " + " ".join(FOUND[:8]))
    return np.zeros(1)
