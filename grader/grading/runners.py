"""Where a learner's code runs: in a sandbox (`judge run`, `batch`, `gradescope`) or in the caller's own process
(`check_function` in a notebook). Both runners give the same `Run` of facts, and grader/grading/pipeline.py
interprets either the same way: one case loop, one wording.

The learner's side of both is grader/child/runner.py: the sandbox's child calls it, and the in-process runner
calls the same functions (the call, the array check, an exception's facts), so a None return, a stub or an
endless loop is found, and said, alike.
"""

from __future__ import annotations

import io
import re
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from grader.child import protocol
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
    compile_s: float | None = None  # in the caller's process: JAX's compiling, not counted in wall_s


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
        cell=f.cell,
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

    def __init__(self, zygote: Zygote, source: str, filename: str = "", cells: Sequence[tuple[int, int, int]] = ()):
        self.zygote, self.source, self.level = zygote, source, zygote.level
        self.filename = filename  # the learner's own file name, which their tracebacks show
        self.cells = [list(c) for c in cells]  # a notebook's: where each kept piece of a cell starts (NotebookNote)

    def run(self, problem: Problem, work: Work, tell: Tell) -> Run:
        filename = sandbox_filename(problem, self.filename)
        with Sandbox(self.zygote, work.limits) as box:
            box.on_frame = lambda frame: tell(frame.kind.value, frame.index or 0)
            box.max_output = output_budget(work.expected_sizes)
            tell("import", 0)
            outcome = box.run(*_job(problem, self.source, work.inputs, work.public, filename, self.cells))
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
    problem: Problem, source: str, inputs: list[dict[str, object]], public: int, filename: str, cells: list[list[int]]
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
        cells=cells,
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
    said = [f for f, _ in outcome.frames if f.kind is (Kind.FOREVER if outcome.forever_s is not None else Kind.WHERE)]
    where = next((Where(line=f.line or 0, code=f.text, cell=f.cell) for f in said), None)
    forever = outcome.forever_s is not None
    used = round(outcome.forever_s, 1) if outcome.forever_s is not None else None
    if outcome.limit == "memory":
        return Fault(kind=FaultKind.MEMORY_LIMIT, limit=limits.memory_mb, used=outcome.memory_mb or None)
    if outcome.limit == "cpu":
        return Fault(kind=FaultKind.CPU_LIMIT, limit=cpu_limit_s(limits), used=outcome.cpu_s or None, where=where)
    if outcome.limit == "tasks":
        return Fault(kind=FaultKind.TASKS_LIMIT, limit=TASKS)
    if outcome.timed_out == "import":
        return Fault(kind=FaultKind.IMPORT_TIMEOUT, limit=limits.import_s, where=where, forever=forever, used=used)
    if outcome.timed_out == "cases":
        return Fault(kind=FaultKind.CASES_TIMEOUT, limit=limits.time_s, where=where, forever=forever, used=used)
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


LEVEL_IN_PROCESS = "none (in your own process)"  # the in-process runner's level: grader/grading/in_process.py
