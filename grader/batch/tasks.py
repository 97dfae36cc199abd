"""One (learner, problem) of a batch: what travels to an executor, how it is graded, and how it fails.

Both executors (local threads, Ray tasks) grade through `grade_submission`, and every result that
does not come from a grading (nothing handed in, a refused file, a task the executor lost) is built
by `failed_result`, with the same cases as a grading: hidden ones included, so max_score never
depends on where or whether a task ran.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from grader.sets import problems
from grader.grading.pipeline import grade, uniform_result
from grader.model.problem import Limits, Result, Status
from grader.grading.submission import read_handin, with_note
from grader.sandbox.zygote import shared_zygote

MAX_SOURCE_BYTES = 1 << 20


@dataclass(frozen=True)
class Task:
    """One (learner, problem) to grade; it carries the submission itself, so it can travel."""

    student: str
    problem: str
    source: bytes | None  # None: nothing handed in
    refused: str = ""  # why a file there cannot be graded (a link, too large)
    suffix: str = ".py"  # or ".ipynb": a notebook (without its outputs)
    note: str = ""  # why this file was chosen, when the learner handed in more than one

    @property
    def shown(self) -> Path:
        """The submission's name in every output: never the private copy a grading works on."""
        return Path(self.student) / f"{self.problem}{self.suffix}"


@dataclass(frozen=True)
class Options:
    """How every task of a batch is graded, whichever executor runs it."""

    level: str
    hidden_seed: str | None = None
    limits: Limits | None = None


def read_task(student: str, problem_id: str, path: Path, note: str = "") -> Task:
    if path.is_symlink() or (path.exists() and not path.is_file()):
        return Task(student, problem_id, None, f"{path.name} is not a regular file")
    if not path.exists():
        return Task(student, problem_id, None)
    data, refused = read_handin(path, MAX_SOURCE_BYTES)
    return Task(student, problem_id, data, refused, path.suffix, note)


def failed_result(task: Task, status: Status, message: str, options: Options) -> Result:
    """A result for a task that was not graded: every case of a grading (hidden ones too) with one status."""
    problem = problems.load_problem(task.problem)
    cases = problems.grading_cases(problem, options.hidden_seed)
    return uniform_result(problem, task.shown, cases, status, message, options.limits or problem.meta.limits)


def run_task(task: Task, options: Options) -> Result:
    """What an executor runs for each task."""
    return grade_submission(task, level=options.level, hidden_seed=options.hidden_seed, limits=options.limits)


def grade_submission(task: Task, *, level: str, hidden_seed: str | None = None, limits: Limits | None = None) -> Result:
    """Grade one task wherever it runs: a local thread or a Ray worker on another machine."""
    options = Options(level=level, hidden_seed=hidden_seed, limits=limits)
    if task.source is None:
        if task.refused:
            return failed_result(task, Status.ERROR, task.refused, options)
        return failed_result(task, Status.MISSING, "no file handed in", options)
    with tempfile.TemporaryDirectory(prefix="judge-sub-") as tmp:
        path = Path(tmp) / f"{task.problem}{task.suffix}"
        path.write_bytes(task.source)
        result = grade(
            task.problem, path, limits=limits, sandbox=level, hidden_seed=hidden_seed, zygote=shared_zygote(level)
        )
    return with_note(result.model_copy(update={"submission": str(task.shown)}), task.note)


def executor_failure(task: Task, error: BaseException, where: str, options: Options) -> Result:
    """A task an executor could not run: the judge's fault, never the learner's."""
    lines = str(error).strip().splitlines()
    detail = f"{type(error).__name__}: {lines[-1]}" if lines else type(error).__name__
    return failed_result(task, Status.INTERNAL_ERROR, f"internal error: the {where} task failed: {detail}", options)
