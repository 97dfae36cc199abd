"""Known mistakes on a case: does an output pass as another, and which mistakes pass as the reference."""

from __future__ import annotations

import numpy as np

from grader.model.compare import compare
from grader.model.problem import Case, Problem
from grader.sets.inputs import make_inputs
from grader.sets.store import ProblemSet


def passes_as(problem: Problem, got: np.ndarray | None, want: np.ndarray) -> bool:
    """Whether `got` passes as `want` under the problem's tolerance; None (a mistake that could not run) never does."""
    return got is not None and compare(got, want, problem.meta.tolerance, exact_shape=problem.meta.exact_shape).passed


def undetected_mistakes(
    problem: Problem,
    source: ProblemSet,
    case: Case,
    inputs: dict[str, object] | None = None,
    expected: np.ndarray | None = None,
    *,
    strict: bool = False,
) -> list[str]:
    """The known mistakes whose output on this case passes as the reference's. A mistake whose code raises on the
    case has no output, so it passes as nothing; with `strict` it raises ProblemError instead (`judge check`).

    `inputs` and `expected` are the case's, computed here when not given.
    """
    inputs = make_inputs(problem.meta, case) if inputs is None else inputs
    expected = source.expected_output(problem, case, inputs) if expected is None else expected
    return [
        name
        for name in source.pitfall_messages(problem)
        if not (case.hidden and name in problem.meta.space.public_only)
        and passes_as(problem, source.pitfall_output(problem, name, case, inputs, strict=strict), expected)
    ]
