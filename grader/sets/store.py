"""Problem sets: where a set's files are, and where the expected outputs of its cases come from.

A problem set is a folder SET laid out like the judge's own:

    SET/problems/<id>/            problem.json, cases.json, spec.md, the stub <id>.py, any other public file
    SET/reference/<id>.py         the trusted solution (never shipped to learners)
    SET/reference/pitfalls/<id>.py   the known mistakes (never shipped to learners)

The built-in set is the judge's own `problems/` and `reference/`. Another one is chosen with
`judge --problems-dir SET ...` or `$JUDGE_PROBLEMS` (the option sets the variable, so the processes the
judge starts see the same set).

Grading asks a set two questions: "the expected output of this case" and "the known mistakes, and their
outputs on this case". A `SourceSet` answers them by running the reference (cached); a `KitSet`, what
`judge release` installs for learners, answers them from data computed at release time and holds no
reference or mistake code at all.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import site
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from grader.sets import answers as outputs
from grader.model.errors import ProblemError, UsageError

if TYPE_CHECKING:
    from grader.model.problem import Case
    from grader.sets.problems import Problem

ENV = "JUDGE_PROBLEMS"
KIT_MARKER = "kit.json"  # in the problems folder of a learner kit: its presence makes the install a kit
KIT_DATA = "released.npz"  # per problem folder in a kit: expected and mistake outputs on the public cases
KIT_INFO = "released.json"  # per problem folder in a kit: the mistakes' names and sentences, the cases' keys
LAYOUT = "SET/problems/<id>/problem.json, SET/reference/<id>.py, SET/reference/pitfalls/<id>.py"

# The installed set's folders (a test points them elsewhere with monkeypatch).
ROOT = Path(__file__).resolve().parents[2]
PROBLEMS_DIR = ROOT / "problems"
REFERENCE_DIR = ROOT / "reference"


class ProblemSet(Protocol):
    @property
    def problems_dir(self) -> Path: ...
    @property
    def kit(self) -> bool: ...

    def __hash__(self) -> int: ...  # loaded problems are cached per set

    def problem_ids(self) -> list[str]: ...
    def reference_path(self, problem_id: str) -> Path: ...
    def pitfalls_path(self, problem_id: str) -> Path: ...
    def required_files(self, problem_id: str) -> list[Path]: ...
    def expected_output(self, problem: Problem, case: Case, inputs: dict[str, object]) -> np.ndarray: ...
    def pitfall_messages(self, problem: Problem) -> dict[str, str]: ...
    def pitfall_output(
        self, problem: Problem, name: str, case: Case, inputs: dict[str, object]
    ) -> np.ndarray | None: ...
    def reference_digest(self, problem: Problem) -> str: ...
    def warm_compile_cache(self, problem: Problem) -> None: ...


def _ids(problems_dir: Path) -> list[str]:
    try:
        return sorted(p.name for p in problems_dir.iterdir() if (p / "problem.json").is_file())
    except OSError:
        return []


@dataclass(frozen=True)
class SourceSet:
    """A set with its references: the built-in one, or an instructor's. Outputs are computed, then cached."""

    problems_dir: Path
    reference_dir: Path
    kit = False

    def problem_ids(self) -> list[str]:
        return _ids(self.problems_dir)

    def reference_path(self, problem_id: str) -> Path:
        return self.reference_dir / f"{problem_id}.py"

    def pitfalls_path(self, problem_id: str) -> Path:
        return self.reference_dir / "pitfalls" / f"{problem_id}.py"

    def required_files(self, problem_id: str) -> list[Path]:
        folder = self.problems_dir / problem_id
        return [folder / "spec.md", folder / f"{problem_id}.py", self.reference_path(problem_id)]

    def expected_output(self, problem: Problem, case: Case, inputs: dict[str, object]) -> np.ndarray:
        return outputs.reference_output(problem, case, inputs)

    def pitfall_messages(self, problem: Problem) -> dict[str, str]:
        return outputs.reference_pitfall_messages(problem)

    def pitfall_output(self, problem: Problem, name: str, case: Case, inputs: dict[str, object]) -> np.ndarray | None:
        return outputs.reference_pitfall_output(problem, name, case, inputs)

    def reference_digest(self, problem: Problem) -> str:
        return outputs.reference_code_digest(problem)

    def warm_compile_cache(self, problem: Problem) -> None:
        outputs.reference_warm_compile_cache(problem)


def case_key(case: Case) -> str:
    """Names a case's data in a kit: changes whenever anything that defines the case changes."""
    return hashlib.sha256(case.model_dump_json().encode()).hexdigest()[:16]


@dataclass(frozen=True)
class KitSet:
    """A learner kit: the released problems, with the outputs `judge release` computed. No reference, no mistakes."""

    problems_dir: Path
    kit = True

    def problem_ids(self) -> list[str]:
        return _ids(self.problems_dir)

    def reference_path(self, problem_id: str) -> Path:
        raise UsageError("a learner kit holds no reference solutions: this needs the instructor's install")

    pitfalls_path = reference_path

    def required_files(self, problem_id: str) -> list[Path]:
        folder = self.problems_dir / problem_id
        return [folder / "spec.md", folder / f"{problem_id}.py", folder / KIT_DATA, folder / KIT_INFO]

    def _info(self, problem: Problem) -> dict:
        return _read_info(problem.folder / KIT_INFO)

    def _array(self, problem: Problem, key: str) -> np.ndarray | None:
        return _read_data(problem.folder / KIT_DATA).get(key)

    def expected_output(self, problem, case, inputs):
        out = self._array(problem, f"expected/{case_key(case)}")
        if out is None:
            raise ProblemError(
                f"{problem.folder / KIT_DATA}: no expected output for case {case.name!r}: a learner "
                "kit has those of its public cases only (hidden cases need the instructor's install)"
            )
        return out

    def pitfall_messages(self, problem):
        return {p["name"]: p["sentence"] for p in self._info(problem)["pitfalls"]}

    def pitfall_output(self, problem, name, case, inputs):
        return self._array(problem, f"pitfall/{name}/{case_key(case)}")

    def reference_digest(self, problem):
        h = hashlib.sha256((problem.folder / KIT_DATA).read_bytes())
        h.update((problem.folder / KIT_INFO).read_bytes())
        return h.hexdigest()

    def warm_compile_cache(self, problem):
        pass  # nothing of the judge's runs in a kit: there is no reference to compile


@functools.lru_cache(maxsize=64)
def _read_info(path: Path) -> dict:
    return json.loads(path.read_text())


@functools.lru_cache(maxsize=64)
def _read_data(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as npz:  # plain arrays only: a kit's data is never code
        return {k: npz[k] for k in npz.files}


def builtin_root() -> Path:
    return ROOT


def in_site_packages(path: Path) -> bool:
    """Whether the judge's own files are installed (not a checkout): `judge new` must not write there."""
    dirs = [*site.getsitepackages(), site.getusersitepackages()]
    return any(Path(d).resolve() == path.resolve() for d in dirs if d)


def instructor_set(root: Path) -> SourceSet:
    return SourceSet(root / "problems", root / "reference")


def active() -> ProblemSet:
    """The set every command works on: $JUDGE_PROBLEMS, else the installed one (a kit or the built-in set)."""
    chosen = os.environ.get(ENV)
    if chosen:
        return instructor_set(Path(chosen).expanduser().resolve())
    if (PROBLEMS_DIR / KIT_MARKER).is_file():
        return KitSet(PROBLEMS_DIR)
    return SourceSet(PROBLEMS_DIR, REFERENCE_DIR)


def is_kit() -> bool:
    return active().kit


def validate_set_dir(root: Path, *, create: bool = False) -> None:
    """A one-line UsageError unless `root` is a problem set (or, with create, may become one)."""
    if create and (not root.exists() or (root.is_dir() and not any(root.iterdir()))):
        return
    if not root.is_dir():
        raise UsageError(f"problem set not found: {root} (layout: {LAYOUT})")
    if not (root / "problems").is_dir():
        raise UsageError(f"{root} is not a problem set: it has no problems/ folder (layout: {LAYOUT})")
