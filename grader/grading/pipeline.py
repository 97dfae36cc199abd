"""The one grading pipeline: the cases' inputs and expected outputs, a runner's facts, one case loop that makes
them a Result. `judge run`, `batch`, `gradescope` and `check_function` all grade through `grade`.

Statuses come only from facts the learner cannot forge (see runners._fate); the texts of the Result are made
from its facts by grader/render/wording.py, at the end, and nothing reads them back.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any

import numpy as np

from grader.context import Context
from grader.grading.causes import explained, with_cause
from grader.grading.diagnosis import diagnose
from grader.grading.runners import Run, Runner, SandboxRunner, Work
from grader.grading.submission import Submission
from grader.model.compare import compare
from grader.model.errors import SandboxError, Unreadable
from grader.model.problem import Case, Limits, Problem
from grader.model.verdict import (
    CaseResult,
    ChoiceNote,
    Fault,
    FaultKind,
    NotebookNote,
    Replay,
    Result,
    Status,
    worst,
)
from grader.render import wording
from grader.sets.answers import library_versions
from grader.sets.inputs import make_inputs
from grader.sandbox.zygote import Zygote
from grader.sets.store import ProblemSet

Progress = Callable[[str, int], None]

# The status a case gets from a fault: the learner's code raised or returned no array (error), went over a
# memory limit (memory), a time limit (timeout), or its process ended or broke the channel (crashed).
STATUS = {
    FaultKind.OUT_OF_MEMORY: Status.MEMORY,
    FaultKind.MEMORY_LIMIT: Status.MEMORY,
    FaultKind.CPU_LIMIT: Status.TIMEOUT,
    FaultKind.IMPORT_TIMEOUT: Status.TIMEOUT,
    FaultKind.CASES_TIMEOUT: Status.TIMEOUT,
    FaultKind.OVERFLOW: Status.CRASHED,
    FaultKind.BAD_CHANNEL: Status.CRASHED,
    FaultKind.TASKS_LIMIT: Status.CRASHED,
    FaultKind.KILLED: Status.CRASHED,
    FaultKind.EXITED: Status.CRASHED,
    FaultKind.MISSING: Status.MISSING,
    FaultKind.SANDBOX_FAILED: Status.INTERNAL_ERROR,
    FaultKind.JUDGE_FAILED: Status.INTERNAL_ERROR,
    FaultKind.EXECUTOR_FAILED: Status.INTERNAL_ERROR,
}


def status_of(fault: Fault) -> Status:
    return STATUS.get(fault.kind, Status.ERROR)


def grade(
    problem: Problem,
    source: ProblemSet,
    runner: Runner,
    *,
    name: str,
    cases: list[Case],
    limits: Limits,
    progress: Progress | None = None,
    notebook: NotebookNote | None = None,
    choice: ChoiceNote | None = None,
) -> Result:
    """Run the learner's code (held by `runner`) on the cases and interpret what happened. Every fault of the
    learner's code, and any judge bug, comes back as a Result."""
    tell = _safe(progress)
    try:
        tell("reference", 0)
        source.warm_compile_cache(problem)  # while the sandbox starts
        inputs = [make_inputs(problem.meta, c) for c in cases]
        expected = [source.expected_output(problem, c, x) for c, x in zip(cases, inputs)]
        public = sum(not c.hidden for c in cases)
        run = runner.run(problem, Work(inputs, [e.size for e in expected], public, limits), tell)
        return interpret(problem, source, name, cases, inputs, expected, run, limits, notebook=notebook, choice=choice)
    except Exception as e:  # a judge bug or a broken environment: never the learner's fault
        return failed(problem, name, cases, judge_fault(e), limits, level=runner.level, trace=traceback.format_exc())


def grade_submission(
    problem: Problem,
    source: ProblemSet,
    submission: Submission,
    zygote: Callable[[], Zygote],
    *,
    cases: list[Case],
    limits: Limits,
    level: str,
    progress: Progress | None = None,
) -> Result:
    """A hand-in graded in a sandbox forked from `zygote()` (`judge run`, `batch`, `gradescope`): nothing handed
    in, a refused file and a file that is not Python each get their result without a sandbox."""
    name, choice = submission.name, submission.choice
    if submission.data is None:
        fault = submission.refused or Fault(kind=FaultKind.MISSING)
        return failed(problem, name, cases, fault, limits, level=level, choice=choice)
    try:
        code, notebook = submission.source(problem.meta.function)
    except Unreadable as e:
        return failed(problem, name, cases, e.fault, limits, level=level, notebook=e.notebook, choice=choice)
    try:
        cells = notebook.starts if notebook is not None else []
        runner = SandboxRunner(zygote(), code, name if submission.suffix == ".py" else "", cells)
    except Exception as e:  # the sandbox could not start: never the learner's fault
        return failed(problem, name, cases, judge_fault(e), limits, level=level, trace=traceback.format_exc())
    return grade(
        problem,
        source,
        runner,
        name=name,
        cases=cases,
        limits=limits,
        progress=progress,
        notebook=notebook,
        choice=choice,
    )


def grade_file(
    context: Context,
    problem: Problem,
    submission: Submission,
    *,
    limits: Limits | None = None,
    cases: list[Case] | None = None,
    progress: Progress | None = None,
) -> Result:
    """A learner's file graded in the context's sandbox (`judge run`, `judge check` on a stub or a reference)."""
    return grade_submission(
        problem,
        context.problems,
        submission,
        context.zygote,
        cases=list(problem.cases) if cases is None else cases,
        limits=limits or problem.meta.limits,
        level=context.level(),
        progress=progress,
    )


def judge_fault(e: BaseException) -> Fault:
    """A failure of the judge's own, as a fault: the sandbox's, or any other (with the exception)."""
    if isinstance(e, SandboxError):
        return Fault(kind=FaultKind.SANDBOX_FAILED, error=e.why.value, text=e.detail)
    detail = "".join(traceback.format_exception_only(type(e), e)).strip()
    return Fault(kind=FaultKind.JUDGE_FAILED, text=detail)


def failed(
    problem: Problem,
    name: str,
    cases: list[Case],
    fault: Fault,
    limits: Limits,
    *,
    level: str = "none",
    trace: str = "",
    notebook: NotebookNote | None = None,
    choice: ChoiceNote | None = None,
) -> Result:
    """A result where the file never ran case by case: every case fails alike, for one reason."""
    status = status_of(fault)
    message = wording.fault(fault, notebook)
    result = Result(
        problem=problem.id,
        submission=name,
        status=status,
        message="",
        fault=fault,
        notebook=notebook,
        choice=choice,
        traceback=trace,
        limits=limits,
        cases=[
            CaseResult(index=i, name=c.name, seed=c.seed, hidden=c.hidden, status=status, fault=fault, message=message)
            for i, c in enumerate(cases)
        ],
        replay=replay(problem, cases, level),
    )
    return result.model_copy(update={"message": wording.summary(result)})


def replay(problem: Problem, cases: list[Case], level: str) -> Replay:
    return Replay(
        problem=problem.id,
        problem_version=problem.meta.version,
        seeds=[c.seed for c in cases],
        versions=library_versions(),
        sandbox=level,
    )


def interpret(
    problem: Problem,
    source: ProblemSet,
    name: str,
    cases: list[Case],
    inputs: list[dict[str, object]],
    expected: list[np.ndarray],
    run: Run,
    limits: Limits,
    *,
    notebook: NotebookNote | None = None,
    choice: ChoiceNote | None = None,
) -> Result:
    """The one case loop: each case's answer compared, or the fault it has instead; then the verdict."""
    results: list[CaseResult] = []
    outputs: dict[int, np.ndarray] = {}
    for i, (case, exp) in enumerate(zip(cases, expected)):
        base: dict[str, Any] = {
            "index": i,
            "name": case.name,
            "seed": case.seed,
            "hidden": case.hidden,
            "expected_shape": list(exp.shape),
        }
        answer = run.answers.get(i)
        if run.load_fault is not None:
            results.append(_faulty(base, run.load_fault))
        elif answer is None:
            results.append(_faulty(base, run.fate or Fault(kind=FaultKind.EXITED, code="None")))
        elif answer.fault is not None or answer.output is None:
            fault = answer.fault or Fault(kind=FaultKind.BAD_ANSWER)
            if fault.kind is FaultKind.OUT_OF_MEMORY:  # the case's own MemoryError: the limit it hit
                fault = fault.model_copy(update={"limit": limits.memory_mb})
            results.append(_faulty(base, fault, answer.traceback))
        else:
            outputs[i] = answer.output
            results.append(compared(problem, base, answer.output, exp, answer.time_s))
    results = explained(problem, cases, _not_run(results, run.fate))
    status = worst([r.status for r in results])
    mistake = diagnose(problem, source, cases, inputs, expected, outputs) if status is Status.WRONG_ANSWER else None
    unrun: Fault | None = with_cause(run.load_fault)
    if unrun is None and not outputs and run.fate is not None and all(r.fault == run.fate for r in results):
        unrun = run.fate  # the run ended before any case had its result (a crash or timeout at import)
    result = Result(
        problem=problem.id,
        submission=name,
        status=status,
        message="",
        diagnosis=wording.diagnosis(mistake),
        fault=unrun,
        stopped_by=run.fate if run.limit in ("memory", "cpu", "tasks") else None,  # a summed limit ended the run
        mistake=mistake,
        notebook=notebook,
        choice=choice,
        traceback=run.load_traceback,
        cases=[r.model_copy(update={"message": wording.case_message(r, notebook)}) for r in results],
        stdout=run.stdout,
        stderr=run.stderr,
        stdout_bytes=run.stdout_bytes,
        stderr_bytes=run.stderr_bytes,
        time_s=run.wall_s,
        compile_s=run.compile_s,
        peak_memory_mb=run.peak_memory_mb,
        cpu_s=run.cpu_s,
        limit=run.limit,
        limits=limits,
        replay=replay(problem, cases, run.level),
    )
    return result.model_copy(update={"message": wording.summary(result)})


def _faulty(base: dict[str, Any], fault: Fault, trace: str = "") -> CaseResult:
    return CaseResult(**base, status=status_of(fault), fault=fault, traceback=trace)


def _not_run(results: list[CaseResult], fate: Fault | None) -> list[CaseResult]:
    """Cases run in order: of those the run ended without a result for, only the first was running; the others
    did not run. (When no case had a result and the time limit was not the cases', the file is at fault.)"""
    idle = [r for r in results if fate is not None and r.fault == fate]
    if not idle or (len(idle) == len(results) and fate is not None and fate.kind is not FaultKind.CASES_TIMEOUT):
        return results
    stopped = Fault(kind=FaultKind.NOT_RUN, case=idle[0].index, status=idle[0].status)
    later = {r.index for r in idle[1:]}
    return [r.model_copy(update={"fault": stopped}) if r.index in later else r for r in results]


def compared(
    problem: Problem, base: dict[str, Any], got: np.ndarray, exp: np.ndarray, time_s: float | None
) -> CaseResult:
    """A case whose output came back: passed or wrong_answer, with where and by how much."""
    cmp = compare(got, exp, problem.meta.tolerance, exact_shape=problem.meta.exact_shape)
    return CaseResult(
        **base,
        status=Status.PASSED if cmp.passed else Status.WRONG_ANSWER,
        mismatch=cmp.mismatch,
        shape=list(got.shape),
        max_abs_err=cmp.max_abs_err,
        max_rel_err=cmp.max_rel_err,
        mismatch_index=cmp.mismatch_index,
        got=cmp.got,
        expected=cmp.expected,
        time_s=time_s,
    )


def _safe(progress: Progress | None) -> Callable[[str, object], None]:
    """The progress callback, never failing the grading (it runs in the sandbox's reader thread too)."""

    def tell(event: str, index: object) -> None:
        if progress is not None and isinstance(event, str) and isinstance(index, int):
            try:
                progress(event, index)
            except Exception:
                pass

    return tell
