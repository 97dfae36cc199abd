"""Typed data of the judge: problem metadata, limits, statuses and results.

Every output format (terminal, JSON, CSV, Gradescope) is rendered from the
`Result` model defined here, so a verdict is never stored or spelled twice.
"""

from __future__ import annotations

import enum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator


class Status(str, enum.Enum):
    """One status vocabulary for every output. Values are stable identifiers."""

    PASSED = "passed"
    WRONG_ANSWER = "wrong_answer"
    ERROR = "error"  # exception, syntax error, missing function: could not be graded
    TIMEOUT = "timeout"
    MEMORY = "memory"
    CRASHED = "crashed"
    INTERNAL_ERROR = "internal_error"  # a judge bug, never the learner's fault
    MISSING = "missing"  # batch grading: no file handed in

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


# Worst first: the overall status of a run is the first of these that any case has.
PRECEDENCE = [
    Status.INTERNAL_ERROR,
    Status.MISSING,
    Status.TIMEOUT,
    Status.MEMORY,
    Status.CRASHED,
    Status.ERROR,
    Status.WRONG_ANSWER,
    Status.PASSED,
]


def worst(statuses: list[Status]) -> Status:
    return min(statuses, key=PRECEDENCE.index, default=Status.PASSED)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Record(BaseModel):
    """Results: read back from stored JSON, where computed fields such as `score` appear too."""

    model_config = ConfigDict(extra="ignore", frozen=True)


# ---------------------------------------------------------------- problems


class ArgSpec(Strict):
    """How one argument of the learner's function is generated for a case.

    kinds:
      int       a scalar from the case's `values` (passed as float when `as_float`)
      normal    a float32 array of `shape` drawn from N(0, scale^2)
      token_ids an int64 (N, S) array of ids in [1, vocab) with padding set to the
                case's `pad_id` value (or 0) in varied places: right, left and scattered
    """

    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    kind: Literal["int", "normal", "token_ids"]
    shape: list[str | int] | None = None
    scale: float = 1.0
    as_float: bool = False
    optional: bool = False  # a case may leave it out, so the learner's default is used
    vocab: int = 50

    @model_validator(mode="after")
    def _shape_matches_kind(self) -> ArgSpec:
        if self.kind == "int" and self.shape is not None:
            raise ValueError(f"argument {self.name!r}: an int has no shape")
        if self.kind != "int" and not self.shape:
            raise ValueError(f"argument {self.name!r}: an array needs a shape")
        if self.kind == "token_ids" and len(self.shape or []) != 2:
            raise ValueError(f"argument {self.name!r}: token_ids are (N, S)")
        return self


class Tolerance(Strict):
    rtol: float = Field(ge=0)
    atol: float = Field(ge=0)


class Limits(Strict):
    """Resource limits of one run of learner code.

    import_s bounds importing the learner's file; time_s bounds all the cases
    together, counted from the end of the import.
    """

    time_s: float = Field(default=10.0, gt=0)
    import_s: float = Field(default=20.0, gt=0)
    memory_mb: int = Field(default=2048, ge=1600)  # JAX's CPU backend reserves ~1.45 GB
    # CPU seconds of every process of the sandbox together; by default import_s + time_s
    cpu_s: float | None = Field(default=None, gt=0)


class Space(Strict):
    """Where hidden cases are drawn from: choices per dimension and value."""

    dims: dict[str, list[int]] = {}
    values: dict[str, list[int]] = {}
    scales: dict[str, list[float]] = {}
    divisible: list[tuple[str, str]] = []  # (a, b): a % b == 0
    # Known mistakes no hidden case can show, because they concern what hidden cases always give
    # (an optional argument's default): only the public cases are held to catch them.
    public_only: list[str] = []


class ProblemMeta(Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    version: int = Field(ge=1)
    title: str
    function: str
    args: list[ArgSpec]
    tolerance: Tolerance
    limits: Limits = Limits()
    exact_shape: bool = True  # the output's shape is part of the contract; False compares flattened values only
    space: Space = Space()

    @model_validator(mode="after")
    def _unique_args(self) -> ProblemMeta:
        names = [a.name for a in self.args]
        if len(set(names)) != len(names):
            raise ValueError(f"argument names repeat: {names}")
        return self


class Case(Strict):
    name: str
    seed: int = Field(ge=0)  # drives every generated array of the case
    dims: dict[str, int] = {}
    values: dict[str, int] = {}
    scales: dict[str, float] = {}  # per-argument override of ArgSpec.scale
    hidden: bool = False


class CaseFile(Strict):
    cases: list[Case] = Field(min_length=1)


class Hints(Strict):
    """`problems/<id>/hints.json`: two to four hints, in order, from a nudge to nearly the answer."""

    hints: list[Annotated[str, Field(min_length=20, pattern=r"\S")]] = Field(min_length=2, max_length=4)


# ---------------------------------------------------------------- results


class CaseResult(Record):
    index: int
    name: str
    seed: int
    hidden: bool = False
    status: Status
    message: str = ""
    traceback: str = ""  # the learner's own frames, when their code raised
    shape: list[int] | None = None
    expected_shape: list[int] | None = None
    max_abs_err: float | None = None
    max_rel_err: float | None = None
    mismatch_index: list[int] | None = None  # first mismatch, in the expected shape
    got: float | None = None
    expected: float | None = None
    time_s: float | None = None  # as the sandbox measured it: informational only

    @computed_field
    @property
    def score(self) -> int:
        return int(self.status is Status.PASSED)


class Replay(Record):
    """What is needed to run the same grading again."""

    problem: str
    problem_version: int
    seeds: list[int]
    versions: dict[str, str]
    sandbox: str


class Result(Record):
    problem: str
    submission: str
    status: Status
    message: str
    diagnosis: str = ""  # the likely mistake, when the answer is wrong (also at the end of message)
    traceback: str = ""  # when the file could not be imported
    cases: list[CaseResult] = []
    stdout: str = ""
    stderr: str = ""
    time_s: float = 0.0
    peak_memory_mb: float | None = None  # of the whole sandbox where it was measured, else the learner's process
    cpu_s: float | None = None  # CPU seconds of every process of the sandbox together
    limit: str = ""  # the limit that stopped the run: memory, cpu, tasks, wall (clock); "" if none
    limits: Limits = Limits()
    replay: Replay | None = None

    @computed_field
    @property
    def score(self) -> int:
        return sum(c.score for c in self.cases)

    @computed_field
    @property
    def max_score(self) -> int:
        return len(self.cases)

    @computed_field
    @property
    def passed(self) -> bool:
        return self.status is Status.PASSED
