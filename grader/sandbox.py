"""Running learner code in single-use sandboxes: the only module that touches processes.

A `Zygote` (trusted, never runs learner code) imports the libraries once, inside
the sandbox's confinement, and forks one keeper and one learner's process per
`Sandbox`. Two levels:

* ``bwrap`` (strong): the zygote runs under bubblewrap, which mounts only the
  Python runtime and its site-packages, read-only, with the judge's own package
  masked, with no network. Each learner's process then gets new PID, mount,
  network, IPC and UTS namespaces of its own (it is PID 1 there, so when it ends
  everything it started ends too), its own /proc and small private /tmp and
  /dev/shm, and, when the judge runs as root, an unprivileged uid of its own,
  no capabilities and no_new_privs.
* ``process`` (weak, for laptops without bubblewrap): own session and process
  group, rlimits, a private temp dir, and the judge as subreaper so orphans are
  found and killed. It hides nothing from the learner, not even other learners.

See `worker.py` for the child side. A sandbox never raises for a learner's
fault: `run` returns an `Outcome` that the grader interprets.
"""

from __future__ import annotations

import atexit
import ctypes
import functools
import glob
import json
import os
import shutil
import signal
import site
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from grader.caches import compile_cache_dir, xla_flags
from grader.errors import UsageError

if TYPE_CHECKING:
    from grader.models import Limits

LEVELS = ("bwrap", "process")
OUTPUT_KEEP = 16 * 1024  # bytes of stdout and of stderr kept for the report
CHANNEL_MAX = 512 * 1024 * 1024  # results larger than this are refused
STARTUP_S = 60.0  # the runtime's own start (importing numpy/jax), never charged to the learner
TMPFS_MB = 64
SHM_MB = 16
WORKER_SOURCE = (Path(__file__).parent / "worker.py").read_text()
JUDGE_ROOT = Path(__file__).resolve().parent.parent
JUDGE_NAMES = ("grader", "reference", "problems")
JUDGE_GLOBS = ("judge-*.dist-info", "__editable__*judge*", "judge*.pth", "__pycache__/__editable__*judge*")

class SandboxError(Exception):
    """The sandbox itself failed (not the learner's code): an internal error."""


@dataclass
class Outcome:
    level: str
    frames: list[tuple[dict, bytes]] = field(default_factory=list)
    exit_code: int | None = None
    signal: int | None = None
    timed_out: str | None = None  # "import" or "cases"
    overflow: bool = False  # the result channel went past CHANNEL_MAX
    stdout: str = ""
    stderr: str = ""
    stdout_bytes: int = 0
    stderr_bytes: int = 0
    wall_s: float = 0.0
    peak_rss_mb: float | None = None


# ---------------------------------------------------------------- level detection


@functools.cache
def bwrap_available() -> bool:
    if not shutil.which("bwrap") or (os.geteuid() == 0 and not shutil.which("setpriv")):
        return False
    probe = ["bwrap", "--ro-bind", "/", "/", "--unshare-pid", "--unshare-net", "--as-pid-1", "true"]
    try:
        return subprocess.run(probe, capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def resolve_level(level: str) -> str:
    """'auto' picks bwrap where it works; asking for bwrap where it does not is an error."""
    if level == "auto":
        return "bwrap" if bwrap_available() else "process"
    if level not in LEVELS:
        raise UsageError(f"unknown sandbox level {level!r}; choose auto, {', '.join(LEVELS)}")
    if level == "bwrap" and not bwrap_available():
        raise UsageError("the bwrap sandbox is not usable here: install the 'bubblewrap' package")
    return level


# ---------------------------------------------------------------- what the sandbox sees


def site_dirs() -> list[str]:
    dirs = list(site.getsitepackages())
    if site.ENABLE_USER_SITE:
        dirs.append(site.getusersitepackages())
    return [d for d in dict.fromkeys(os.path.realpath(d) for d in dirs) if os.path.isdir(d)]


def runtime_dirs() -> list[str]:
    dirs = [sys.base_prefix, sys.prefix, *site_dirs()]
    dirs = sorted(dict.fromkeys(os.path.realpath(d) for d in dirs))
    return [d for d in dirs if not any(d != o and d.startswith(o + os.sep) for o in dirs)]


def judge_masks() -> list[str]:
    """Files and folders of the judge inside the runtime dirs, to be hidden in the sandbox."""
    masks = []
    for d in site_dirs():
        masks += [os.path.join(d, n) for n in JUDGE_NAMES if os.path.realpath(JUDGE_ROOT / n) == os.path.join(d, n)]
        for pattern in JUDGE_GLOBS:
            masks += glob.glob(os.path.join(d, pattern))
    return sorted(set(masks))


def hidden_paths() -> list[str]:
    root = str(JUDGE_ROOT)
    return [] if root in site_dirs() else [root]


def _limits(limits: Limits, own_uid: bool) -> dict[str, int]:
    rl = {
        "RLIMIT_AS": limits.memory_mb * 1024 * 1024,
        "RLIMIT_FSIZE": TMPFS_MB * 1024 * 1024,
        "RLIMIT_CORE": 0,
        "RLIMIT_NOFILE": 1024,
        "RLIMIT_CPU": int(STARTUP_S + limits.import_s + limits.time_s) * 2 + 10,
    }
    if own_uid:  # counts per uid, so only meaningful where the learner has a uid of their own
        rl["RLIMIT_NPROC"] = 512
    return rl


XLA_MOUNT = "/xla-cache"


def _env(tmp: str, xla_cache: str) -> dict[str, str]:
    # The compilation cache is only read in here: a minimum compile time no compile reaches means no writes.
    return {"PATH": "/usr/bin:/bin", "HOME": tmp, "TMPDIR": tmp, "LANG": "C.UTF-8",
            "JAX_PLATFORMS": "cpu", "PYTHONDONTWRITEBYTECODE": "1", "JAX_COMPILATION_CACHE_DIR": xla_cache,
            "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "1e9", "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "-1",
            "JAX_PERSISTENT_CACHE_ENABLE_XLA_CACHES": "none", "XLA_FLAGS": xla_flags()}


def _bwrap_argv() -> list[str]:
    """The zygote's confinement; each learner's process then gets fresh namespaces of its own inside it."""
    argv = ["bwrap", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
            "--unshare-cgroup-try", "--as-pid-1", "--new-session", "--die-with-parent", "--ro-bind", "/usr", "/usr"]
    for top in ("/bin", "/sbin", "/lib", "/lib64", "/lib32"):
        if os.path.islink(top):
            argv += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            argv += ["--ro-bind", top, top]
    made = {"/", "/usr", "/tmp", "/dev", "/proc"}
    for d in runtime_dirs():
        for parent in reversed(Path(d).parents):
            if str(parent) not in made:
                made.add(str(parent))
                argv += ["--perms", "0755", "--dir", str(parent)]
        argv += ["--ro-bind", d, d]
    for m in judge_masks():
        argv += ["--tmpfs", m] if os.path.isdir(m) else ["--ro-bind", "/dev/null", m]
    argv += ["--proc", "/proc", "--dev", "/dev", "--dir", "/dev/shm",
             "--size", str(TMPFS_MB << 20), "--perms", "1777", "--tmpfs", "/tmp",
             "--ro-bind-try", str(compile_cache_dir()), XLA_MOUNT, "--clearenv", "--chdir", "/tmp"]
    if os.geteuid() != 0:  # unprivileged, bwrap's user namespace gives the zygote what it needs to isolate learners
        argv += ["--unshare-user", "--cap-add", "ALL"]
    for k, v in _env("/tmp", XLA_MOUNT).items():
        argv += ["--setenv", k, v]
    return argv


# ---------------------------------------------------------------- orphans (process level)

_active: set[int] = set()
_spawn_lock = threading.Lock()


@functools.cache
def _become_subreaper() -> bool:
    try:
        return ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        return False


def _sweep_orphans() -> None:
    """Kill processes that were reparented to the judge: they escaped a process-level sandbox."""
    me = os.getpid()
    for _ in range(50):
        with _spawn_lock:
            found = []
            for stat in glob.glob("/proc/[0-9]*/stat"):
                try:
                    fields = Path(stat).read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                pid = int(stat.split("/")[2])
                if int(fields[1]) == me and pid not in _active:
                    found.append(pid)
            for pid in found:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if not found:
            return
        for pid in found:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass


class Capture:
    """A stream read to its end in a thread: its first OUTPUT_KEEP bytes kept, all of them counted."""

    def __init__(self, stream):
        self.kept, self.total = bytearray(), 0
        self.thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self.thread.start()

    def _read(self, stream) -> None:
        with stream:
            while chunk := stream.read1(65536):
                self.kept += chunk[: max(0, OUTPUT_KEEP - len(self.kept))]
                self.total += len(chunk)

    def text(self) -> str:
        return bytes(self.kept).decode(errors="replace")


# ---------------------------------------------------------------- the zygote


class Zygote:
    """A trusted process, confined like the learners, that has imported the libraries and forks sandboxes.

    Importing numpy, jax and flax costs about a second of CPU; the zygote pays it
    once and every learner's process starts as a copy of it. It never runs learner
    code and never sees a job (sources and inputs go straight to the learner's
    process), so no learner's data is in the memory the next learner starts from.
    Learners cannot reach it: at the bwrap level each runs in PID, mount,
    network, IPC and UTS namespaces of its own under a uid of its own. Thread-safe;
    if it dies (only possible at the process level) the next fork starts a new one.

    Example:
        with Zygote("auto", ("numpy", "jax")) as zygote:
            with Sandbox(zygote, Limits()) as box:
                outcome = box.run(header, payload)
    """

    def __init__(self, level: str = "auto", preimport: tuple[str, ...] = ("numpy",)):
        self.level = resolve_level(level)
        self.preimport = tuple(preimport)
        self._lock = threading.Lock()
        self._tmp = tempfile.mkdtemp(prefix="judge-zygote-")
        self._proc: subprocess.Popen | None = None
        self._start()

    def _start(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        config = {"site_dirs": site_dirs(), "preimport": list(self.preimport), "hidden_paths": hidden_paths(),
                  "control_fd": theirs.fileno()}
        worker = [sys.executable, "-I", "-c", WORKER_SOURCE, json.dumps(config)]
        if self.level == "bwrap":
            argv, env = _bwrap_argv() + worker, {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        else:
            _become_subreaper()
            argv, env = worker, _env(self._tmp, str(compile_cache_dir()))
        with _spawn_lock:
            self._proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.PIPE, pass_fds=[theirs.fileno()], env=env, cwd=self._tmp,
                                          start_new_session=True)
            _active.add(self._proc.pid)
        theirs.close()
        self._sock = ours
        self._ready = False
        self._stderr = Capture(self._proc.stderr)

    def _wait_ready(self) -> None:
        self._sock.settimeout(STARTUP_S)
        try:
            message = self._sock.recv(65536)
        except OSError:
            message = b""
        self._sock.settimeout(None)
        try:
            header = json.loads(message)
        except ValueError:
            header = {}
        if header.get("kind") != "ready":
            self._stop()
            err = self._stderr.text().strip()[-2000:]
            raise SandboxError(header.get("message") or f"the sandbox did not start ({self.level}): {err or 'no output'}")
        self._ready = True

    @property
    def pid(self) -> int | None:
        """The zygote's process, as the judge sees it (None once stopped)."""
        return self._proc.pid if self._proc else None

    def fork(self, spec: dict, fds: list[int]) -> None:
        """Have a keeper and a learner's process forked with these descriptors."""
        with self._lock:
            for _ in range(2):
                if self._proc is None:
                    self._start()
                if not self._ready:
                    self._wait_ready()
                try:
                    socket.send_fds(self._sock, [json.dumps(spec).encode()], fds)
                    if self._sock.recv(16) == b"forked":
                        return
                except OSError:
                    pass
                self._stop()  # it died: a learner at the process level can kill it
            raise SandboxError("the sandbox's zygote died twice in a row")

    def _stop(self) -> None:
        if self._proc is None:
            return
        self._sock.close()
        try:
            os.killpg(self._proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self._proc.wait()
        with _spawn_lock:
            _active.discard(self._proc.pid)
        self._proc = None

    def close(self) -> None:
        with self._lock:
            self._stop()
        shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> Zygote:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# Libraries a batch's zygote imports once for all its learners.
BATCH_PREIMPORT = ("numpy", "jax", "jax.numpy", "flax.linen")
_shared: dict[tuple[str, tuple[str, ...]], Zygote] = {}
_shared_lock = threading.Lock()


def shared_zygote(level: str, preimport: tuple[str, ...] = BATCH_PREIMPORT) -> Zygote:
    """One zygote per level for this process, kept until it exits (batch threads and Ray tasks share it)."""
    key = (resolve_level(level), preimport)
    with _shared_lock:
        if key not in _shared:
            _shared[key] = Zygote(key[0], preimport)
            if len(_shared) == 1:
                atexit.register(lambda: [z.close() for z in list(_shared.values())])
        return _shared[key]


_early: Zygote | None = None


def start_early(level: str) -> None:
    """For the command line: start a grading's zygote before the judge's own imports, so the two overlap."""
    global _early
    try:
        _early = Zygote(level)
    except Exception:
        _early = None  # the grading starts its own, and reports what fails then
    else:
        atexit.register(lambda: _early and _early.close())  # unused when the command fails before grading


def private_zygote(level: str) -> Zygote:
    """A zygote for one grading: the one started early when it suits, else a new one."""
    global _early
    early, _early = _early, None
    if early is not None and early.level == resolve_level(level):
        return early
    if early is not None:
        early.close()
    return Zygote(level)


# ---------------------------------------------------------------- the sandbox


class Sandbox:
    """One single-use sandboxed learner's process, forked at construction and waiting for its job.

    Example:
        with Sandbox(Zygote("auto"), Limits()) as box:
            outcome = box.run(header, payload)
    """

    def __init__(self, zygote: Zygote, limits: Limits):
        self.zygote = zygote
        self.level = zygote.level
        self.limits = limits
        self._frames: list[tuple[float, dict, bytes]] = []
        self._cond = threading.Condition()
        self._channel_eof = False
        self._overflow = False
        self._tmp = tempfile.mkdtemp(prefix="judge-box-")
        self._pid: int | None = None  # the learner's process, as the keeper sees it
        self._exit: dict | None = None  # the keeper's last word: exit code and peak memory
        self._status_eof = False
        self._started = time.monotonic()
        self.on_frame = None  # called with each frame's header as it arrives (progress); must not raise
        self._spawn()

    def _spawn(self) -> None:
        # As root, at the bwrap level, the learner runs as a random unprivileged uid of their own.
        own_uid = self.level == "bwrap" and os.geteuid() == 0
        uid = 100_000 + int.from_bytes(os.urandom(3), "little") % 800_000 if own_uid else None
        if self.level == "process":
            os.chmod(self._tmp, 0o700)
        spec = {"isolate": self.level == "bwrap", "uid": uid, "limits": _limits(self.limits, own_uid),
                "workdir": "/tmp" if self.level == "bwrap" else self._tmp, "tmp_mb": TMPFS_MB, "shm_mb": SHM_MB}
        pipes = [os.pipe() for _ in range(6)]  # stdin, stdout, stderr, channel, status, kill
        theirs = [pipes[0][0], pipes[1][1], pipes[2][1], pipes[3][1], pipes[4][1], pipes[5][0]]
        ours = [pipes[0][1], pipes[1][0], pipes[2][0], pipes[3][0], pipes[4][0], pipes[5][1]]
        try:
            self.zygote.fork(spec, theirs)
        except BaseException:
            for fd in ours:
                os.close(fd)
            raise
        finally:
            for fd in theirs:
                os.close(fd)
        self._stdin = os.fdopen(ours[0], "wb")
        stdout, stderr = os.fdopen(ours[1], "rb"), os.fdopen(ours[2], "rb")
        self._chan = os.fdopen(ours[3], "rb", buffering=0)
        self._status = os.fdopen(ours[4], "rb")
        self._kill = ours[5]
        self._stdout, self._stderr = Capture(stdout), Capture(stderr)
        self._threads = [threading.Thread(target=self._read_channel, daemon=True),
                         threading.Thread(target=self._read_status, daemon=True)]
        for t in self._threads:
            t.start()
        self._threads += [self._stdout.thread, self._stderr.thread]

    # -- readers

    def _read_status(self) -> None:
        """The keeper's lines: the learner's pid, then its exit code and peak memory."""
        for line in self._status:
            try:
                doc = json.loads(line)
            except ValueError:
                continue
            with self._cond:
                if "pid" in doc:
                    self._pid = int(doc["pid"])
                elif "exit" in doc:
                    self._exit = doc
                elif "error" in doc:
                    self._frames.append((time.monotonic(), {"kind": "internal", "message": doc["error"]}, b""))
                self._cond.notify_all()
        with self._cond:
            self._status_eof = True
            self._cond.notify_all()

    def _read_channel(self) -> None:
        data, total = bytearray(), 0
        while chunk := self._chan.read(1 << 20):
            total += len(chunk)
            if total > CHANNEL_MAX:
                with self._cond:
                    self._overflow = True
                    self._cond.notify_all()
                self.kill()
                break
            data += chunk
            while len(data) >= 12:
                n_header, n_payload = struct.unpack("<IQ", data[:12])
                end = 12 + n_header + n_payload
                if len(data) < end:
                    break
                try:
                    header = json.loads(bytes(data[12 : 12 + n_header]))
                    if not isinstance(header, dict):
                        raise ValueError
                except ValueError:
                    header = {"kind": "garbage"}
                with self._cond:
                    self._frames.append((time.monotonic(), header, bytes(data[12 + n_header : end])))
                    self._cond.notify_all()
                if self.on_frame is not None:
                    self.on_frame(header)
                del data[:end]
        with self._cond:
            self._channel_eof = True
            self._cond.notify_all()

    def _seen(self, kind: str) -> float | None:
        return next((t for t, h, _ in self._frames if h.get("kind") == kind), None)

    # -- control

    def wait_ready(self) -> None:
        """Block until the learner's process is set up; its failing to start is a SandboxError."""
        deadline = self._started + STARTUP_S
        with self._cond:
            while self._seen("ready") is None and self._seen("internal") is None and not self._channel_eof:
                if not self._cond.wait(timeout=max(0.0, deadline - time.monotonic())) and time.monotonic() >= deadline:
                    break
            ready = self._seen("ready") is not None
            internal = next((h.get("message") for _, h, _ in self._frames if h.get("kind") == "internal"), None)
        if not ready:
            self.kill()
            self._reap()
            raise SandboxError(internal or f"the sandbox did not start ({self.level})")

    def run(self, header: dict, payload: bytes) -> Outcome:
        """Send the job, wait for it within the limits, and return what happened."""
        self.wait_ready()
        job = json.dumps(header).encode()
        start = time.monotonic()
        try:
            self._stdin.write(struct.pack("<IQ", len(job), len(payload)) + job + payload)
            self._stdin.close()
        except OSError:
            pass  # the learner's process died: what happened shows in its exit status
        timed_out = None
        with self._cond:
            while True:
                if self._seen("done") or self._channel_eof or self._overflow:
                    break
                imported = self._seen("imported")
                if imported is None:
                    deadline, phase = start + self.limits.import_s, "import"
                else:
                    deadline, phase = imported + self.limits.time_s, "cases"
                left = deadline - time.monotonic()
                if left <= 0:
                    timed_out = phase
                    break
                self._cond.wait(timeout=left)
        if timed_out:
            self.kill()
        else:
            self._wait_exit(grace=2.0)
        wall = time.monotonic() - start
        self._reap()
        for t in self._threads:
            t.join(timeout=2.0)
        code = self._exit.get("exit") if self._exit else None
        maxrss = self._exit.get("maxrss_kb") if self._exit else None
        return Outcome(
            level=self.level,
            frames=[(h, p) for _, h, p in self._frames],
            exit_code=code if code is not None and code >= 0 else None,
            signal=-code if code is not None and code < 0 else None,
            timed_out=timed_out,
            overflow=self._overflow,
            stdout=self._stdout.text(),
            stderr=self._stderr.text(),
            stdout_bytes=self._stdout.total,
            stderr_bytes=self._stderr.total,
            wall_s=wall,
            peak_rss_mb=maxrss / 1024 if maxrss is not None else None,
        )

    def _wait_exit(self, grace: float) -> None:
        with self._cond:
            if not self._cond.wait_for(lambda: self._exit is not None or self._status_eof, timeout=grace):
                self.kill()

    def kill(self) -> None:
        """Kill everything in the sandbox. Safe to call more than once and from any thread."""
        try:
            os.write(self._kill, b"k")  # the keeper kills: it sees the learner's process, wherever it runs
        except OSError:
            pass
        if self.level == "process" and self._pid:  # a learner at this level can kill its keeper
            try:
                os.killpg(self._pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def _reap(self) -> None:
        with self._cond:
            if not self._cond.wait_for(lambda: self._status_eof, timeout=5.0):
                self.kill()
                self._cond.wait_for(lambda: self._status_eof, timeout=5.0)
        if self.level == "process":
            if self._pid:
                try:
                    os.killpg(self._pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            _sweep_orphans()

    def close(self) -> None:
        self.kill()
        self._reap()
        for stream in (self._stdin, self._chan, self._status):
            try:
                stream.close()
            except OSError:
                pass
        try:
            os.close(self._kill)  # the keeper kills on hang-up too
        except OSError:
            pass
        shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
