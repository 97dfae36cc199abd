"""judge: grades learners' JAX, Flax and NumPy functions against trusted references.

The library API; the `judge` command line wraps these functions.

Example:
    >>> from grader import grade
    >>> grade("cross_attention_mask", "cross_attention_mask.py").passed
    True
"""

import importlib

_HOME = {
    "grade": "grader.grading",
    "load_problem": "grader.problems",
    "problem_ids": "grader.problems",
    "Limits": "grader.models",
    "Result": "grader.models",
    "Status": "grader.models",
    "UsageError": "grader.errors",
    "UnknownProblem": "grader.errors",
    "ProblemError": "grader.errors",
    "check_function": "grader.in_notebook",
    "CheckResult": "grader.in_notebook",
}
__all__ = list(_HOME)


def __getattr__(name: str):
    # Imported on first use: the command line starts the sandbox before it loads numpy and pydantic.
    if name in _HOME:
        return getattr(importlib.import_module(_HOME[name]), name)
    raise AttributeError(f"module 'grader' has no attribute {name!r}")
