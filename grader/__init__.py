"""judge: grades learners' JAX, Flax and NumPy functions against trusted references.

The library API (grader/api.py; the `judge` command line wraps these functions) and its data. A class is graded
with `grader.api.batch` (`grader.batch` is the package that does it).

Example:
    >>> from grader import grade
    >>> grade("cross_attention_mask", "cross_attention_mask.py").passed
    True
"""

import importlib

_HOME = {
    "grade": "grader.api",
    "check_function": "grader.api",
    "hint_text": "grader.api",
    "gradescope": "grader.api",
    "release": "grader.api",
    "autograder": "grader.api",
    "Context": "grader.context",
    "CheckResult": "grader.grading.in_notebook",
    "Limits": "grader.model.problem",
    "Result": "grader.model.verdict",
    "Status": "grader.model.verdict",
    "JudgeError": "grader.model.errors",
    "UsageError": "grader.model.errors",
    "UnknownProblem": "grader.model.errors",
    "ProblemError": "grader.model.errors",
}
__all__ = list(_HOME)


def __getattr__(name: str):
    # Imported on first use: the command line starts the sandbox before it loads numpy and pydantic.
    if name in _HOME:
        return getattr(importlib.import_module(_HOME[name]), name)
    raise AttributeError(f"module 'grader' has no attribute {name!r}")
