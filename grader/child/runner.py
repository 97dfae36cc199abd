"""The learner's side of a sandboxed run: import the learner's file, call it on every case, send the outputs.

Part of the child side with `worker.py` and `protocol.py`: stdlib and numpy only, nothing of the
judge. Everything here runs in the learner's process, so nothing it sends is trusted: the judge
reads the frames strictly and computes every verdict itself. Each case is first tried compiled whole
(`traced.py`); where that could give anything but the eager call's outcome, the call is made eagerly. The first
compiled output is checked against an eager call: code that is right only when traced is graded eagerly.
"""

from __future__ import annotations

import difflib
import importlib.util
import inspect
import io
import linecache
import os
import re
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any, BinaryIO, NoReturn

if __package__:  # grader.child.runner: the judge's in-process runner (check_function) and its tests
    from grader.child import forever
    from grader.child import protocol
    from grader.child import traced
else:  # in the sandbox: loaded by worker.py from the child package's folder
    import forever  # type: ignore[import-not-found,no-redef]
    import protocol  # type: ignore[import-not-found,no-redef]
    import traced  # type: ignore[import-not-found,no-redef]

Frame, Kind, Fault, Why, Trace = protocol.Frame, protocol.Kind, protocol.Fault, protocol.Why, protocol.Trace
# JAX's note under an exception raised from traced code: about JAX's traceback, not the learner's mistake.
JAX_FOOTER = re.compile(
    r"\n?-{10,}\n*For simplicity, JAX has removed its internal frames[^\n]*"
    r"(\n[^\n]*JAX_TRACEBACK_FILTERING=off[^\n]*)?\n?(-{10,}\n?)?"
)


def send(channel: BinaryIO, frame: protocol.Frame, payload: bytes = b"") -> None:
    if frame.kind is Kind.CASE:  # what the case printed reaches its pipe before its result: it is shown with it
        traced.flush_output()
    channel.write(protocol.encode(frame, payload))
    channel.flush()


def shorten(path: str) -> str:
    marker = "site-packages" + os.sep
    return path.split(marker, 1)[1] if marker in path else os.path.basename(path)


class Places:
    """Where a line of the learner's code is, as they see it: in the file handed in (`filename`, shown by its
    base name); in a notebook's cell (`cells`: where each kept piece of a cell starts in the module, as [module
    line, cell, line in the cell]); or, in a kernel, in the cell whose file `kernel_cell` names (its
    execution count). Jupyter's own words for a cell's line: "Cell In[3], line 4"."""

    def __init__(
        self,
        filename: str = "",
        cells: list[list[int]] | None = None,
        kernel_cell: Callable[[str], int | None] | None = None,
    ):
        self.filename, self.cells, self.kernel_cell = filename, cells or [], kernel_cell

    def at(self, file: str, line: int) -> tuple[int | None, int]:
        """The cell holding this line (None in a plain file) and the line's number there."""
        if self.cells and file == self.filename:
            before = [c for c in self.cells if c[0] <= line]
            if before:
                start, cell, first = before[-1]
                return cell, line - start + first
        if self.kernel_cell is not None and file != self.filename:
            return self.kernel_cell(file), line
        return None, line

    def header(self, frame: traceback.FrameSummary) -> str:
        """A traceback entry's first line, as Python writes it but naming the cell or the file handed in."""
        cell, line = self.at(frame.filename, frame.lineno or 0)
        if cell is not None:
            return f"  Cell In[{cell}], line {line}, in {frame.name}\n"
        name = os.path.basename(frame.filename) if self.filename and frame.filename == self.filename else frame.filename
        return f'  File "{name}", line {frame.lineno}, in {frame.name}\n'

    def short(self, text: str) -> str:
        return text.replace(self.filename, os.path.basename(self.filename)) if self.filename else text


def trace_of(exc: BaseException, own: Callable[[str], bool], places: Places | None = None) -> protocol.Trace:
    """The exception as the learner needs it: the frames of their own code (`own` says which files are), the
    library file it was raised in, the shapes on their failing line and Python's lines for the exception.
    `places` names the learner's file or cell in each frame."""
    places = places or Places()
    frames = traceback.extract_tb(exc.__traceback__)
    mine = [f for f in frames if own(f.filename)]
    error = JAX_FOOTER.sub("\n", "".join(traceback.format_exception_only(type(exc), exc))).strip("\n") + "\n"
    if not mine:
        return Trace(error=places.short(error))
    last = frames[-1].filename if frames else ""
    return Trace(
        frames=tuple(_collapsed([places.header(f) + _body(f) for f in mine])[-protocol.FRAMES_KEEP :]),
        raised_inside=shorten(last) if not own(last) else "",
        shapes=operand_shapes(exc, own, mine[-1].line or ""),
        error=places.short(error),
    )


def _body(frame: traceback.FrameSummary) -> str:
    """A traceback entry's lines after its first: the code and its carets, as Python writes them."""
    return traceback.format_list([frame])[0].split("\n", 1)[1]


def _collapsed(entries: list[str]) -> list[str]:
    """Entries as Python shows them: after three alike in a row, one line counting the rest (a recursion)."""
    out: list[str] = []
    last, count = None, 0
    for entry in [*entries, None]:
        if entry != last:
            if count > 3:
                out.append(f"  [Previous line repeated {count - 3} more times]\n")
            last, count = entry, 0
        count += 1
        if entry is not None and count <= 3:
            out.append(entry)
    return out


def operand_shapes(exc: BaseException, own: Callable[[str], bool], line: str) -> tuple[str, ...]:
    """The shapes of the arrays named on the learner's failing line ("q (2, 3, 4)")."""
    try:  # the values are the learner's: anything may fail, and nothing here may hide the real error
        frame = [f for f, _ in traceback.walk_tb(exc.__traceback__) if own(f.f_code.co_filename)][-1]
        names = dict.fromkeys(re.findall(r"[A-Za-z_]\w*", line))
        named = [(n, frame.f_locals[n]) for n in names if n in frame.f_locals]
        return tuple(
            f"{n} {tuple(v.shape)}"
            for n, v in named  # library arrays only: no learner property runs
            if str(type(v).__module__).split(".")[0] in ("numpy", "jaxlib", "jax") and isinstance(v.shape, tuple)
        )
    except Exception:
        return ()


def fault_of(exc: BaseException, own: Callable[[str], bool], places: Places | None = None) -> protocol.Fault:
    """What an exception raised by learner code says about it, as facts."""
    name, places = type(exc).__name__, places or Places()
    trace = trace_of(exc, own, places)
    if isinstance(exc, MemoryError) or "RESOURCE_EXHAUSTED" in str(exc):
        return Fault(Why.OUT_OF_MEMORY, error=name, trace=trace)
    if isinstance(exc, SignatureMismatch):
        return Fault(Why.SIGNATURE, error=name, defines=tuple(exc.parameters), code=", ".join(exc.passed))
    if isinstance(exc, SystemExit):
        return Fault(Why.SYS_EXIT, code=repr(exc.code), trace=trace)
    if type(exc) is NotImplementedError:
        mine = [f for f in traceback.extract_tb(exc.__traceback__) if own(f.filename)]
        stub = [f for f in mine if re.match(r"raise NotImplementedError\b", (f.line or "").strip())]
        if stub:
            cell, line = places.at(stub[-1].filename, stub[-1].lineno or 0)
            return Fault(Why.STUB, error=name, line=line, cell=cell, trace=trace)
    text = str(exc).strip().splitlines()
    return Fault(Why.RAISED, error=name, text=text[0] if text else "", trace=trace)


def load_fault_of(exc: BaseException, own: Callable[[str], bool], places: Places | None = None) -> protocol.Fault:
    """Why importing the learner's file failed: a syntax error is reported as such, with its line."""
    places = places or Places()
    if isinstance(exc, SyntaxError):
        trace = trace_of(exc, own, places)
        cell, line = places.at(exc.filename or "", exc.lineno) if exc.lineno is not None else (None, None)
        return Fault(Why.SYNTAX, error=type(exc).__name__, text=str(exc.msg), line=line, cell=cell, trace=trace)
    return fault_of(exc, own, places)


def to_array(out: object, np: Any) -> tuple[Any, protocol.Fault | None]:
    """The learner's return value as a plain numeric ndarray, or why it is not one."""
    kind = type(out).__name__
    if out is None or isinstance(out, (str, bytes, dict, set)):
        return None, Fault(Why.RETURNED, error=kind)
    try:
        arr = np.array(np.asarray(out), copy=True)  # drops ndarray subclasses
    except Exception as e:
        return None, Fault(Why.NOT_AN_ARRAY, error=kind, text=f"{type(e).__name__}: {e}")
    if arr.dtype.kind not in "biuf":
        return None, Fault(Why.NOT_NUMERIC, error=kind, text="" if arr.dtype.kind == "O" else str(arr.dtype))
    return arr, None


def same_output(eager: Any, compiled: Any, np: Any) -> bool:
    """Whether the compiled call gave what the eager call gave, up to the rounding that compiling whole may
    change (fused operations), far below any problem's tolerance of a mistake."""
    if eager is None or compiled is None or eager.shape != compiled.shape:
        return False
    return bool(np.allclose(compiled, eager, rtol=1e-4, atol=1e-5, equal_nan=True))


class SignatureMismatch(TypeError):
    """The learner's function takes neither the judge's arguments by keyword nor in their declared order."""

    def __init__(self, parameters: list[str], passed: list[str]):
        super().__init__(f"({', '.join(parameters)}) cannot take ({', '.join(passed)})")
        self.parameters, self.passed = parameters, passed


def call(fn: Callable[..., Any], arg_names: list[str], kwargs: dict[str, Any]) -> Any:
    """Call by keyword when the learner's signature allows, else positionally in declared order."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):  # no signature to read (a builtin, a C function): just call it
        return fn(**kwargs)
    try:
        signature.bind(**kwargs)
    except TypeError:
        args = [kwargs[n] for n in arg_names if n in kwargs]
        try:
            signature.bind(*args)
        except TypeError:
            raise SignatureMismatch(list(signature.parameters), [n for n in arg_names if n in kwargs]) from None
        return fn(*args)
    return fn(**kwargs)


def missing_function(function: str, names: list[str]) -> protocol.Fault:
    """The function is not among the names the learner's module (or notebook) defines: the closest one, if any."""
    names = [n for n in names if not n.startswith("__")]
    near = difflib.get_close_matches(function, names, n=1)
    return Fault(Why.MISSING_FUNCTION, near=near[0] if near else "", defines=tuple(names))


def where(frame: Any, own: Callable[[str], bool], places: Places) -> tuple[int | None, int, str] | None:
    """The learner's line a running frame (or its callers) is at: its cell (in a notebook), number and code."""
    while frame is not None and not own(frame.f_code.co_filename):
        frame = frame.f_back
    if frame is None:
        return None
    file, line = frame.f_code.co_filename, frame.f_lineno
    return (*places.at(file, line), linecache.getline(file, line).strip()[:200])


def say_where_on_signal(channel: BinaryIO, places: Places) -> Callable[[int, Any], None]:
    """On SIGUSR1 (the judge's time limit struck), send the learner's line that is running. Learner code may
    replace the handler: then it only loses this hint. Returns the handler."""
    import signal

    def on_signal(signum: int, frame: Any) -> None:
        found = where(frame, lambda f: f == places.filename, places)
        if found is not None:
            send(channel, Frame(Kind.WHERE, cell=found[0], line=found[1], text=found[2]))

    signal.signal(signal.SIGUSR1, on_signal)
    return on_signal


def watch_for_loops(channel: BinaryIO, places: Places, judges: tuple[object, ...]) -> forever.Forever:
    """Started before learner code runs: a loop that can never end is reported at once (a FOREVER frame, with the
    learner's line), for the judge to stop the run then instead of at its limit."""

    def found(frame: Any) -> None:
        at = where(frame, lambda f: f == places.filename, places)
        if at is not None:
            send(channel, Frame(Kind.FOREVER, cell=at[0], line=at[1], text=at[2]))

    watch = forever.Forever(lambda f: f == places.filename, found, judges)
    watch.start()
    return watch


def run_job(channel: BinaryIO, workdir: str) -> None:
    """Say READY, read the job from stdin, import the learner's file, run every case, say DONE, exit."""
    import numpy as np

    send(channel, Frame(Kind.READY))
    stdin = sys.stdin.buffer  # the judge's, kept before learner code can replace sys.stdin
    job, payload = protocol.read_job(stdin)
    with np.load(io.BytesIO(payload), allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}  # all read before learner code can break the readers
    # In a folder of its own, off sys.path: a file handed in as numpy.py does not shadow numpy.
    os.mkdir(os.path.join(workdir, "handin"))
    filename = os.path.join(workdir, "handin", job.filename)
    with open(filename, "w") as f:
        f.write(job.source)
    sys.path.insert(0, workdir)

    module = None
    places = Places(filename, job.cells)
    loops = watch_for_loops(channel, places, (say_where_on_signal(channel, places),))
    eager = os.environ.get("JUDGE_EAGER") == "1"  # read before learner code runs: for measuring, not theirs to set

    def own(name: str) -> bool:
        return name == filename

    try:
        module, fn = load(job, filename)
    except LookupError as e:
        module = e.args[0] if e.args else module
        send(channel, Frame(Kind.LOAD_ERROR, fault=missing_function(job.function, list(vars(module)))))
        finish(channel)
    except BaseException as e:
        send(channel, Frame(Kind.LOAD_ERROR, fault=load_fault_of(e, own, places)))
        finish(channel)
    send(channel, Frame(Kind.IMPORTED))

    compared = False
    for i, case in enumerate(job.cases):
        if i == job.public:  # the hidden cases' inputs arrive only now
            with np.load(io.BytesIO(protocol.read_payload(stdin)), allow_pickle=False) as npz:
                arrays.update({k: npz[k] for k in npz.files})
        kwargs: dict[str, Any] = dict(case.scalars)
        kwargs.update({name: arrays[f"{i}.{name}"] for name in case.arrays})
        jax = None if eager else sys.modules.get("jax")  # never imported here: a learner without JAX runs eagerly
        loops.phase()
        start = time.perf_counter()
        used, out, spoiled = traced.traced_call(jax, call, fn, job.arg_names, kwargs) if jax else (False, None, False)
        if not used:  # from now on eagerly: whatever stopped this case's attempt would likely stop the next's
            eager = True
            start = time.perf_counter()  # the case's time is the eager run's, as its outcome is
        checked = used and not compared  # the first compiled output is checked against the eager call's
        # Eager code then starts from the state it would have had (its import counts in the time limit).
        if spoiled or checked:
            fn = reload(job, filename, fn)
        if checked:
            start = time.perf_counter()  # the case's time is the eager run's, as its outcome is
        try:
            arr, fault = to_array(out if used and not checked else call(fn, job.arg_names, kwargs), np)
        except BaseException as e:
            send(channel, Frame(Kind.CASE, index=i, fault=fault_of(e, own, places)))
            eager = eager or checked  # the eager call raised where the compiled one did not
            continue
        if checked:  # code that is right only when traced (it tests for a tracer) is graded as it runs eagerly
            compared = True
            traced_arr, _ = to_array(out, np)
            eager = eager or not same_output(arr, traced_arr, np)
        elapsed = time.perf_counter() - start
        if fault is not None:
            send(channel, Frame(Kind.CASE, index=i, fault=fault))
            continue
        buf = io.BytesIO()
        np.save(buf, arr, allow_pickle=False)
        send(channel, Frame(Kind.CASE, index=i, time=elapsed), buf.getvalue())
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
