"""Loading and validating problems, and asking the active problem set for their expected outputs.

A problem folder `problems/<id>/` holds `problem.json` (metadata, see
`models.ProblemMeta`), `cases.json`, `spec.md` and the stub `<id>.py`. Its
trusted solution is `reference/<id>.py`. Which set of problems, and where expected
outputs come from (the reference, or a learner kit's data), is `grader.problem_set`'s; the reference's
outputs and their cache are `grader.outputs`'s, case inputs `grader.cases`'s, hidden cases `grader.hidden`'s.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
from pydantic import BaseModel, ValidationError

from grader.sets import store as problem_set
from grader.sets.inputs import check_case
from grader.model.errors import ProblemError, UnknownProblem
from grader.sets.hidden import hidden_cases
from grader.model.problem import Case, CaseFile, ProblemMeta

# Read across the judge and its tests as problems.<name>; each lives in the module it is imported from.
# (A test points the built-in set elsewhere by patching problem_set.PROBLEMS_DIR, not this name.)
from grader.sets.inputs import make_inputs  # noqa: F401
from grader.sets.hidden import HIDDEN_DRAWS, draw_hidden  # noqa: F401
from grader.sets.mistakes import undetected_mistakes  # noqa: F401
from grader.sets.store import PROBLEMS_DIR, REFERENCE_DIR, ROOT  # noqa: F401
from grader.sets.answers import library_versions  # noqa: F401


@dataclass(frozen=True)
class Problem:
    meta: ProblemMeta
    cases: tuple[Case, ...]
    folder: Path
    source: problem_set.ProblemSet | None = None  # the set it was loaded from

    @property
    def id(self) -> str:
        return self.meta.id

    @property
    def spec_path(self) -> Path:
        return self.folder / "spec.md"

    @property
    def stub_path(self) -> Path:
        return self.folder / f"{self.id}.py"

    @property
    def reference_path(self) -> Path:
        return self.set.reference_path(self.id)

    @property
    def set(self) -> problem_set.ProblemSet:
        return self.source or problem_set.active()


def problem_ids() -> list[str]:
    return problem_set.active().problem_ids()


M = TypeVar("M", bound=BaseModel)


def _parse(model: type[M], path: Path) -> M:
    try:
        return model.model_validate_json(path.read_bytes())
    except FileNotFoundError:
        raise ProblemError(f"{path}: file is missing") from None
    except ValidationError as e:
        fields = "; ".join(f"{'.'.join(map(str, err['loc'])) or '(root)'}: {err['msg']}" for err in e.errors())
        raise ProblemError(f"{path}: {fields}") from None


def load_problem(problem_id: str) -> Problem:
    """Load and validate one problem of the active set; a malformed one raises ProblemError naming file and field."""
    return _load_problem(problem_set.active(), problem_id)


@functools.cache
def _load_problem(source: problem_set.ProblemSet, problem_id: str) -> Problem:
    valid = source.problem_ids()
    if problem_id not in valid:
        raise UnknownProblem(problem_id, valid)
    folder = source.problems_dir / problem_id
    meta = _parse(ProblemMeta, folder / "problem.json")
    if meta.id != problem_id:
        raise ProblemError(f"{folder / 'problem.json'}: id: {meta.id!r} differs from the folder name")
    cases = _parse(CaseFile, folder / "cases.json").cases
    for i, case in enumerate(cases):
        try:
            check_case(meta, case)
        except ValueError as e:
            raise ProblemError(f"{folder / 'cases.json'}: cases.{i} ({case.name}): {e}") from None
    for path in source.required_files(problem_id):
        if not path.is_file():
            raise ProblemError(f"{path}: file is missing")
    return Problem(meta, tuple(cases), folder, source)


load_problem.cache_clear = _load_problem.cache_clear  # type: ignore[attr-defined]


def grading_cases(problem: Problem, hidden_seed: str | None) -> list[Case]:
    """The cases a grading runs: the public ones, then the hidden ones when a secret is given."""
    return list(problem.cases) + (hidden_cases(problem, hidden_seed) if hidden_seed else [])


# ---------------------------------------------------------------- the active set's answers


def reference_digest(problem: Problem) -> str:
    """Changes whenever the expected outputs could (in a kit: whenever its released data does)."""
    return problem.set.reference_digest(problem)


def pitfalls_path(problem: Problem) -> Path:
    return problem.set.pitfalls_path(problem.id)


def pitfall_messages(problem: Problem) -> dict[str, str]:
    """Known mistakes of a problem: name -> the sentence a learner gets."""
    return problem.set.pitfall_messages(problem)


def warm_compile_cache(problem: Problem) -> None:
    problem.set.warm_compile_cache(problem)


def expected_output(problem: Problem, case: Case, inputs: dict[str, object]) -> np.ndarray:
    """The expected output of a case: the reference's, or in a learner kit the one computed at release."""
    return problem.set.expected_output(problem, case, inputs)


def pitfall_output(problem: Problem, name: str, case: Case, inputs: dict[str, object]) -> np.ndarray | None:
    """A known mistake's output on a case (None where the mistake cannot run on it)."""
    return problem.set.pitfall_output(problem, name, case, inputs)
