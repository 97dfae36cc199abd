"""The learner's side of a sandboxed run: import the learner's file, call it on every case, send the outputs.

Part of the child side with `worker.py` and `protocol.py`: stdlib and numpy only, nothing of the
judge. Everything here runs in the learner's process, so nothing it sends is trusted: the judge
reads the frames strictly and computes every verdict itself. Each case is first tried compiled whole
(`traced.py`); where that could give anything but the eager call's outcome, the call is made eagerly.
"""

from __future__ import annotations

import difflib
import importlib.util
import inspect
import io
import linecache
import os
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any, BinaryIO, NoReturn

if __package__:  # grader.runner, imported by the judge and its tests
    from grader.child import protocol
    from grader.child import traced
else:  # in the sandbox: loaded by worker.py from the folder it shares with protocol.py
    import protocol  # type: ignore[import-not-found,no-redef]
    import traced  # type: ignore[import-not-found,no-redef]

Frame, Kind, CaseStatus = protocol.Frame, protocol.Kind, protocol.CaseStatus


def send(channel: BinaryIO, frame: protocol.Frame, payload: bytes = b"") -> None:
    if frame.kind is Kind.CASE:  # what the case printed reaches its pipe before its result: it is shown with it
        traced.flush_output()
    channel.write(protocol.encode(frame, payload))
    channel.flush()


def shorten(path: str) -> str:
    marker = "site-packages" + os.sep
    return path.split(marker, 1)[1] if marker in path else os.path.basename(path)


def learner_traceback(exc: BaseException, filename: str) -> str:
    """The exception as the learner needs it: frames of their own file, then the error line."""
    frames = traceback.extract_tb(exc.__traceback__)
    own = [f for f in frames if f.filename == filename]
    lines = []
    if own:
        lines.append("Traceback (your code, most recent call last):\n")
        lines.extend(traceback.format_list(own))
        if frames and frames[-1].filename != filename:
            lines.append(f"  (raised inside {shorten(frames[-1].filename)})\n")
        lines.append(operand_shapes(exc, filename, own[-1].line or ""))
    lines.extend(traceback.format_exception_only(type(exc), exc))
    return "".join(lines).replace(filename, os.path.basename(filename))


def operand_shapes(exc: BaseException, filename: str, line: str) -> str:
    """The shapes of the arrays named on the learner's failing line ("  shapes there: q (2, 3, 4)")."""
    import re

    try:  # the values are the learner's: anything may fail, and nothing here may hide the real error
        frame = [f for f, _ in traceback.walk_tb(exc.__traceback__) if f.f_code.co_filename == filename][-1]
        names = dict.fromkeys(re.findall(r"[A-Za-z_]\w*", line))
        named = [(n, frame.f_locals[n]) for n in names if n in frame.f_locals]
        shapes = [
            f"{n} {tuple(v.shape)}"
            for n, v in named  # library arrays only: no learner property runs
            if str(type(v).__module__).split(".")[0] in ("numpy", "jaxlib", "jax") and isinstance(v.shape, tuple)
        ]
    except Exception:
        return ""
    return f"  shapes there: {', '.join(shapes)}\n" if shapes else ""


def classify(exc: BaseException) -> tuple[protocol.CaseStatus, str]:
    """The status of an exception raised by learner code, and a one-line message."""
    name = type(exc).__name__
    if isinstance(exc, MemoryError) or "RESOURCE_EXHAUSTED" in str(exc):
        return CaseStatus.MEMORY, f"{name}: ran out of memory"
    if isinstance(exc, SystemExit):
        return CaseStatus.ERROR, f"called sys.exit({exc.code!r}); return the result instead of exiting"
    text = str(exc).strip().splitlines()
    return CaseStatus.ERROR, f"{name}: {text[0]}" if text else name


def to_array(out: object, np: Any) -> tuple[Any, str | None]:
    """The learner's return value as a plain numeric ndarray, or a message saying why not."""
    if out is None or isinstance(out, (str, bytes, dict, set)):
        return None, f"returned {type(out).__name__}; expected an array of numbers"
    try:
        arr = np.array(np.asarray(out), copy=True)  # drops ndarray subclasses
    except Exception as e:
        return None, f"returned {type(out).__name__} that is not an array of numbers ({type(e).__name__}: {e})"
    if arr.dtype.kind not in "biuf":
        kind = "ragged or non-numeric" if arr.dtype.kind == "O" else str(arr.dtype)
        return None, f"returned {type(out).__name__} of {kind} values; expected an array of real numbers"
    return arr, None


def call(fn: Callable[..., Any], arg_names: list[str], kwargs: dict[str, Any]) -> Any:
    """Call by keyword when the learner's signature allows, else positionally in declared order."""
    try:
        inspect.signature(fn).bind(**kwargs)
    except (TypeError, ValueError):
        return fn(*[kwargs[n] for n in arg_names if n in kwargs])
    return fn(**kwargs)


def missing_function(job: protocol.Job, module: object) -> str:
    names = [n for n in vars(module) if not n.startswith("__")]
    near = difflib.get_close_matches(job.function, names, n=1)
    hint = f"; did you mean {near[0]!r}?" if near else f"; it defines: {', '.join(names) or 'nothing'}"
    return f"{job.filename} has no function {job.function!r}{hint}"


def say_where_on_signal(channel: BinaryIO, filename: str) -> None:
    """On SIGUSR1 (the judge's time limit struck), send the learner's line that is running. Learner code may
    replace the handler: then it only loses this hint."""
    import signal

    def where(signum: int, frame: Any) -> None:
        while frame is not None and frame.f_code.co_filename != filename:
            frame = frame.f_back
        if frame is not None:
            line = linecache.getline(filename, frame.f_lineno).strip()
            send(channel, Frame(Kind.WHERE, message=f"line {frame.f_lineno} (`{line[:200]}`)"))

    signal.signal(signal.SIGUSR1, where)


def run_job(channel: BinaryIO, workdir: str) -> None:
    """Say READY, read the job from stdin, import the learner's file, run every case, say DONE, exit."""
    import numpy as np

    send(channel, Frame(Kind.READY))
    stdin = sys.stdin.buffer  # the judge's, kept before learner code can replace sys.stdin
    job, payload = protocol.read_job(stdin)
    with np.load(io.BytesIO(payload), allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}  # all read before learner code can break the readers
    filename = os.path.join(workdir, job.filename)
    with open(filename, "w") as f:
        f.write(job.source)
    sys.path.insert(0, workdir)

    module = None
    say_where_on_signal(channel, filename)
    eager = os.environ.get("JUDGE_EAGER") == "1"  # read before learner code runs: for measuring, not theirs to set
    try:
        module, fn = load(job, filename)
    except LookupError as e:
        message = missing_function(job, e.args[0] if e.args else module)
        send(channel, Frame(Kind.LOAD_ERROR, status=CaseStatus.ERROR, message=message))
        finish(channel)
    except BaseException as e:
        status, message = classify(e)
        if isinstance(e, SyntaxError):
            message = f"SyntaxError in {job.filename} line {e.lineno}: {e.msg}"
        send(channel, Frame(Kind.LOAD_ERROR, status=status, message=message, traceback=learner_traceback(e, filename)))
        finish(channel)
    send(channel, Frame(Kind.IMPORTED))

    for i, case in enumerate(job.cases):
        if i == job.public:  # the hidden cases' inputs arrive only now
            with np.load(io.BytesIO(protocol.read_payload(stdin)), allow_pickle=False) as npz:
                arrays.update({k: npz[k] for k in npz.files})
        kwargs: dict[str, Any] = dict(case.scalars)
        kwargs.update({name: arrays[f"{i}.{name}"] for name in case.arrays})
        jax = None if eager else sys.modules.get("jax")  # never imported here: a learner without JAX runs eagerly
        start = time.perf_counter()
        used, out, spoiled = traced.traced_call(jax, call, fn, job.arg_names, kwargs) if jax else (False, None, False)
        if not used:  # from now on eagerly: whatever stopped this case's attempt would likely stop the next's
            eager = True
            start = time.perf_counter()  # the case's time is the eager run's, as its outcome is
        if spoiled:  # eager code then starts from the state it would have had (its import counts in the time limit)
            fn = reload(job, filename, fn)
        try:
            arr, problem = to_array(out if used else call(fn, job.arg_names, kwargs), np)
        except BaseException as e:
            status, message = classify(e)
            send(
                channel,
                Frame(Kind.CASE, index=i, status=status, message=message, traceback=learner_traceback(e, filename)),
            )
            continue
        elapsed = time.perf_counter() - start
        if problem:
            send(channel, Frame(Kind.CASE, index=i, status=CaseStatus.ERROR, message=problem))
            continue
        buf = io.BytesIO()
        np.save(buf, arr, allow_pickle=False)
        send(channel, Frame(Kind.CASE, index=i, status=CaseStatus.OK, time=elapsed), buf.getvalue())
    finish(channel)


def load(job: protocol.Job, filename: str) -> tuple[Any, Callable[..., Any]]:
    """Import the learner's file; LookupError(module) when it lacks the function."""
    spec = importlib.util.spec_from_file_location(job.module, filename)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[job.module] = module
    spec.loader.exec_module(module)
    fn = getattr(module, job.function, None)
    if not callable(fn):
        raise LookupError(module)
    return module, fn


def reload(job: protocol.Job, filename: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """The learner's function from a fresh import, where an attempt to compile it ran their code or left a tracer
    in their module (a cache); the old one if importing again fails. Its output was shown at the first import."""
    try:
        with traced.discarded():
            return load(job, filename)[1]
    except BaseException:
        return fn


def finish(channel: BinaryIO) -> NoReturn:
    traced.flush_output()
    send(channel, Frame(Kind.DONE))
    os._exit(0)  # skip atexit hooks and non-daemon threads the learner left behind
