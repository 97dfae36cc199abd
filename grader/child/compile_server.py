"""The compile service's process: compiles learners' XLA programs into the shared compilation cache.

Trusted, outside any sandbox, and the only writer of the cache besides the judge's own reference runs.
Run as a script (``python -I compile_server.py CONTROL_FD``) by `compile_service.CompileService`;
standard library, numpy and jax only. Each sandbox's learner gets a connection of its own (passed in
over the control socket); on it the learner sends a program it failed to find in the cache, and gets
back the key the program was stored under, or a refusal. The learner then loads the executable
with its own key, and compiles locally when the two differ.

What the learner sends is only the program (MLIR bytecode) and the three sharding-propagation
facts JAX's options carry for it (booleans). The service builds every compile option itself, with
the judge's XLA flags (its environment), computes the key from what it parsed with JAX's own
`get_cache_key`, and stores the executable under that key only: a learner can make it compile its
own program, never place an entry under another program's key. Programs with a custom call not on
ALLOWED_TARGETS (host callbacks hold pointers into the learner's process) are refused.

The process itself is a dispatcher that imports no JAX and reads no more of a request than its length:
each request goes to a worker process (this script run with ``--worker``), one request per worker at a
time. Parsing holds Python's lock and constant folding can take gigabytes, so a worker can be stopped
only from outside: past the request's time or the learner's memory limit it is killed, the learner
compiles locally, and a fresh worker takes its place. With every worker busy, a learner is refused at
once (it compiles locally) rather than queued: no learner waits on another's program. Each connection has
a budget (requests, bytes stored, compile seconds) and the cache a size (its oldest entries are evicted).
"""

from __future__ import annotations

import json
import os
import re
import resource
import select
import socket
import struct
import subprocess
import sys
import threading
import time
from typing import Any, BinaryIO

if __package__:  # grader.child.compile_server, imported by the judge's tests
    from grader.child import confine, protocol
else:  # run as a script (trusted, outside any sandbox): its siblings are plain modules beside it
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import confine  # type: ignore[import-not-found,no-redef]
    import protocol  # type: ignore[import-not-found,no-redef]

    del sys.path[0]

MAX_REQUEST = protocol.COMPILE_REQUEST_MAX  # bytes of one request: a program with large constants fits, a flood not
MAX_FLAGS = 4096  # arguments or results of one program
MAX_ANSWER = 4096  # bytes of a worker's answer: a key or a refusal
COMPILE_S = 30.0  # one request's parse and compile; a worker running longer is killed
MEMORY_BYTES = 8 << 30  # address space of each process, a backstop; JAX's CPU client alone reserves about 1.5 GB
# A request's resident memory (the worker's whole process) when the judge names no learner limit: the default
# memory_mb of a problem. The judge passes the learner's own limit: no program the learner could not have
# compiled in its own sandbox is compiled here.
LEARNER_MEMORY = 2048 << 20
WORKERS = max(2, (os.cpu_count() or 2) // 2)  # requests compiled at once; more learners than that compile locally
START_S = 60.0  # for a worker to import JAX
# A request waits this long for a worker that is starting (a learner waits 3 s for its answer, compile_hook.WAIT_S,
# and then stops asking): one refused sooner compiles locally and asks again next time.
TAKE_S = 2.0
WATCH_S = 0.05  # how often a working worker's memory is read
# One connection (a learner's sandbox) in all; past any of these it is refused and compiles locally. A correct
# learner of every problem, graded on all its cases, asked at most 120 requests (eagerly; 44 traced) which took
# at most 7.2 s of compiling on a busy 2-core machine and stored at most 0.41 MB (`judge batch` of
# tests/submissions/*/correct*, with JUDGE_EAGER=1 and without).
MAX_REQUESTS = 1000
MAX_STORED = 32 << 20
MAX_COMPILE_S = 60.0
CACHE_BYTES = 2 << 30  # the whole cache: past it, its oldest entries are evicted (a batch of correct learners: MBs)
NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,127}")  # a module name, as part of a file name in the cache
# Custom calls that run code compiled into jaxlib (sharding markers, 64-bit splitting, LAPACK, FFT), never
# code named by the learner: host callbacks carry a pointer into the learner's process.
ALLOWED_TARGETS = {"Sharding", "SPMDFullToShardShape", "SPMDShardToFullShape", "X64Combine", "X64SplitLow"}
ALLOWED_TARGETS |= {"X64SplitHigh", "annotate_device_placement", "ducc_fft"}
ALLOWED_PREFIXES = ("lapack_",)
REFUSED_OPS = {"infeed", "outfeed", "send", "recv"}  # host transfers: nothing on the other end


class Refused(Exception):
    """The request is not compiled; the learner compiles it locally."""


class AtomicFiles:
    """The cache's files, as JAX's own file cache lays them out, written whole or not at all: a learner
    reading an entry while it is written sees none. Readable by every uid (learners have their own).
    Holds at most `limit` bytes of entries, evicting the oldest; `room` is what this request may add."""

    def __init__(self, path: str, limit: int = CACHE_BYTES):
        self._path, self.limit = path, limit
        self.room = limit  # bytes the current request may store: what is left of its learner's budget
        self.stored = 0  # bytes the current request stored

    def get(self, key: str) -> bytes | None:
        try:
            with open(os.path.join(self._path, f"{key}-cache"), "rb") as f:
                return f.read()
        except FileNotFoundError:
            return None

    def put(self, key: str, value: bytes) -> None:
        final = os.path.join(self._path, f"{key}-cache")
        if os.path.exists(final):
            return
        if len(value) > self.room:
            raise Refused("budget")
        tmp = os.path.join(self._path, f".tmp-{os.getpid()}-{threading.get_ident()}")
        with open(tmp, "wb") as f:
            f.write(value)
        os.chmod(tmp, 0o644)
        os.replace(tmp, final)
        self.stored += len(value)
        self.evict(keep=final)

    def evict(self, keep: str) -> None:
        """Remove the oldest entries (by mtime) until the cache fits its limit. Files being written are
        `.tmp-*`, never an entry; an entry another worker removed first is passed over."""
        entries = []
        with os.scandir(self._path) as found:
            for entry in found:
                if entry.name.endswith("-cache"):
                    try:
                        info = entry.stat()
                    except FileNotFoundError:
                        continue
                    entries.append((info.st_mtime, info.st_size, entry.path))
        total = sum(size for _, size, _ in entries)
        for _, size, path in sorted(entries):
            if total <= self.limit:
                return
            if path != keep:
                try:
                    os.unlink(path)
                except FileNotFoundError:
                    pass
                total -= size

    def clear(self) -> None:
        pass


class Compiler:
    """JAX's compile path, with every option the service's own. Runs in a worker only."""

    def __init__(self) -> None:
        import numpy as np
        from jax._src import compilation_cache, compiler, xla_bridge
        from jax._src.interpreters import mlir
        from jax._src.lib import xla_client
        from jax._src.lib.mlir import ir

        self.np, self.cc, self.compiler, self.mlir, self.ir = np, compilation_cache, compiler, mlir, ir
        self.backend = xla_bridge.get_backend("cpu")
        self.device = self.backend.local_devices()[0]
        self.device_list = xla_client.DeviceList((self.device,))
        self.files = AtomicFiles(os.environ["JAX_COMPILATION_CACHE_DIR"])
        compilation_cache._cache = self.files  # type: ignore[assignment]  # duck-typed: get, put
        compilation_cache._cache_initialized = True

    def request(self, body: bytes, room: int) -> tuple[str, int]:
        """Compile one request's program into the cache (unless it is there already), storing at most `room`
        bytes; return its key and the bytes stored."""
        self.files.room, self.files.stored = room, 0
        return self._request(body), self.files.stored

    def _request(self, body: bytes) -> str:
        if len(body) < 4:
            raise Refused("short request")
        (n,) = struct.unpack(">I", body[:4])
        header, bytecode = json.loads(body[4 : 4 + n]), body[4 + n :]
        tupled, params, outputs = header.get("tuple"), header.get("params"), header.get("outputs")
        if not isinstance(tupled, bool) or not all(flags(x) for x in (params, outputs)):
            raise Refused("bad header")
        with self.mlir.make_ir_context():
            module = self.ir.Module.parse(bytecode)
            if not module.operation.verify():
                raise Refused("invalid module")
            name = self.ir.StringAttr(module.operation.attributes["sym_name"]).value
            if not NAME.fullmatch(name):
                raise Refused("module name")
            check_ops(module)
            options = self.compiler.get_compile_options(
                num_replicas=1,
                num_partitions=1,
                device_assignment=self.np.array([[self.device]]),
                detailed_logging=self.compiler.use_detailed_logging(module),
                backend=self.backend,
            )
            options.parameter_is_tupled_arguments = tupled
            options.executable_build_options.allow_spmd_sharding_propagation_to_parameters = params
            options.executable_build_options.allow_spmd_sharding_propagation_to_output = outputs
            devices = self.np.array([[self.device]])
            key: str = self.cc.get_cache_key(module, devices, options, self.backend)
            if self.cc.is_executable_in_cache(self.backend, key):
                return key
            start = time.monotonic()
            executable = self.compiler.backend_compile_and_load(self.backend, module, self.device_list, options, [])
            self.cc.put_executable_and_time(key, name, executable, self.backend, int(time.monotonic() - start))
        return key


def flags(value: object) -> bool:
    return isinstance(value, list) and len(value) <= MAX_FLAGS and all(isinstance(v, bool) for v in value)


def check_ops(module: object) -> None:
    """Refuse custom calls not on the allow-list (host callbacks among them) and host transfers."""
    bad: list[str] = []

    def visit(op: object) -> object:
        name = op.name  # type: ignore[attr-defined]
        dialect, _, short = name.partition(".")
        if short in REFUSED_OPS and dialect in ("stablehlo", "mhlo"):
            bad.append(name)
        elif short == "custom_call":
            target = op.attributes["call_target_name"]  # type: ignore[attr-defined]
            value = str(target).strip('"')
            if value not in ALLOWED_TARGETS and not value.startswith(ALLOWED_PREFIXES):
                bad.append(f"custom call {value[:60]}")
        return WALK_ADVANCE

    from jax._src.lib.mlir import ir

    WALK_ADVANCE = ir.WalkResult.ADVANCE
    module.operation.walk(visit)  # type: ignore[attr-defined]
    if bad:
        raise Refused(bad[0])


# ---------------------------------------------------------------- the worker: one request at a time


def work(requests: BinaryIO, answers: int) -> None:
    """A worker's life: compile the requests the dispatcher writes to `requests`, answering each on `answers`,
    until the dispatcher hangs up (or kills it)."""
    compiler = Compiler()
    confine_self(os.environ.get("JUDGE_SERVICE_CONFINE"))  # on top of the dispatcher's, before any request
    os.write(answers, frame(b'{"ready": true}'))
    while True:
        try:
            job, body = json.loads(read_frame(requests)), read_frame(requests)
        except EOFError:
            return
        try:
            key, stored = compiler.request(body, job["room"])
            answer: dict[str, Any] = {"key": key, "stored": stored}
        except Refused as e:
            answer = {"no": str(e)}
        except Exception as e:  # the learner's program: any failure is a refusal, never the worker's end
            answer = {"no": type(e).__name__}
        os.write(answers, frame(json.dumps(answer).encode()))


def read_frame(stream: BinaryIO) -> bytes:
    head = stream.read(4)
    if len(head) < 4:
        raise EOFError
    (n,) = struct.unpack(">I", head)
    data = stream.read(n)
    if len(data) < n:
        raise EOFError
    return data


# ---------------------------------------------------------------- the dispatcher: workers and budgets


class Worker:
    """A worker process, as the dispatcher holds it (one request at a time)."""

    def __init__(self) -> None:
        ours_in, theirs_out = os.pipe()
        theirs_in, ours_out = os.pipe()
        self.requests, self.answers, self.alive = os.fdopen(ours_out, "wb"), ours_in, True
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-I", os.path.abspath(__file__), "--worker", str(theirs_in), str(theirs_out)],
                pass_fds=[theirs_in, theirs_out],
            )  # its standard streams are this process's: /dev/null, which the confined cannot open
        except BaseException:
            self.requests.close()
            os.close(ours_in)
            raise
        finally:
            os.close(theirs_in)
            os.close(theirs_out)
        self.poll = select.poll()
        self.poll.register(ours_in, select.POLLIN)
        if self._answer(time.monotonic() + START_S, None) != {"ready": True}:
            self.kill()
            raise OSError("a compile worker did not start")

    def ask(self, body: bytes, room: int, seconds: float, memory: int) -> dict[str, Any]:
        """The worker's answer to one request, or a refusal if it died, or took longer or more memory than allowed
        (then it is killed)."""
        try:
            self.requests.write(frame(json.dumps({"room": room}).encode()) + frame(body))
            self.requests.flush()
        except OSError:
            self.kill()
            return {"no": "worker died"}
        return self._answer(time.monotonic() + seconds, memory)

    def _answer(self, deadline: float, memory: int | None) -> dict[str, Any]:
        data = b""
        while True:
            if self.poll.poll(WATCH_S * 1000):
                chunk = os.read(self.answers, MAX_ANSWER)
                if not chunk:
                    self.kill()
                    return {"no": "worker died"}
                data += chunk
                if len(data) >= 4:
                    (n,) = struct.unpack(">I", data[:4])
                    if n > MAX_ANSWER:
                        self.kill()
                        return {"no": "worker garbled"}
                    if len(data) >= 4 + n:
                        try:
                            answer = json.loads(data[4 : 4 + n])
                        except ValueError:
                            answer = None
                        return answer if isinstance(answer, dict) else {"no": "worker garbled"}
            elif time.monotonic() > deadline:
                self.kill()  # whatever it holds (Python's lock in the parser), a kill stops it
                return {"no": "time"}
            elif memory is not None and resident(self.proc.pid) > memory:
                self.kill()
                return {"no": "memory"}

    def kill(self) -> None:
        if self.alive:
            self.alive = False
            self.proc.kill()
            self.proc.wait()
            self.requests.close()
            os.close(self.answers)


def resident(pid: int) -> int:
    """A process's resident memory in bytes (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0


PAGE = os.sysconf("SC_PAGE_SIZE")


class Pool:
    """Up to `size` workers, started ahead of the requests that need them (so that one rarely waits for JAX to
    import): two at once, as a batch grades at least two learners at a time, then one more whenever none is
    idle. Thread-safe."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._cond = threading.Condition()
        self._idle: list[Worker] = []
        self._count = 0  # workers alive or starting
        self._starting = 0
        with self._cond:
            for _ in range(min(2, size)):
                self._grow()

    def _grow(self) -> None:
        self._count += 1
        self._starting += 1
        threading.Thread(target=self._start, daemon=True).start()

    def _start(self) -> None:
        try:
            worker: Worker | None = Worker()
        except Exception:  # it could not be started: the count must not keep it
            worker = None
        with self._cond:
            self._starting -= 1
            if worker is not None:
                self._idle.append(worker)
            else:
                self._count -= 1
            self._cond.notify_all()

    def take(self) -> Worker | None:
        """An idle worker, waiting only for one that is starting; None when every worker is busy."""
        deadline = time.monotonic() + TAKE_S
        with self._cond:
            grown = False
            while not self._idle:
                if not self._starting:
                    if grown or self._count >= self.size:
                        return None  # busy with other learners' requests (or workers cannot start)
                    self._grow()
                    grown = True
                if not self._cond.wait(deadline - time.monotonic()):
                    return None
            worker = self._idle.pop()
            if not self._idle and not self._starting and self._count < self.size:
                self._grow()  # the next learner's
            return worker

    def give(self, worker: Worker) -> None:
        with self._cond:
            if worker.alive:
                self._idle.append(worker)
            else:
                self._count -= 1
                if not self._idle and not self._starting:
                    self._grow()  # in place of the one killed
            self._cond.notify_all()


class Budget:
    """What one learner's connection may still have the service do."""

    def __init__(self, memory: int) -> None:
        self.requests, self.stored, self.seconds, self.memory = MAX_REQUESTS, MAX_STORED, MAX_COMPILE_S, memory

    def compile(self, pool: Pool, body: bytes) -> dict[str, Any]:
        if self.requests <= 0 or self.stored <= 0 or self.seconds <= 0:
            return {"no": "budget"}
        worker = pool.take()
        if worker is None:
            return {"no": "busy"}
        self.requests -= 1
        start = time.monotonic()
        try:
            answer = worker.ask(body, self.stored, min(COMPILE_S, self.seconds), self.memory)
        finally:
            self.seconds -= time.monotonic() - start
            pool.give(worker)
        key, no, stored = answer.get("key"), answer.get("no"), answer.get("stored")
        self.stored -= max(0, stored) if isinstance(stored, int) else 0
        if no == "budget":
            self.stored = 0  # its program would not fit: nothing more is stored for it
        return {"key": key} if isinstance(key, str) else {"no": no if isinstance(no, str) else "worker garbled"}


def learner_memory(message: bytes) -> int:
    """The learner's memory limit, as the judge sent it with the connection (the default where it did not)."""
    try:
        memory = json.loads(message).get("memory")
    except (ValueError, AttributeError):
        memory = None
    return memory if isinstance(memory, int) and memory > 0 else LEARNER_MEMORY


def read_exact(conn: socket.socket, n: int) -> bytes:
    data = bytearray()
    while len(data) < n:
        chunk = conn.recv(min(n - len(data), 1 << 20))
        if not chunk:
            raise EOFError
        data += chunk
    return bytes(data)


def serve(conn: socket.socket, pool: Pool, budget: Budget) -> None:
    """One learner's connection: requests one at a time, until it hangs up or breaks the framing."""
    with conn:
        while True:
            try:
                (n,) = struct.unpack(">I", read_exact(conn, 4))
                if n > MAX_REQUEST:
                    conn.sendall(reply({"no": "too large"}))
                    return  # the rest of the stream is not read: the learner compiles locally from now on
                body = read_exact(conn, n)
            except (OSError, EOFError):
                return
            if not waiting(conn):
                return  # gone, or sending more before its answer: no learner keeps the service busy but while it waits
            try:
                conn.sendall(reply(budget.compile(pool, body)))
            except OSError:
                return


def waiting(conn: socket.socket) -> bool:
    """Whether the learner is waiting for this answer: still connected, and nothing sent after its request."""
    try:
        conn.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)  # returns b"" if it hung up, a byte if it sent more
    except BlockingIOError:
        return True
    except OSError:
        pass
    return False


def frame(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def reply(doc: dict[str, Any]) -> bytes:
    return frame(json.dumps(doc).encode())


def confine_self(spec: str | None, dispatcher: bool = False) -> None:
    """Where the judge asks (Landlock works): write only the cache, open no socket but AF_UNIX, and read only
    the runtime without the judge in it (a worker, from before its first request: it parses hostile bytes, and a
    bug there reaches no more than the cache). The dispatcher reads what starting a worker takes as well (the
    whole runtime, which a fresh interpreter lists, and this script) and its workers' memory (/proc); a worker
    starts under that, and confines itself as above once it has imported JAX."""
    if not spec:
        return
    paths = json.loads(spec)
    confine.restrict_files(paths["read"] + (paths["start"] + ["/proc"] if dispatcher else []), paths["write"])
    confine.deny_sockets()


def main() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if sys.argv[1] == "--worker":
        work(os.fdopen(int(sys.argv[2]), "rb"), int(sys.argv[3]))
        return
    control = socket.socket(fileno=int(sys.argv[1]))
    confine_self(os.environ.get("JUDGE_SERVICE_CONFINE"), dispatcher=True)
    pool = Pool(WORKERS)
    for message, fds in protocol.requests(control, 256, 4):
        for fd in fds:
            budget = Budget(learner_memory(message))
            threading.Thread(target=serve, args=(socket.socket(fileno=fd), pool, budget), daemon=True).start()
    os._exit(0)  # the judge is gone


if __name__ == "__main__":
    main()
