"""A problem as the judge reads it: metadata, limits, cases and hints (validated), and the loaded problem.

`problems/<id>/problem.json` is a `ProblemMeta`, `cases.json` a `CaseFile`, `hints.json` `Hints`; a set of
problems (grader/sets) loads them into a `Problem`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Record(BaseModel):
    """Results: read back from stored JSON, where computed fields such as `score` appear too."""

    model_config = ConfigDict(extra="ignore", frozen=True)


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


@dataclass(frozen=True)
class Problem:
    """One loaded problem: its metadata, public cases and folder. Which set it came from is the caller's to know
    (the set answers for its reference and known mistakes)."""

    meta: ProblemMeta
    cases: tuple[Case, ...]
    folder: Path

    @property
    def id(self) -> str:
        return self.meta.id

    @property
    def spec_path(self) -> Path:
        return self.folder / "spec.md"

    @property
    def stub_path(self) -> Path:
        return self.folder / f"{self.id}.py"
