"""One (learner, problem) of a batch: what travels to an executor, how it is graded, and how it fails.

A task carries its hand-in's bytes and `Options` carries everything else a grading needs, the problem set's
folder included: an executor on another machine grades the problem the instructor meant, with nothing of the
instructor's environment. Every result that does not come from a grading (nothing handed in, a refused file, a
task the executor lost) has the same cases as a grading, hidden ones included, so max_score never depends on
where or whether a task ran.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from grader.context import Context
from grader.grading import pipeline
from grader.grading.submission import SOURCE_MAX_BYTES, Submission, find_submission, missing
from grader.model.problem import Limits
from grader.model.verdict import ChoiceNote, Fault, FaultKind, Refusal, Result
from grader.sets.hidden import grading_cases


@dataclass(frozen=True)
class Task:
    """One (learner, problem) to grade; it carries the submission itself, so it can travel."""

    student: str
    problem: str
    submission: Submission


@dataclass(frozen=True)
class Options:
    """How every task of a batch is graded, whichever executor runs it, wherever: the set's folder (as the
    executor finds it: the instructor's, or its copy on a node), the cache, the level, the secret, the limits."""

    set_root: str
    cache_root: str
    xla_flags: str
    level: str
    hidden_seed: str | None = None
    limits: Limits | None = None

    @classmethod
    def of(cls, context: Context, hidden_seed: str | None = None, limits: Limits | None = None) -> Options:
        """The options of gradings in this context (its set, cache and level)."""
        root, cache = str(context.problems.root), context.cache
        return cls(root, str(cache.root), cache.xla_flags, context.level(), hidden_seed, limits)


def read_task(class_dir: Path, student: str, problem_id: str, others: Collection[str] = ()) -> Task:
    """The learner's hand-in for a problem, read once: the private copy every grading works from."""
    folder = class_dir / student
    shown = f"{student}/{problem_id}"
    if folder.is_symlink():
        refused = Fault(kind=FaultKind.REFUSED, error=Refusal.LINKED_FOLDER.value, file=student)
        return Task(student, problem_id, Submission(f"{shown}.py", None, refused=refused))
    path, choice = find_submission(folder, problem_id, others=others)
    if not path.exists() and not path.is_symlink():
        return Task(student, problem_id, missing(folder, problem_id, f"{shown}.py", others=others))
    return Task(student, problem_id, read_submission(path, f"{shown}{path.suffix}", choice))


def read_submission(path: Path, name: str, choice: ChoiceNote | None = None) -> Submission:
    return Submission.read(path, name, choice=choice, max_source=SOURCE_MAX_BYTES)


def grade_task(task: Task, context: Context, options: Options) -> Result:
    """Grade one task wherever it runs: a local thread or a node of a cluster."""
    problem = context.problems.load(task.problem)
    cases = grading_cases(problem, context.problems, options.hidden_seed)
    return pipeline.grade_submission(
        problem,
        context.problems,
        task.submission,
        lambda: context.zygote(batch=True),
        cases=cases,
        limits=options.limits or problem.meta.limits,
        level=options.level,
    )


def failed_task(task: Task, context: Context, options: Options, fault: Fault) -> Result:
    """A result for a task that was not graded: every case of a grading (hidden ones too) with one fault."""
    problem = context.problems.load(task.problem)
    cases = grading_cases(problem, context.problems, options.hidden_seed)
    limits = options.limits or problem.meta.limits
    return pipeline.failed(problem, task.submission.name, cases, fault, limits, level=options.level)


def executor_failure(where: str, error: BaseException) -> Fault:
    """A task an executor could not run: the judge's fault, never the learner's."""
    lines = str(error).strip().splitlines()
    detail = f"{type(error).__name__}: {lines[-1]}" if lines else type(error).__name__
    return Fault(kind=FaultKind.EXECUTOR_FAILED, error=where, text=detail)
