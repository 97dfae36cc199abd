"""Known mistakes on a case: does an output pass as another, and which mistakes pass as the reference."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from grader.sets.inputs import make_inputs
from grader.model.compare import compare

if TYPE_CHECKING:
    from grader.model.problem import Case
    from grader.sets.problems import Problem


def passes_as(problem: Problem, got: np.ndarray | None, want: np.ndarray) -> bool:
    """Whether `got` passes as `want` under the problem's tolerance; None (a mistake that could not run) never does."""
    return got is not None and compare(got, want, problem.meta.tolerance, exact_shape=problem.meta.exact_shape).passed


def undetected_mistakes(
    problem: Problem,
    case: Case,
    inputs: dict[str, object] | None = None,
    expected: np.ndarray | None = None,
) -> list[str]:
    """The known mistakes whose output on this case passes as the reference's (a mistake that raises is caught).

    `inputs` and `expected` are the case's, computed here when not given.
    """
    source = problem.set
    inputs = make_inputs(problem.meta, case) if inputs is None else inputs
    expected = source.expected_output(problem, case, inputs) if expected is None else expected
    return [
        name
        for name in source.pitfall_messages(problem)
        if not (case.hidden and name in problem.meta.space.public_only)
        and passes_as(problem, source.pitfall_output(problem, name, case, inputs), expected)
    ]
