"""judge: grades learners' JAX, Flax and NumPy functions against trusted references.

The library API; the `judge` command line wraps these functions.

Example:
    >>> from grader import grade
    >>> grade("cross_attention_mask", "cross_attention_mask.py").passed
    True
"""

from grader.errors import ProblemError, UnknownProblem, UsageError
from grader.grade import grade
from grader.models import Limits, Result, Status
from grader.problems import load_problem, problem_ids

__all__ = ["grade", "load_problem", "problem_ids", "Limits", "Result", "Status", "UsageError", "UnknownProblem",
           "ProblemError"]
