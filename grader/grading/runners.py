"""Where a learner's code runs: in a sandbox (`judge run`, `batch`, `gradescope`) or in the caller's own process
(`check_function` in a notebook). Both runners give the same `Run` of facts, and grader/grading/pipeline.py
interprets either the same way: one case loop, one wording.

The learner's side of both is grader/child/runner.py: the sandbox's child calls it, and the in-process runner
calls the same functions (the call, the array check, an exception's facts), so a None return, a stub or an
endless loop is found, and said, alike.
"""

from __future__ import annotations

import contextlib
import io
import re
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from grader.child import protocol
from grader.child import runner as child
from grader.child.protocol import CaseArgs, Job, Kind
from grader.model.problem import Limits, Problem
from grader.model.verdict import Fault, FaultKind, Where
from grader.render import wording
from grader.sandbox.box import Sandbox
from grader.sandbox.outcome import Outcome, output_budget
from grader.sandbox.policy import TASKS, cpu_limit_s
from grader.sandbox.zygote import Zygote

Tell = Callable[[str, int], None]  # progress: ("import", 0), ("imported", 0), ("case", i)


@dataclass
class Answer:
    """One case's outcome in the learner's code: an output, or why there is none."""

    output: np.ndarray | None = None
    fault: Fault | None = None
    traceback: str = ""
    time_s: float | None = None


@dataclass
class Run:
    """What running the learner's code on the cases gave, as facts."""

    level: str
    load_fault: Fault | None = None  # why the file could not be imported (or lacks the function)
    load_traceback: str = ""
    answers: dict[int, Answer] = field(default_factory=dict)
    fate: Fault | None = None  # why the cases without an answer have none (the run ended before them)
    stdout: str = ""
    stderr: str = ""
    stdout_bytes: int = 0
    stderr_bytes: int = 0
    wall_s: float = 0.0
    peak_memory_mb: float | None = None
    cpu_s: float | None = None
    limit: str = ""  # memory, cpu, tasks, wall; "" if none struck


@dataclass(frozen=True)
class Work:
    """What a runner runs: the cases' inputs (the first `public` of them public), the size of each expected
    output (which bounds the answers' channel), and the limits."""

    inputs: list[dict[str, object]]
    expected_sizes: list[int]
    public: int
    limits: Limits


class Runner(Protocol):
    level: str

    def run(self, problem: Problem, work: Work, tell: Tell) -> Run: ...


def from_child(f: protocol.Fault, file: str, function: str) -> tuple[Fault, str]:
    """A fault the learner's process found, as the judge keeps it, and its traceback's text."""
    kind = FaultKind(f.why.value)
    fault = Fault(
        kind=kind,
        error=f.error,
        text=f.text,
        line=f.line,
        near=f.near,
        defines=list(f.defines),
        code=f.code,
        file=file if kind in (FaultKind.MISSING_FUNCTION, FaultKind.SYNTAX) else "",
        function=function if kind in (FaultKind.MISSING_FUNCTION, FaultKind.RETURNED, FaultKind.SIGNATURE) else "",
    )
    trace = f.trace
    return fault, wording.traceback(trace.frames, trace.raised_inside, trace.shapes, trace.error) if trace else ""


# ---------------------------------------------------------------- in a sandbox


class SandboxRunner:
    """The learner's file, run in a single-use sandbox forked from `zygote`."""

    def __init__(self, zygote: Zygote, source: str, filename: str = ""):
        self.zygote, self.source, self.level = zygote, source, zygote.level
        self.filename = filename  # the learner's own file name, which their tracebacks show

    def run(self, problem: Problem, work: Work, tell: Tell) -> Run:
        filename = sandbox_filename(problem, self.filename)
        with Sandbox(self.zygote, work.limits) as box:
            box.on_frame = lambda frame: tell(frame.kind.value, frame.index or 0)
            box.max_output = output_budget(work.expected_sizes)
            tell("import", 0)
            outcome = box.run(*_job(problem, self.source, work.inputs, work.public, filename))
        return facts(problem, self.source, outcome, work.limits, filename)


_FILENAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\- ]{0,99}\.py")


def sandbox_filename(problem: Problem, shown: str) -> str:
    """The name the learner's file has in the sandbox, and so in its tracebacks: the one it was handed in as
    (`syn.py`), where that is a plain .py file name; else the problem's (a notebook's module, an odd name)."""
    name = shown.replace("\\", "/").rsplit("/", 1)[-1]
    return name if _FILENAME.fullmatch(name) else f"{problem.id}.py"


def facts(problem: Problem, source: str, outcome: Outcome, limits: Limits, filename: str = "") -> Run:
    """What a sandbox's Outcome says, as the facts of a Run: the file's fault, each case's answer or fault, the
    run's fate (only facts the learner cannot forge decide a status: see `_fate`)."""
    file, function = filename or f"{problem.id}.py", problem.meta.function
    run = Run(
        level=outcome.level,
        fate=_fate(outcome, limits),
        stdout=_kept(outcome.stdout, outcome.stdout_bytes),
        stderr=_kept(outcome.stderr, outcome.stderr_bytes),
        stdout_bytes=outcome.stdout_bytes,
        stderr_bytes=outcome.stderr_bytes,
        wall_s=round(outcome.wall_s, 3),
        peak_memory_mb=outcome.memory_mb if outcome.memory_mb is not None else outcome.peak_rss_mb,
        cpu_s=round(outcome.cpu_s, 3) if outcome.cpu_s is not None else None,
        limit=outcome.limit or ("wall" if outcome.timed_out else ""),
    )
    for frame, payload in outcome.frames:
        if frame.kind is Kind.LOAD_ERROR and run.load_fault is None and frame.fault is not None:
            run.load_fault, run.load_traceback = from_child(frame.fault, file, function)
            if run.load_fault.kind is FaultKind.MISSING_FUNCTION and not run.load_fault.defines:
                if not source.strip():
                    run.load_fault = Fault(kind=FaultKind.EMPTY_FILE, function=function)
        elif frame.kind is Kind.CASE and frame.index is not None and frame.index not in run.answers:
            if frame.fault is not None:
                fault, trace = from_child(frame.fault, file, function)
                run.answers[frame.index] = Answer(fault=fault, traceback=trace)
            else:
                got = _parse_array(payload)
                bad = Fault(kind=FaultKind.BAD_ANSWER) if got is None else None
                run.answers[frame.index] = Answer(output=got, fault=bad, time_s=frame.time)
    return run


def _job(
    problem: Problem, source: str, inputs: list[dict[str, object]], public: int, filename: str
) -> tuple[Job, bytes, bytes]:
    """The job, the first `public` cases' inputs, and the others' (hidden cases), sent only after the public ones."""
    arrays: list[dict[str, np.ndarray]] = [{}, {}]
    cases = []
    for i, case_inputs in enumerate(inputs):
        scalars = {k: v for k, v in case_inputs.items() if isinstance(v, (int, float))}
        given = {k: v for k, v in case_inputs.items() if isinstance(v, np.ndarray)}
        arrays[1 if i >= public else 0].update({f"{i}.{k}": v for k, v in given.items()})
        cases.append(CaseArgs(scalars=scalars, arrays=list(given)))
    payloads = []
    for part in arrays:
        buf = io.BytesIO()
        np.savez(buf, **part)  # type: ignore[arg-type]
        payloads.append(buf.getvalue())
    job = Job(
        module=problem.id,
        filename=filename,
        source=source,
        function=problem.meta.function,
        arg_names=[a.name for a in problem.meta.args],
        cases=cases,
        public=public if public < len(inputs) else None,
    )
    return job, payloads[0], payloads[1]


def _parse_array(payload: bytes) -> np.ndarray | None:
    """The learner's array, read strictly: plain numeric data or nothing."""
    try:
        arr = np.load(io.BytesIO(payload), allow_pickle=False)
    except Exception:
        return None
    return arr if isinstance(arr, np.ndarray) and arr.dtype.kind in "biuf" else None


def _fate(outcome: Outcome, limits: Limits) -> Fault:
    """Why the cases without a result have none: the fate of the whole run.

    Only facts the learner cannot forge decide it: the judge's own clock and channel reader, and the exit
    status the trusted keeper saw. The learner's stdout and stderr are evidence shown to people, never read here
    (printing "MemoryError" or "Killed" and exiting is a crash, not a memory verdict).
    """
    if outcome.overflow:
        return Fault(kind=FaultKind.OVERFLOW)
    if outcome.bad_frame:
        return Fault(kind=FaultKind.BAD_CHANNEL, text=outcome.bad_frame)
    where = next((Where(line=f.line or 0, code=f.text) for f, _ in outcome.frames if f.kind is Kind.WHERE), None)
    if outcome.limit == "memory":
        return Fault(kind=FaultKind.MEMORY_LIMIT, limit=limits.memory_mb, used=outcome.memory_mb or None)
    if outcome.limit == "cpu":
        return Fault(kind=FaultKind.CPU_LIMIT, limit=cpu_limit_s(limits), used=outcome.cpu_s or None, where=where)
    if outcome.limit == "tasks":
        return Fault(kind=FaultKind.TASKS_LIMIT, limit=TASKS)
    if outcome.timed_out == "import":
        return Fault(kind=FaultKind.IMPORT_TIMEOUT, limit=limits.import_s, where=where)
    if outcome.timed_out == "cases":
        return Fault(kind=FaultKind.CASES_TIMEOUT, limit=limits.time_s, where=where)
    if outcome.signal:
        valid = outcome.signal in signal.valid_signals()
        return Fault(kind=FaultKind.KILLED, error=signal.Signals(outcome.signal).name if valid else str(outcome.signal))
    return Fault(kind=FaultKind.EXITED, code=str(outcome.exit_code))


def _kept(text: str, total: int) -> str:
    """The kept start of a captured stream, cut at a line end when the rest was not kept."""
    if total > len(text.encode()):
        cut = text.rfind("\n")
        return text[: cut + 1] if cut >= 0 else text
    return text


# ---------------------------------------------------------------- in the caller's process


LEVEL_IN_PROCESS = "none (in your own process)"


class _TimeUp(BaseException):
    """Raised into the learner's function by the alarm; a BaseException so `except Exception` lets it by."""


class InProcessRunner:
    """The learner's function, called here in this process (a notebook's kernel): no sandbox, no memory limit.

    The time limit is a SIGALRM timer, so it holds only in the main thread (where a notebook's cells run)
    and stops Python code: a loop, a sleep. It cannot stop one long call inside compiled code (an XLA
    compilation, a huge numpy operation) until that call returns, nor code that catches every exception.
    `fn` None: the function was not found, and `names` are those the caller's namespace defines.
    """

    level = LEVEL_IN_PROCESS

    def __init__(self, fn: Callable[..., Any] | None, names: list[str] | None = None):
        self.fn, self.names = fn, names or []

    def run(self, problem: Problem, work: Work, tell: Tell) -> Run:
        function = problem.meta.function
        if self.fn is None:
            fault, _ = from_child(child.missing_function(function, self.names), wording.your_namespace(), function)
            return Run(level=self.level, load_fault=fault)
        arg_names = [a.name for a in problem.meta.args]
        run = Run(level=self.level)
        start = time.perf_counter()
        limits = work.limits
        with on_cpu(), _Alarm(limits.time_s) as timed:
            for i, x in enumerate(work.inputs):
                if timed.up:
                    break
                kwargs = {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in x.items()}  # theirs to change
                t0 = time.perf_counter()
                try:
                    timed.inside = True  # the alarm raises only into the learner's call, never into the judge's code
                    got, problem_found = child.to_array(child.call(self.fn, arg_names, kwargs), np)
                    timed.inside = False
                except _TimeUp as e:
                    timed.inside = False
                    run.fate = Fault(kind=FaultKind.CASES_TIMEOUT, limit=limits.time_s, where=_where(e))
                    break
                except KeyboardInterrupt:  # the learner stopping their own cell
                    raise
                except BaseException as e:
                    timed.inside = False
                    fault, trace = from_child(child.fault_of(e, _own), "", function)
                    run.answers[i] = Answer(fault=fault, traceback=trace)
                    continue
                if problem_found is not None:
                    run.answers[i] = Answer(fault=from_child(problem_found, "", function)[0])
                    continue
                run.answers[i] = Answer(output=got, time_s=round(time.perf_counter() - t0, 4))
                tell("case", i)
        if timed.up and run.fate is None:
            run.fate = Fault(kind=FaultKind.CASES_TIMEOUT, limit=limits.time_s)
        if run.fate is not None:
            run.limit = "wall"
        run.wall_s = round(time.perf_counter() - start, 3)
        return run


_JUDGE = str(Path(__file__).resolve().parents[1])
_LIBRARIES = tuple({p for p in (sys.prefix, sys.base_prefix, sys.exec_prefix) if p})


def _own(filename: str) -> bool:
    """A frame of the learner's code: not the judge's, nor a library's or Python's own."""
    outside = filename.startswith((_JUDGE, "<frozen", *_LIBRARIES))
    return not (outside or "site-packages" in filename or "dist-packages" in filename)


def _where(exc: BaseException) -> Where | None:
    """The learner's line the alarm interrupted."""
    mine = [f for f in traceback.extract_tb(exc.__traceback__) if _own(f.filename)]
    return Where(line=mine[-1].lineno or 0, code=(mine[-1].line or "").strip()[:200]) if mine else None


def on_cpu() -> contextlib.AbstractContextManager[object]:
    """JAX's CPU as the default device, as in the judge's sandbox: on a GPU (Colab) float32 matmuls may use
    TF32 and miss the tolerance. When JAX is not loaded yet, the reference loads it on the CPU anyway."""
    jax = sys.modules.get("jax")
    if jax is None:
        return contextlib.nullcontext()
    try:
        return jax.default_device(jax.devices("cpu")[0])
    except Exception:  # no JAX, or a kernel started without its CPU backend: the default device, then
        return contextlib.nullcontext()


class _Alarm:
    """A one-shot SIGALRM timer over all the cases; no limit outside the main thread (no signals there)."""

    def __init__(self, seconds: float):
        self.seconds, self.up, self.armed, self.inside = seconds, False, False, False

    def _fire(self, signum: int, frame: Any) -> None:
        self.up = True  # one shot: the cases not yet run are not run
        if self.inside:
            raise _TimeUp()

    def __enter__(self) -> _Alarm:
        if threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer"):
            self.old_handler = signal.signal(signal.SIGALRM, self._fire)
            self.old_timer = signal.setitimer(signal.ITIMER_REAL, self.seconds)
            self.armed, self.started = True, time.monotonic()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.armed:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, signal.SIG_DFL if self.old_handler is None else self.old_handler)
            if self.old_timer[0]:  # someone else's timer was running: give it back what is left
                left = self.old_timer[0] - (time.monotonic() - self.started)
                signal.setitimer(signal.ITIMER_REAL, max(left, 0.001), self.old_timer[1])
