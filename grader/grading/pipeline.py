"""Grading one submission: run it in a sandbox, compare with the reference, give a Result."""

from __future__ import annotations

import io
import signal
import traceback
from pathlib import Path
from collections.abc import Callable
from typing import Any

import numpy as np

from grader.grading import feedback
from grader.sets import problems
from grader.model.compare import compare
from grader.grading.diagnosis import diagnose
from grader.model.errors import UsageError
from grader.grading.messages import learner_facing, summary
from grader.model.problem import Case, CaseResult, Limits, Replay, Result, Status, worst
from grader.grading.notebook import NotebookError, read_source
from grader.grading.submission import with_note
from grader.sets.problems import Problem
from grader.child.protocol import CaseArgs, CaseStatus, Frame, Job, Kind
from grader.sandbox.outcome import Outcome, output_budget
from grader.sandbox.box import Sandbox
from grader.sandbox.zygote import SandboxError, Zygote, private_zygote
from grader.sandbox.policy import resolve_level
from grader.sandbox.policy import TASKS, cpu_limit_s

_summary = summary  # the name grader.in_notebook imports it by


def grade(
    problem_id: str,
    submission: str | Path,
    *,
    limits: Limits | None = None,
    sandbox: str = "auto",
    hidden_seed: str | None = None,
    zygote: Zygote | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> Result:
    """Grade a learner's file on a problem's cases.

    Args:
        problem_id: a problem id, as `judge list` shows them.
        submission: path of the learner's Python file.
        limits: resource limits; the problem's own by default.
        sandbox: "auto", "bwrap" or "process" (see grader.sandbox).
        hidden_seed: a secret; when given, hidden cases derived from it are graded too.
        zygote: forks the sandbox (a batch shares one); by default one is started for this call.
        progress: called as the grading goes: ("reference", 0) while expected outputs are computed,
            ("import", 0) when the learner's file is being imported, ("imported", 0) when it is, ("case", i)
            when case i is done.

    Raises UsageError for an unknown problem or a missing file; every fault of
    the learner's code, and any judge bug, comes back as a Result.

    Example:
        >>> grade("cross_attention_mask", "cross_attention_mask.py").status
        <Status.PASSED: 'passed'>
    """
    problem = problems.load_problem(problem_id)
    if callable(submission):
        raise UsageError(
            f"grade() takes the path of a file; to check a function object use check_function({problem_id!r}, fn)"
        )
    path = Path(submission)
    try:
        if path.is_dir():
            raise UsageError(
                f"{path} is a folder, not a file: give your Python file, e.g. --file {path / (problem_id + '.py')}"
            )
        if not path.is_file():
            notebook = path.with_suffix(".ipynb")
            hint = (
                f"{notebook} is a notebook: export it as a Python script first"
                if notebook.is_file()
                else f"run `judge init {problem_id}` to get the stub"
            )
            raise UsageError(f"no such file: {path} ({hint})")
        data = path.read_bytes()
    except OSError as e:
        raise UsageError(f"cannot read {path}: {e.strerror}") from None
    limits = limits or problem.meta.limits
    level = resolve_level(sandbox)
    cases = problems.grading_cases(problem, hidden_seed)
    tell = _safe(progress)
    try:
        source, note = read_source(path, data, problem.meta.function)  # a notebook's code cells, or the file
    except (NotebookError, feedback.SourceError) as e:
        return uniform_result(problem, path, cases, Status.ERROR, str(e), limits)
    own = zygote is None
    try:
        if zygote is None:
            zygote = private_zygote(level)
        elif zygote.level != level:
            raise ValueError(f"a {zygote.level} zygote cannot grade at the {level} level")
        tell("reference", 0)
        problems.warm_compile_cache(problem)  # while the zygote starts
        inputs = [problems.make_inputs(problem.meta, c) for c in cases]
        expected = [problems.expected_output(problem, c, x) for c, x in zip(cases, inputs)]
        with Sandbox(zygote, limits) as box:
            box.on_frame = lambda frame: tell(frame.kind.value, frame.index or 0)
            box.max_output = output_budget([e.size for e in expected])
            tell("import", 0)
            outcome = box.run(*_job(problem, source, inputs, sum(not c.hidden for c in cases)))
        result = _interpret(problem, path, cases, inputs, expected, outcome, limits)
        return with_note(learner_facing(problem, result, source), note)
    except Exception as e:  # a judge bug or a broken environment: never the learner's fault
        detail = "".join(traceback.format_exception_only(type(e), e)).strip()
        kind = "the sandbox failed" if isinstance(e, SandboxError) else "the judge failed"
        result = uniform_result(
            problem, path, cases, Status.INTERNAL_ERROR, f"internal error: {kind}: {detail}", limits
        )
        return result.model_copy(update={"traceback": traceback.format_exc()})
    finally:
        if own and zygote is not None:
            zygote.close()


def _safe(progress: Callable[[str, int], None] | None) -> Callable[[str, object], None]:
    """The progress callback, never failing the grading (it runs in the sandbox's reader thread too)."""

    def tell(event: str, index: object) -> None:
        if progress is not None and isinstance(event, str) and isinstance(index, int):
            try:
                progress(event, index)
            except Exception:
                pass

    return tell


def _job(problem: Problem, source: str, inputs: list[dict[str, object]], public: int) -> tuple[Job, bytes, bytes]:
    """The job, the first `public` cases' inputs, and the others' (hidden cases), sent only after the public ones."""
    arrays: list[dict[str, np.ndarray]] = [{}, {}]
    cases = []
    for i, case_inputs in enumerate(inputs):
        scalars = {k: v for k, v in case_inputs.items() if isinstance(v, (int, float))}
        given = {k: v for k, v in case_inputs.items() if isinstance(v, np.ndarray)}
        names = list(given)
        arrays[1 if i >= public else 0].update({f"{i}.{k}": v for k, v in given.items()})
        cases.append(CaseArgs(scalars=scalars, arrays=names))
    payloads = []
    for part in arrays:
        buf = io.BytesIO()
        np.savez(buf, **part)  # type: ignore[arg-type]
        payloads.append(buf.getvalue())
    job = Job(
        module=problem.id,
        filename=f"{problem.id}.py",
        source=source,
        function=problem.meta.function,
        arg_names=[a.name for a in problem.meta.args],
        cases=cases,
        public=public if public < len(inputs) else None,
    )
    return job, payloads[0], payloads[1]


def compared(
    problem: Problem, base: dict[str, Any], got: np.ndarray, exp: np.ndarray, time_s: float | None
) -> CaseResult:
    """A case whose output came back: passed or wrong_answer, with where and by how much."""
    cmp = compare(got, exp, problem.meta.tolerance, exact_shape=problem.meta.exact_shape)
    return CaseResult(
        **base,
        status=Status.PASSED if cmp.passed else Status.WRONG_ANSWER,
        message=cmp.message,
        shape=list(got.shape),
        max_abs_err=cmp.max_abs_err,
        max_rel_err=cmp.max_rel_err,
        mismatch_index=cmp.mismatch_index,
        got=cmp.got,
        expected=cmp.expected,
        time_s=time_s,
    )


def uniform_result(
    problem: Problem, path: Path, cases: list[Case], status: Status, message: str, limits: Limits, level: str = "none"
) -> Result:
    """A result where every case shares one status (the file could not be run at all)."""
    return Result(
        problem=problem.id,
        submission=str(path),
        status=status,
        message=message,
        limits=limits,
        cases=[
            CaseResult(index=i, name=c.name, seed=c.seed, hidden=c.hidden, status=status) for i, c in enumerate(cases)
        ],
        replay=_replay(problem, cases, level),
    )


def _replay(problem: Problem, cases: list[Case], level: str) -> Replay:
    return Replay(
        problem=problem.id,
        problem_version=problem.meta.version,
        seeds=[c.seed for c in cases],
        versions=problems.library_versions(),
        sandbox=level,
    )


def _parse_array(payload: bytes) -> np.ndarray | None:
    """The learner's array, read strictly: plain numeric data or nothing."""
    try:
        arr = np.load(io.BytesIO(payload), allow_pickle=False)
    except Exception:
        return None
    return arr if isinstance(arr, np.ndarray) and arr.dtype.kind in "biuf" else None


def _run_failure(outcome: Outcome, limits: Limits) -> tuple[Status, str]:
    """Why the cases without a result have none: the fate of the whole run.

    Only facts the learner cannot forge decide it: the judge's own clock and channel reader, and the exit
    status the trusted keeper saw. The learner's stdout and stderr are evidence shown to people, never read here
    (printing "MemoryError" or "Killed" and exiting is a crash, not a memory verdict).
    """
    if outcome.overflow:
        return Status.CRASHED, "sent back more data than any answer needs; the run was stopped"
    if outcome.bad_frame:
        return Status.CRASHED, (
            f"wrote something that is not a result on the judge's result channel "
            f"({outcome.bad_frame}); the run was stopped before returning all results"
        )
    if outcome.limit == "memory":
        used = f" (peak {outcome.memory_mb:.0f} MB)" if outcome.memory_mb else ""
        return Status.MEMORY, (
            f"ran out of memory: all the processes your code started together went over the limit of "
            f"{limits.memory_mb} MB{used}; the run was stopped"
        )
    if outcome.limit == "cpu":
        return Status.TIMEOUT, (
            f"used more than the CPU time limit of {cpu_limit_s(limits):g} s (the CPU time of all the processes "
            f"and threads your code started, together{f': {outcome.cpu_s:.1f} s' if outcome.cpu_s else ''})"
        )
    if outcome.limit == "tasks":
        return Status.CRASHED, (
            f"started more than {TASKS} processes and threads at once (the sandbox's limit: a fork bomb?); "
            "the run was stopped"
        )
    if outcome.timed_out == "import":
        return Status.TIMEOUT, f"importing your file took longer than the limit of {limits.import_s:g} s"
    if outcome.timed_out == "cases":
        return Status.TIMEOUT, f"the cases took longer than the time limit of {limits.time_s:g} s (all cases together)"
    if outcome.signal:
        name = signal.Signals(outcome.signal).name if outcome.signal in signal.valid_signals() else outcome.signal
        return Status.CRASHED, f"the process was killed by {name} before returning all results"
    return Status.CRASHED, (
        f"the process exited (code {outcome.exit_code}) before returning all results; "
        "do not call os._exit() or exit the interpreter"
    )


def _interpret(
    problem: Problem,
    path: Path,
    cases: list[Case],
    inputs: list[dict[str, object]],
    expected: list[np.ndarray],
    outcome: Outcome,
    limits: Limits,
) -> Result:
    frames = outcome.frames
    load_error = next((f for f, _ in frames if f.kind is Kind.LOAD_ERROR), None)
    by_index: dict[int, tuple[Frame, bytes]] = {}
    for f, p in frames:
        if f.kind is Kind.CASE and f.index is not None and f.index not in by_index:
            by_index[f.index] = (f, p)
    run_status, run_message = _run_failure(outcome, limits)
    where = next((f.message for f, _ in frames if f.kind is Kind.WHERE), "")
    if (outcome.timed_out or outcome.limit == "cpu") and where:  # the learner's own report: a hint, never a fact
        run_message += f"; your code was at {where}"

    results, outputs = [], {}
    for i, (case, exp) in enumerate(zip(cases, expected)):
        base: dict[str, Any] = {
            "index": i,
            "name": case.name,
            "seed": case.seed,
            "hidden": case.hidden,
            "expected_shape": list(exp.shape),
        }
        if load_error is not None:
            status = Status.MEMORY if load_error.status is CaseStatus.MEMORY else Status.ERROR
            results.append(CaseResult(**base, status=status, message=load_error.message))
            continue
        if i not in by_index:
            results.append(CaseResult(**base, status=run_status, message=run_message))
            continue
        header, payload = by_index[i]
        if header.status is not CaseStatus.OK:
            status = Status.MEMORY if header.status is CaseStatus.MEMORY else Status.ERROR
            message = header.message
            if status is Status.MEMORY:
                message = f"ran out of memory (limit {limits.memory_mb} MB): {message}"
            results.append(CaseResult(**base, status=status, message=message, traceback=header.traceback))
            continue
        got = _parse_array(payload)
        if got is None:
            results.append(
                CaseResult(**base, status=Status.ERROR, message="returned something that is not an array of numbers")
            )
            continue
        outputs[i] = got
        results.append(compared(problem, base, got, exp, header.time))

    status = worst([r.status for r in results])
    message = summary(status, results, load_error)
    if outcome.limit and run_message not in message:  # every case had its result when the limit struck
        message += f" ({run_message})"
    diagnosis = ""
    if status is Status.WRONG_ANSWER:
        diagnosis = diagnose(problem, cases, inputs, expected, outputs)
    return Result(
        problem=problem.id,
        submission=str(path),
        status=status,
        message=f"{message} {diagnosis}".strip(),
        diagnosis=diagnosis,
        traceback=load_error.traceback if load_error else "",
        cases=results,
        stdout=_clip(outcome.stdout, outcome.stdout_bytes),
        stderr=_clip(outcome.stderr, outcome.stderr_bytes),
        time_s=round(outcome.wall_s, 3),
        peak_memory_mb=outcome.memory_mb if outcome.memory_mb is not None else outcome.peak_rss_mb,
        cpu_s=round(outcome.cpu_s, 3) if outcome.cpu_s is not None else None,
        limit=outcome.limit or ("wall" if outcome.timed_out else ""),
        limits=limits,
        replay=_replay(problem, cases, outcome.level),
    )


def _clip(text: str, total: int) -> str:
    """The kept start of a captured stream, cut at a line end, with a note of how much was left out."""
    if total > len(text.encode()):
        cut = text.rfind("\n")
        text = text[: cut + 1] if cut >= 0 else text
        shown = len(text.encode())
        sep = "" if not text or text.endswith("\n") else "\n"
        return text + f"{sep}[... output cut: {total - shown:,} more bytes not shown ({total:,} bytes in all)]"
    return text
