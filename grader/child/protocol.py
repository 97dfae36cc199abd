"""The messages between the judge and its sandboxed children, as typed frames.

Stdlib only and nothing of the judge: the child side (`worker.py`, `runner.py`)
loads this file beside itself inside the sandbox, where the judge's package is
not visible. Both sides build and read every message through it.

Who says what:

* judge -> zygote, once: `ZygoteConfig` (argv); zygote -> judge: a `Frame` of
  kind READY or INTERNAL on the control socket; then per sandbox, judge ->
  zygote: a `Spawn` with the descriptors, answered with ``FORKED``.
* keeper -> judge (status pipe, trusted): `KeeperReport` lines, the learner's
  pid, then its exit code and peak memory.
* judge -> learner's process (stdin): one `Job` frame with the inputs as payload.
* learner's process -> judge (channel): `Frame`s READY, then IMPORTED or
  LOAD_ERROR, then CASE frames (outputs as .npy payloads, or why there is none), then DONE.

No frame carries a sentence: the learner's process reports what it found (an exception's type and text,
the line of a starter stub, the names a file defines), and the judge words it.

The channel is written by the learner's process, so anything on it may be
forged: `FrameReader` bounds every frame's size and nesting and validates it,
and a bad frame raises `BadFrame`, which the judge blames on the learner.

Wire format, both directions: <u32 header length><u64 payload length><JSON header><payload>.

Example:
    >>> reader = FrameReader()
    >>> [(f.kind, p) for f, p in reader.feed(encode(Frame(Kind.CASE, index=0, time=0.5), b"x"))]
    [(<Kind.CASE: 'case'>, b'x')]
"""

from __future__ import annotations

import enum
import json
import socket
import struct
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

PREFIX = struct.Struct("<IQ")
MAX_HEADER = 256 * 1024  # a result header is a few scalars, cut texts and a short traceback: far below this
MAX_DEPTH = 2  # a header is an object of scalars and lists of strings; deeper nesting is refused unread
TEXT_KEEP = 2000  # characters of one text of the learner's (an error message, a line of code) kept
NAMES_KEEP = 50  # names a module defines, kept for a missing function's report
FRAMES_KEEP = 64  # entries of a traceback kept (Python folds a recursion's repeated frames into one entry)
MAX_TIME_S = 1e6
FORKED = b"forked"
CHANNEL_MAX = 512 * 1024 * 1024  # a learner's result channel, in all: results larger than this are refused
COMPILE_REQUEST_MAX = 16 << 20  # one request to the compile service: a program with large constants fits
PR_SET_CHILD_SUBREAPER = 36  # prctl: orphans of a process's descendants are reparented to it


class BadFrame(ValueError):
    """A message that breaks the protocol. On the channel, the learner's process sent it: their fault."""


class Kind(str, enum.Enum):
    READY = "ready"  # the process is set up (zygote: libraries imported; learner's: waiting for its job)
    IMPORTED = "imported"  # the learner's file was imported and has the function
    LOAD_ERROR = "load_error"  # the learner's file could not be imported, or lacks the function: `why` says
    CASE = "case"  # one case's result: an array as payload, or `why` it has none
    DONE = "done"  # the learner's process finished on its own
    INTERNAL = "internal"  # the sandbox could not be set up (before any learner code ran): `text` says what failed
    WHERE = "where"  # when a time limit struck: the learner's line that was running (shown, never trusted)
    FOREVER = "forever"  # the learner's code is in a loop that can never end (child/forever.py), at this line


class Why(str, enum.Enum):
    """Why a case (or the learner's file) has no answer, as the learner's process found it: facts, never
    sentences. The judge makes the sentences (grader/render/wording.py) and decides the status."""

    RAISED = "raised"  # error (the exception's type), text (its first line); a trace
    OUT_OF_MEMORY = "out_of_memory"  # error: MemoryError, or an XLA error saying RESOURCE_EXHAUSTED
    SYS_EXIT = "sys_exit"  # code: the repr of the code sys.exit was called with
    STUB = "stub"  # the starter's `raise NotImplementedError` ran: line; a trace
    RETURNED = "returned"  # error: the type returned (None, a string, a dict...): not an array at all
    NOT_AN_ARRAY = "not_an_array"  # error: the type returned; text: why numpy could not make an array of it
    NOT_NUMERIC = "not_numeric"  # error: the type returned; text: its dtype ("" for ragged or objects)
    MISSING_FUNCTION = "missing_function"  # the file lacks the function: near (a close name), defines
    SIGNATURE = "signature"  # the function cannot take the judge's arguments: defines (its parameters), code
    # (the arguments the judge passes, comma-separated)
    SYNTAX = "syntax"  # line, text (the parser's message); a trace
    CANNOT_IMPORT = "cannot_import"  # INTERNAL: the zygote could not import a library: text
    CANNOT_START = "cannot_start"  # INTERNAL: the learner's process could not be set up: text


@dataclass(frozen=True)
class Trace:
    """An exception as the learner needs it: the frames of their own code, innermost last, as Python formats
    them; the library file it was raised in, when it was; the shapes of the arrays named on the failing line
    ("q (2, 3, 4)"); and Python's own lines for the exception."""

    frames: tuple[str, ...] = ()
    raised_inside: str = ""
    shapes: tuple[str, ...] = ()
    error: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "frames": list(self.frames),
            "raised_inside": self.raised_inside,
            "shapes": list(self.shapes),
            "error": self.error,
        }


@dataclass(frozen=True)
class Fault:
    """Why a case or the file has no answer, as the learner's process found it (which fields are set: see Why)."""

    why: Why
    error: str = ""
    text: str = ""
    line: int | None = None
    near: str = ""
    defines: tuple[str, ...] = ()
    code: str = ""
    trace: Trace | None = None
    cell: int | None = None  # a notebook's cell holding `line` (then `line` counts in that cell)


@dataclass(frozen=True)
class Frame:
    """One message on the channel or the control socket; which fields matter depends on `kind`."""

    kind: Kind
    index: int | None = None  # CASE
    fault: Fault | None = None  # CASE without an answer, LOAD_ERROR, INTERNAL
    line: int | None = None  # WHERE, FOREVER: the learner's line that was running
    text: str = ""  # WHERE, FOREVER: that line's code
    time: float | None = None  # CASE with an answer: the call's seconds, as the learner's process measured them
    cell: int | None = None  # WHERE, FOREVER: the notebook cell holding that line

    def to_json(self) -> dict[str, Any]:
        """One flat object: the fault's fields beside the frame's own (a fault's `line` and `text` are WHERE's)."""
        doc: dict[str, Any] = {"kind": self.kind.value}
        if self.index is not None:
            doc["index"] = self.index
        if self.time is not None:
            doc["time"] = self.time
        f = self.fault
        line, text, cell = (f.line, f.text, f.cell) if f is not None else (self.line, self.text, self.cell)
        if f is not None:
            doc["why"] = f.why.value
            doc.update({k: getattr(f, k)[:TEXT_KEEP] for k in ("error", "near", "code") if getattr(f, k)})
            if f.defines:
                doc["defines"] = [n[:TEXT_KEEP] for n in f.defines[:NAMES_KEEP]]
            if f.trace is not None:
                doc.update({f"trace_{k}": v for k, v in f.trace.to_json().items() if v})
        if line is not None:
            doc["line"] = line
        if cell is not None:
            doc["cell"] = cell
        if text:
            doc["text"] = text[:TEXT_KEEP]
        return doc

    @classmethod
    def from_json(cls, doc: object) -> Frame:
        """Validate a decoded header strictly; anything unexpected is a BadFrame."""
        if not isinstance(doc, dict):
            raise BadFrame("a frame header is not an object")
        known = {"kind", "index", "why", "error", "text", "line", "cell", "near", "defines", "code", "time"}
        known |= {"trace_frames", "trace_raised_inside", "trace_shapes", "trace_error"}
        unknown = set(doc) - known
        if unknown:
            raise BadFrame(f"unknown field {sorted(unknown)[0]!r}")
        kind = _enum(Kind, doc.get("kind"), "kind")
        index = doc.get("index")
        why = None if doc.get("why") is None else _enum(Why, doc["why"], "why")
        time = doc.get("time")
        if kind is Kind.CASE and (type(index) is not int or not 0 <= index < 1_000_000):
            raise BadFrame("a case frame without a valid index")
        if kind is not Kind.CASE and index is not None:
            raise BadFrame(f"a {kind.value} frame with an index")
        if kind in (Kind.LOAD_ERROR, Kind.INTERNAL) and why is None:
            raise BadFrame(f"a {kind.value} frame without a why")
        if why is not None and kind not in (Kind.CASE, Kind.LOAD_ERROR, Kind.INTERNAL):
            raise BadFrame(f"a {kind.value} frame with a why")
        if time is not None and not (type(time) in (int, float) and 0 <= time <= MAX_TIME_S):  # NaN fails too
            raise BadFrame("a case time that is not a number of seconds")
        line, cell = doc.get("line"), doc.get("cell")
        line, cell = (None if v is None else _int(v) for v in (line, cell))
        texts = {name: _text(doc, name) for name in ("error", "text", "near", "code", "trace_raised_inside")}
        if why is None:
            return cls(kind, index, None, line, texts["text"], None if time is None else float(time), cell)
        trace = None
        if any(k.startswith("trace_") for k in doc):
            trace = Trace(
                frames=tuple(_str(f) for f in _list(doc.get("trace_frames", []), FRAMES_KEEP)),
                raised_inside=texts["trace_raised_inside"],
                shapes=tuple(_str(s) for s in _list(doc.get("trace_shapes", []), 64)),
                error=_text(doc, "trace_error", 4 * TEXT_KEEP),
            )
        defines = tuple(_str(n) for n in _list(doc.get("defines", []), NAMES_KEEP))
        fault = Fault(why, texts["error"], texts["text"], line, texts["near"], defines, texts["code"], trace, cell)
        return cls(kind, index, fault, time=None if time is None else float(time))


def _text(doc: dict[str, Any], name: str, keep: int = TEXT_KEEP) -> str:
    value = doc.get(name, "")
    if not isinstance(value, str):
        raise BadFrame(f"a {name} that is not text")
    return value[:keep]


def _str(value: object) -> str:
    if not isinstance(value, str):
        raise BadFrame("a list item that is not text")
    return value[:TEXT_KEEP]


def _int(value: object) -> int:
    if type(value) is not int or not 0 <= value < 10_000_000:
        raise BadFrame("a line that is not a line number")
    return value


def _list(value: object, keep: int) -> list[Any]:
    """A list of at most `keep` items (more is refused)."""
    if not isinstance(value, list) or len(value) > keep:
        raise BadFrame(f"a list that is not one of at most {keep} items")
    return value


def _enum(enum_type: type[enum.Enum], value: object, name: str) -> Any:
    try:
        return enum_type(value)
    except ValueError:
        raise BadFrame(f"unknown {name} {str(value)[:40]!r}") from None


def encode(header: Frame | Job, payload: bytes = b"") -> bytes:
    data = json.dumps(header.to_json()).encode()
    return PREFIX.pack(len(data), len(payload)) + data + payload


def _reject_constant(name: str) -> float:
    raise BadFrame(f"{name} is not a number JSON allows")


def parse_header(data: bytes, max_depth: int = MAX_DEPTH) -> object:
    """JSON, read only when it is small and shallow enough to be read safely."""
    if len(data) > MAX_HEADER:
        raise BadFrame(f"a frame header of {len(data):,} bytes")
    if data.count(b"[") + data.count(b"{") > max_depth and nesting(data) > max_depth:
        raise BadFrame("a frame header nested too deep")
    try:
        return json.loads(data, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as e:  # BadFrame is a ValueError too
        raise BadFrame(f"a frame header that is not JSON ({str(e)[:80]})") from None


def nesting(data: bytes) -> int:
    """How deep JSON arrays and objects nest in `data`, brackets inside strings not counted."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in data:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


class FrameReader:
    """Splits a byte stream into validated frames; bounded: a header past MAX_HEADER is refused unread."""

    def __init__(self, max_payload: int = CHANNEL_MAX):
        self._data = bytearray()
        self.max_payload = max_payload

    def feed(self, chunk: bytes) -> list[tuple[Frame, bytes]]:
        """Add bytes; return the frames they complete. Raises BadFrame on the first bad one."""
        self._data += chunk
        frames = []
        while len(self._data) >= PREFIX.size:
            n_header, n_payload = PREFIX.unpack_from(self._data)
            if n_header > MAX_HEADER or n_payload > self.max_payload:
                raise BadFrame(f"a frame announcing {n_header:,} + {n_payload:,} bytes")
            end = PREFIX.size + n_header + n_payload
            if len(self._data) < end:
                break
            header = Frame.from_json(parse_header(bytes(self._data[PREFIX.size : PREFIX.size + n_header])))
            frames.append((header, bytes(self._data[PREFIX.size + n_header : end])))
            del self._data[:end]
        return frames

    @property
    def pending(self) -> int:
        """Bytes of an unfinished frame: left over when the stream ends, a truncated message."""
        return len(self._data)


# ---------------------------------------------------------------- judge -> children


@dataclass(frozen=True)
class CaseArgs:
    scalars: dict[str, int | float]  # scalar arguments, by name
    arrays: list[str]  # array arguments, found in the job's payload (an .npz) as "<case index>.<name>"


@dataclass(frozen=True)
class Job:
    """The one message a learner's process gets: its source and how to call it; inputs are the payload."""

    module: str
    filename: str
    source: str
    function: str
    arg_names: list[str]
    cases: list[CaseArgs]
    # The first `public` cases' inputs come with the job; the others' (hidden cases) only once every public
    # case has its result, as a second frame: learner code never holds them while public feedback is made.
    public: int | None = None  # None: every case's inputs come with the job
    # A notebook's module: where each kept piece of a cell starts, as [module line, cell, line in the cell], so
    # that tracebacks and lines name the cell as Jupyter does ("Cell In[3], line 4").
    cells: list[list[int]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Job:  # written by the judge: read, not doubted
        return cls(**{**doc, "cases": [CaseArgs(**c) for c in doc["cases"]]})


def requests(control: socket.socket, size: int, max_fds: int) -> Iterator[tuple[bytes, list[int]]]:
    """What the judge sends on a control socket (a zygote's, the compile service's), with the descriptors that
    come with each message, until it hangs up."""
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(control, size, max_fds)
        except OSError:
            return
        if not message:
            return  # the judge is gone
        yield message, fds


def read_payload(stream: Any) -> bytes:
    """The child side: the payload of the judge's next frame (the hidden cases' inputs)."""
    head = stream.read(PREFIX.size)
    if len(head) < PREFIX.size:
        raise EOFError("no payload")
    n_header, n_payload = PREFIX.unpack(head)
    stream.read(n_header)
    return stream.read(n_payload)


def read_job(stream: Any) -> tuple[Job, bytes]:
    """The child side: read the judge's job frame from a binary stream."""
    head = stream.read(PREFIX.size)
    if len(head) < PREFIX.size:
        raise EOFError("no job")
    n_header, n_payload = PREFIX.unpack(head)
    return Job.from_json(json.loads(stream.read(n_header))), stream.read(n_payload)


@dataclass(frozen=True)
class ZygoteConfig:
    site_dirs: list[str]  # as the sandbox sees them
    preimport: list[str]
    hidden_paths: list[str]  # taken off sys.path: the judge's checkout
    control_fd: int

    def to_argv(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_argv(cls, text: str) -> ZygoteConfig:
        return cls(**json.loads(text))


@dataclass(frozen=True)
class Spawn:
    """How the keeper sets up one learner's process."""

    isolate: bool  # fresh namespaces and mounts (the bwrap level)
    uid: int | None  # a uid of its own (when the judge is root)
    limits: dict[str, int]  # RLIMIT_* name -> value
    workdir: str
    tmp_mb: int
    shm_mb: int
    # Files opened as uid 0 still (a root judge whose runtime only root can reach): the process level has no
    # mounts to show the runtime to another uid. Signals, limits and ownership are the learner's own uid's.
    files_as_root: bool = False
    hide: list[str] = field(default_factory=list)  # folders covered by an empty tmpfs (the child's own code)
    # The process level's confinement (Landlock, seccomp): None where it is not applied.
    read: list[str] | None = None  # the only paths it may read
    write: list[str] | None = None  # the only paths it may write
    joins: int = 0  # descriptors after the six: `cgroup.procs` files the learner's process joins before its code runs
    # Where no cgroup bounds the sandbox, the keeper does (watch.py): memory_mb, cpu_s and tasks, summed.
    watch: dict[str, float] | None = None

    def to_bytes(self) -> bytes:
        return json.dumps(asdict(self)).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> Spawn:
        return cls(**json.loads(data))


# ---------------------------------------------------------------- keeper -> judge


@dataclass(frozen=True)
class KeeperReport:
    """One line from the trusted keeper: the learner's pid, its end, or why it could not start."""

    pid: int | None = None
    exit: int | None = None  # as os.waitstatus_to_exitcode: negative for a signal
    maxrss_kb: int | None = None  # the learner's own process
    error: str | None = None
    limit: str | None = None  # the keeper killed the sandbox over this summed limit: memory, cpu or tasks
    peak_kb: int | None = None  # as the keeper's supervision measured them, summed over the sandbox's processes
    cpu_ms: int | None = None

    def to_line(self) -> bytes:
        return json.dumps({k: v for k, v in asdict(self).items() if v is not None}).encode() + b"\n"

    @classmethod
    def from_line(cls, line: bytes) -> KeeperReport:
        doc = json.loads(line)
        return cls(**{k: doc[k] for k in cls.__dataclass_fields__ if k in doc})
