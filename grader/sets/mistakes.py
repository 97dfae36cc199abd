"""Known mistakes on a case: does an output pass as another, and which mistakes pass as the reference."""

from __future__ import annotations

import numpy as np

from grader.model.compare import compare
from grader.model.problem import Case, Problem
from grader.sets.answers import COMBINE
from grader.sets.inputs import make_inputs
from grader.sets.store import ProblemSet


def passes_as(problem: Problem, got: np.ndarray | None, want: np.ndarray | None) -> bool:
    """Whether `got` passes as `want` under the problem's tolerance; None (a mistake that could not run) never does,
    nor does anything pass as it."""
    return (
        got is not None
        and want is not None
        and compare(got, want, problem.meta.tolerance, exact_shape=problem.meta.exact_shape).passed
    )


def mistake_names(problem: Problem, source: ProblemSet) -> list[str]:
    """Every known mistake's name, then every named combination's ("a+b"): what the cases must tell apart."""
    return [*source.pitfall_messages(problem), *(COMBINE.join(c) for c in source.pitfall_combinations(problem))]


def public_only(problem: Problem, name: str) -> bool:
    """Whether hidden cases need not catch this mistake: it, or a mistake of its combination, is declared so."""
    return any(part in problem.meta.space.public_only for part in name.split(COMBINE))


def undetected_mistakes(
    problem: Problem,
    source: ProblemSet,
    case: Case,
    inputs: dict[str, object] | None = None,
    expected: np.ndarray | None = None,
    *,
    strict: bool = False,
) -> list[str]:
    """The known mistakes (and named combinations) whose output on this case passes as the reference's. A mistake
    whose code raises on the case has no output, so it passes as nothing; with `strict` it raises ProblemError
    instead (`judge check`).

    `inputs` and `expected` are the case's, computed here when not given.
    """
    inputs = make_inputs(problem.meta, case) if inputs is None else inputs
    expected = source.expected_output(problem, case, inputs) if expected is None else expected
    return [
        name
        for name in mistake_names(problem, source)
        if not (case.hidden and public_only(problem, name))
        and passes_as(problem, source.pitfall_output(problem, name, case, inputs, strict=strict), expected)
    ]
