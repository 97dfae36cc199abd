"""What a learner's own script costs: import the submission, call it on every case's inputs.

Usage: python bench/plain_call.py INPUTS.npz SUBMISSION.py FUNCTION
"""

import importlib.util
import json
import sys

import numpy as np

inputs_path, submission, function = sys.argv[1:4]
with np.load(inputs_path) as npz:
    arrays = {k: npz[k] for k in npz.files}
scalars = json.loads(arrays.pop("__scalars__").tobytes())
spec = importlib.util.spec_from_file_location("submission", submission)
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
fn = getattr(module, function)
for i, case_scalars in enumerate(scalars):
    kwargs = dict(case_scalars)
    kwargs.update({k.split(".", 1)[1]: v for k, v in arrays.items() if k.startswith(f"{i}.")})
    np.asarray(fn(**kwargs))
