"""Hidden cases: drawn from a problem's `space`, deterministic given a secret, each one telling the reference
from every known mistake."""

from __future__ import annotations

import hashlib
from collections import Counter

import numpy as np

from grader.model.errors import ProblemError
from grader.model.problem import Case, Problem
from grader.sets.inputs import check_case
from grader.sets.mistakes import undetected_mistakes
from grader.sets.store import ProblemSet

HIDDEN_DRAWS = 200  # draws tried for one hidden case before the space is judged unable to give one


def hidden_cases(problem: Problem, source: ProblemSet, secret: str, count: int = 3) -> list[Case]:
    """Cases nobody has seen, drawn from the problem's `space`, deterministic given the secret.

    A draw on which some known mistake gives the reference's output within tolerance is drawn again
    (from the same secret's stream), so every hidden case tells the reference from every known mistake.
    Drawn once per set and secret.
    """
    key = ("hidden", problem.id, problem.meta.version, secret, count)
    memo = source.memo()
    if key not in memo:
        memo[key] = draw_hidden(problem, source, secret, count)
    return list(memo[key])


def grading_cases(problem: Problem, source: ProblemSet, secret: str | None) -> list[Case]:
    """The cases a grading runs: the public ones, then the hidden ones when a secret is given."""
    return list(problem.cases) + (hidden_cases(problem, source, secret) if secret else [])


def draw_hidden(
    problem: Problem, source: ProblemSet, secret: str, count: int, redrawn: Counter[str] | None = None
) -> tuple[Case, ...]:
    """`hidden_cases` without the memo; `redrawn` counts, per known mistake, the draws it made fail."""
    space = problem.meta.space
    digest = hashlib.sha256(f"{secret}\0{problem.id}\0{problem.meta.version}".encode()).digest()
    rng = np.random.default_rng(int.from_bytes(digest[:8], "little"))
    pick = lambda choices: {k: v[int(rng.integers(len(v)))] for k, v in choices.items()}  # noqa: E731
    where = f"{problem.folder / 'problem.json'}: space"
    cases: list[Case] = []
    for i in range(count):
        blind: list[str] = []
        for _ in range(HIDDEN_DRAWS):
            dims, values, scales = pick(space.dims), pick(space.values), pick(space.scales)
            both = {**dims, **values}
            if not all(both[a] % both[b] == 0 for a, b in space.divisible):
                continue
            case = Case(
                name=f"hidden {i + 1}",
                seed=int(rng.integers(1, 2**31)),
                dims=dims,
                values=values,
                scales=scales,
                hidden=True,
            )
            try:
                check_case(problem.meta, case)
            except ValueError as e:
                raise ProblemError(f"{where}: {e}") from None
            blind = undetected_mistakes(problem, source, case)
            if redrawn is not None:
                redrawn.update(blind)
            if not blind:
                cases.append(case)
                break
        else:
            why = (
                f"known mistake {blind[0]!r} matches the reference"
                if blind
                else "no draw meets its divisible constraints"
            )
            raise ProblemError(f"{where}: {HIDDEN_DRAWS} draws gave no hidden case: {why}; widen the space")
    return tuple(cases)
