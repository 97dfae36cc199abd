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
  LOAD_ERROR, then CASE frames (outputs as .npy payloads), then DONE.

The channel is written by the learner's process, so anything on it may be
forged: `FrameReader` bounds every frame's size and nesting and validates it,
and a bad frame raises `BadFrame`, which the judge blames on the learner.

Wire format, both directions: <u32 header length><u64 payload length><JSON header><payload>.

Example:
    >>> reader = FrameReader()
    >>> [(f.kind, p) for f, p in reader.feed(encode(Frame(Kind.CASE, index=0, status=CaseStatus.OK, time=0.5), b"x"))]
    [(<Kind.CASE: 'case'>, b'x')]
"""

from __future__ import annotations

import enum
import json
import struct
from dataclasses import asdict, dataclass, field
from typing import Any

PREFIX = struct.Struct("<IQ")
MAX_HEADER = 256 * 1024  # a result header is a few scalars and a cut message: far below this
MAX_DEPTH = 2  # headers are flat objects; deeper nesting is refused before it is parsed
MESSAGE_KEEP = 2000  # characters of a learner's error message kept
TRACEBACK_KEEP = 8000  # characters of a learner's traceback kept
MAX_TIME_S = 1e6
FORKED = b"forked"


class BadFrame(ValueError):
    """A message that breaks the protocol. On the channel, the learner's process sent it: their fault."""


class Kind(str, enum.Enum):
    READY = "ready"  # the process is set up (zygote: libraries imported; learner's: waiting for its job)
    IMPORTED = "imported"  # the learner's file was imported and has the function
    LOAD_ERROR = "load_error"  # the learner's file could not be imported, or lacks the function
    CASE = "case"  # one case's result
    DONE = "done"  # the learner's process finished on its own
    INTERNAL = "internal"  # the sandbox could not be set up (before any learner code ran)
    WHERE = "where"  # when a time limit struck: the learner's line that was running (shown, never trusted)


class CaseStatus(str, enum.Enum):
    OK = "ok"  # an array follows as payload
    ERROR = "error"  # the learner's code raised, or returned something that is not an array of numbers
    MEMORY = "memory"  # the learner's code raised MemoryError (the address-space limit was hit)


@dataclass(frozen=True)
class Frame:
    """One message on the channel or the control socket; which fields matter depends on `kind`."""

    kind: Kind
    index: int | None = None  # CASE
    status: CaseStatus | None = None  # CASE, LOAD_ERROR
    message: str = ""
    traceback: str = ""
    time: float | None = None  # CASE with OK: the call's seconds, as the learner's process measured them

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"kind": self.kind.value}
        if self.index is not None:
            doc["index"] = self.index
        if self.status is not None:
            doc["status"] = self.status.value
        if self.message:
            doc["message"] = self.message[:MESSAGE_KEEP]
        if self.traceback:
            doc["traceback"] = self.traceback[:TRACEBACK_KEEP]
        if self.time is not None:
            doc["time"] = self.time
        return doc

    @classmethod
    def from_json(cls, doc: object) -> Frame:
        """Validate a decoded header strictly; anything unexpected is a BadFrame."""
        if not isinstance(doc, dict):
            raise BadFrame("a frame header is not an object")
        unknown = set(doc) - {"kind", "index", "status", "message", "traceback", "time"}
        if unknown:
            raise BadFrame(f"unknown field {sorted(unknown)[0]!r}")
        kind = _enum(Kind, doc.get("kind"), "kind")
        index = doc.get("index")
        status = None if doc.get("status") is None else _enum(CaseStatus, doc["status"], "status")
        time = doc.get("time")
        if kind is Kind.CASE and (type(index) is not int or not 0 <= index < 1_000_000):
            raise BadFrame("a case frame without a valid index")
        if kind is not Kind.CASE and index is not None:
            raise BadFrame(f"a {kind.value} frame with an index")
        if kind in (Kind.CASE, Kind.LOAD_ERROR) and status is None:
            raise BadFrame(f"a {kind.value} frame without a status")
        if time is not None and not (type(time) in (int, float) and 0 <= time <= MAX_TIME_S):  # NaN fails too
            raise BadFrame("a case time that is not a number of seconds")
        for name in ("message", "traceback"):
            if not isinstance(doc.get(name, ""), str):
                raise BadFrame(f"a {name} that is not text")
        return cls(
            kind,
            index,
            status,
            doc.get("message", "")[:MESSAGE_KEEP],
            doc.get("traceback", "")[:TRACEBACK_KEEP],
            None if time is None else float(time),
        )


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

    def __init__(self, max_payload: int = 512 * 1024 * 1024):
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

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Job:  # written by the judge: read, not doubted
        return cls(**{**doc, "cases": [CaseArgs(**c) for c in doc["cases"]]})


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
