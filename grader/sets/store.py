"""Problem sets: which problems there are, loading them, and where the expected outputs of their cases come from.

A problem set is a folder SET laid out like the judge's own:

    SET/problems/<id>/            problem.json, cases.json, spec.md, the stub <id>.py, any other public file
    SET/reference/<id>.py         the trusted solution (never shipped to learners)
    SET/reference/pitfalls/<id>.py   the known mistakes (never shipped to learners)

A set is a value, passed down from where it was chosen (grader/context.py): two sets can be used side by side,
and a batch's task carries its set's folder (grader/batch/tasks.py). The installed set is the judge's own
`problems/` and `reference/` (`installed_set`), or, in a learner kit, the released problems.

Grading asks a set two questions: "the expected output of this case" and "the known mistakes, and their
outputs on this case". A `SourceSet` answers them by running the reference (cached); a `KitSet`, what
`judge release` installs for learners, answers them from data computed at release time and holds no
reference or mistake code at all.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

import numpy as np
from pydantic import BaseModel, ValidationError

from grader.model.cache import Cache
from grader.model.errors import ProblemError, UnknownProblem, UsageError
from grader.model.problem import Case, CaseFile, Problem, ProblemMeta
from grader.sets.answers import Answers
from grader.sets.inputs import check_case

KIT_MARKER = "kit.json"  # in the problems folder of a learner kit: its presence makes the install a kit
KIT_DATA = "released.npz"  # per problem folder in a kit: expected and mistake outputs on the public cases
KIT_INFO = "released.json"  # per problem folder in a kit: the mistakes' names and sentences, the cases' keys
LAYOUT = "SET/problems/<id>/problem.json, SET/reference/<id>.py, SET/reference/pitfalls/<id>.py"

# The installed set's folder: the judge's checkout, or site-packages where it is installed.
ROOT = Path(__file__).resolve().parents[2]


class ProblemSet(Protocol):
    @property
    def root(self) -> Path: ...
    @property
    def problems_dir(self) -> Path: ...
    @property
    def kit(self) -> bool: ...

    def ids(self) -> list[str]: ...
    def load(self, problem_id: str) -> Problem: ...
    def reference_path(self, problem_id: str) -> Path: ...
    def pitfalls_path(self, problem_id: str) -> Path: ...
    def expected_output(self, problem: Problem, case: Case, inputs: dict[str, object]) -> np.ndarray: ...
    def pitfall_messages(self, problem: Problem) -> dict[str, str]: ...
    def pitfall_combinations(self, problem: Problem) -> list[tuple[str, ...]]: ...
    def pitfall_output(
        self, problem: Problem, name: str, case: Case, inputs: dict[str, object], *, strict: bool = False
    ) -> np.ndarray | None: ...
    def reference_digest(self, problem: Problem) -> str: ...
    def warm_compile_cache(self, problem: Problem) -> None: ...
    def memo(self) -> dict[Any, Any]: ...


M = TypeVar("M", bound=BaseModel)


def parse(model: type[M], path: Path) -> M:
    """A JSON file of a problem folder, validated; a ProblemError naming the file and each bad field."""
    try:
        return model.model_validate_json(path.read_bytes())
    except FileNotFoundError:
        raise ProblemError(f"{path}: file is missing") from None
    except ValidationError as e:
        fields = "; ".join(f"{'.'.join(map(str, err['loc'])) or '(root)'}: {err['msg']}" for err in e.errors())
        raise ProblemError(f"{path}: {fields}") from None


class _Problems:
    """What every set does with its problems folder: list the problems, load one (validated, once per set)."""

    root: Path
    _memo: dict[Any, Any]

    @property
    def problems_dir(self) -> Path:
        return self.root / "problems"

    def memo(self) -> dict[Any, Any]:
        """What this set computed once: loaded problems, drawn hidden cases, a kit's data."""
        return self._memo

    def ids(self) -> list[str]:
        try:
            return sorted(p.name for p in self.problems_dir.iterdir() if (p / "problem.json").is_file())
        except OSError:
            return []

    def required_files(self, problem_id: str) -> list[Path]:
        raise NotImplementedError

    def load(self, problem_id: str) -> Problem:
        """Load and validate one problem; a malformed one raises ProblemError naming the file and the field."""
        if ("problem", problem_id) in self._memo:
            return self._memo[("problem", problem_id)]
        valid = self.ids()
        if problem_id not in valid:
            raise unknown(self.root, problem_id, valid)
        folder = self.problems_dir / problem_id
        meta = parse(ProblemMeta, folder / "problem.json")
        if meta.id != problem_id:
            raise ProblemError(f"{folder / 'problem.json'}: id: {meta.id!r} differs from the folder name")
        cases = parse(CaseFile, folder / "cases.json").cases
        for i, case in enumerate(cases):
            try:
                check_case(meta, case)
            except ValueError as e:
                raise ProblemError(f"{folder / 'cases.json'}: cases.{i} ({case.name}): {e}") from None
        for path in self.required_files(problem_id):
            if not path.is_file():
                raise ProblemError(f"{path}: file is missing")
        self._memo[("problem", problem_id)] = problem = Problem(meta, tuple(cases), folder)
        return problem


@dataclass(frozen=True)
class SourceSet(_Problems):
    """A set with its references: the built-in one, or an instructor's. Outputs are computed, then cached."""

    root: Path
    cache: Cache
    _memo: dict[Any, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)
    kit = False

    @property
    def reference_dir(self) -> Path:
        return self.root / "reference"

    @property
    def answers(self) -> Answers:
        return Answers(self.cache)

    def required_files(self, problem_id: str) -> list[Path]:
        folder = self.problems_dir / problem_id
        return [folder / "spec.md", folder / f"{problem_id}.py", self.reference_path(problem_id)]

    def reference_path(self, problem_id: str) -> Path:
        return self.reference_dir / f"{problem_id}.py"

    def pitfalls_path(self, problem_id: str) -> Path:
        return self.reference_dir / "pitfalls" / f"{problem_id}.py"

    def expected_output(self, problem: Problem, case: Case, inputs: dict[str, object]) -> np.ndarray:
        return self.answers.expected(problem, self.reference_path(problem.id), case, inputs)

    def pitfall_messages(self, problem: Problem) -> dict[str, str]:
        return self.answers.mistake_sentences(self.pitfalls_path(problem.id))

    def pitfall_combinations(self, problem: Problem) -> list[tuple[str, ...]]:
        return self.answers.mistake_combinations(self.pitfalls_path(problem.id))

    def pitfall_output(
        self, problem: Problem, name: str, case: Case, inputs: dict[str, object], *, strict: bool = False
    ) -> np.ndarray | None:
        return self.answers.mistake(problem, self.pitfalls_path(problem.id), name, case, inputs, strict=strict)

    def reference_digest(self, problem: Problem) -> str:
        """Changes whenever the expected outputs could."""
        return self.answers.reference_digest(self.reference_path(problem.id))

    def warm_compile_cache(self, problem: Problem) -> None:
        self.answers.warm(problem, self.reference_path(problem.id))


def case_key(case: Case) -> str:
    """Names a case's data in a kit: changes whenever anything that defines the case changes."""
    return hashlib.sha256(case.model_dump_json().encode()).hexdigest()[:16]


@dataclass(frozen=True)
class KitSet(_Problems):
    """A learner kit: the released problems, with the outputs `judge release` computed. No reference, no mistakes."""

    root: Path
    _memo: dict[Any, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)
    kit = True

    def required_files(self, problem_id: str) -> list[Path]:
        folder = self.problems_dir / problem_id
        return [folder / "spec.md", folder / f"{problem_id}.py", folder / KIT_DATA, folder / KIT_INFO]

    def reference_path(self, problem_id: str) -> Path:
        raise UsageError("a learner kit holds no reference solutions: this needs the instructor's install")

    pitfalls_path = reference_path

    def _info(self, problem: Problem) -> dict[str, Any]:
        key = ("info", problem.id)
        if key not in self._memo:
            self._memo[key] = json.loads((problem.folder / KIT_INFO).read_text())
        return self._memo[key]

    def _array(self, problem: Problem, name: str) -> np.ndarray | None:
        key = ("data", problem.id)
        if key not in self._memo:
            with np.load(problem.folder / KIT_DATA, allow_pickle=False) as npz:  # plain arrays only: never code
                self._memo[key] = {k: npz[k] for k in npz.files}
        return self._memo[key].get(name)

    def expected_output(self, problem: Problem, case: Case, inputs: dict[str, object]) -> np.ndarray:
        out = self._array(problem, f"expected/{case_key(case)}")
        if out is None:
            raise ProblemError(
                f"{problem.folder / KIT_DATA}: no expected output for case {case.name!r}: a learner "
                "kit has those of its public cases only (hidden cases need the instructor's install)"
            )
        return out

    def pitfall_messages(self, problem: Problem) -> dict[str, str]:
        return {p["name"]: p["sentence"] for p in self._info(problem)["pitfalls"]}

    def pitfall_combinations(self, problem: Problem) -> list[tuple[str, ...]]:
        return [tuple(names) for names in self._info(problem).get("combinations", [])]  # older kits have none

    def pitfall_output(
        self, problem: Problem, name: str, case: Case, inputs: dict[str, object], *, strict: bool = False
    ) -> np.ndarray | None:
        return self._array(problem, f"pitfall/{name}/{case_key(case)}")

    def reference_digest(self, problem: Problem) -> str:
        h = hashlib.sha256((problem.folder / KIT_DATA).read_bytes())
        h.update((problem.folder / KIT_INFO).read_bytes())
        return h.hexdigest()

    def warm_compile_cache(self, problem: Problem) -> None:
        pass  # nothing of the judge's runs in a kit: there is no reference to compile


def chosen(source: ProblemSet, ids: list[str] | None) -> list[str]:
    """The problems asked for, in order and once each (default: all of the set's); an unknown id is a usage error
    naming the valid ones."""
    valid = source.ids()
    for pid in ids or []:
        if pid not in valid:
            raise unknown(source.root, pid, valid)
    return list(dict.fromkeys(ids)) if ids else valid


def unknown(root: Path, problem_id: str, valid: list[str]) -> UnknownProblem:
    """The error for an id the set at `root` lacks, saying when it is a built-in problem a course set can copy in."""
    builtin = root != ROOT and (ROOT / "problems" / problem_id / "problem.json").is_file()
    return UnknownProblem(problem_id, valid, str(root) if builtin else "")


def open_set(root: Path, cache: Cache, *, create: bool = False) -> SourceSet:
    """An instructor's set at `root` (a UsageError unless it is laid out as one; with `create`, a folder that
    does not exist yet, or is empty, may become one)."""
    root = Path(root).expanduser().resolve()
    if create and (not root.exists() or (root.is_dir() and not any(root.iterdir()))):
        return SourceSet(root, cache)
    if not root.is_dir():
        raise UsageError(f"problem set not found: {root} (layout: {LAYOUT})")
    if not (root / "problems").is_dir():
        raise UsageError(f"{root} is not a problem set: it has no problems/ folder (layout: {LAYOUT})")
    return SourceSet(root, cache)


def is_kit(root: Path) -> bool:
    """Whether the judge installed at `root` is a learner kit (its problems folder holds the kit's marker)."""
    return (root / "problems" / KIT_MARKER).is_file()


def installed_set(cache: Cache, root: Path = ROOT) -> ProblemSet:
    """The set this install of the judge comes with: a learner kit's released problems, or the built-in set."""
    if is_kit(root):
        return KitSet(root)
    return SourceSet(root, cache)
