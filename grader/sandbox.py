"""Running learner code in a single-use sandbox: the only module that touches processes.

Two levels:

* ``bwrap`` (strong): bubblewrap with new PID, mount, network, IPC and UTS
  namespaces. The learner's process is PID 1 of its namespace, so when it ends
  everything it started ends too. Only the Python runtime and its site-packages
  are mounted, read-only, with the judge's own package masked; /tmp and /dev/shm
  are small private tmpfs. When the judge runs as root the learner still runs as
  an unprivileged uid of its own, with no capabilities and no_new_privs.
* ``process`` (weak, for laptops without bubblewrap): own session and process
  group, rlimits, a private temp dir, and the judge as subreaper so orphans are
  found and killed. It does not hide files from the learner.

Either way the child is `worker.py`; it pre-imports libraries, says READY and
waits, so a sandbox can be started ahead of time. A sandbox never raises for a
learner's fault: `run` returns an `Outcome` that the grader interprets.
"""

from __future__ import annotations

import ctypes
import functools
import glob
import json
import os
import shutil
import signal
import site
import struct
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from grader.errors import UsageError
from grader.models import Limits
from grader.problems import compile_cache_dir

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

# The process level forks the worker from this trusted shim, so the learner's
# parent is not the judge, and passes the worker's fate on as its own.
SHIM = """import os, signal, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.executable, [sys.executable] + sys.argv[1:])
_, status = os.waitpid(pid, 0)
if os.WIFSIGNALED(status):
    signal.signal(os.WTERMSIG(status), signal.SIG_DFL)
    os.kill(os.getpid(), os.WTERMSIG(status))
os._exit(os.waitstatus_to_exitcode(status))
"""


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
            "JAX_PERSISTENT_CACHE_ENABLE_XLA_CACHES": "none"}


def _bwrap_argv(status_fd: int, uid: int | None) -> list[str]:
    argv = ["bwrap", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
            "--unshare-cgroup-try", "--as-pid-1", "--new-session", "--die-with-parent",
            "--json-status-fd", str(status_fd), "--ro-bind", "/usr", "/usr"]
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
    argv += ["--proc", "/proc", "--dev", "/dev",
             "--size", str(SHM_MB << 20), "--perms", "1777", "--tmpfs", "/dev/shm",
             "--size", str(TMPFS_MB << 20), "--perms", "1777", "--tmpfs", "/tmp",
             "--ro-bind-try", str(compile_cache_dir()), XLA_MOUNT,
             "--clearenv", "--chdir", "/tmp"]
    for k, v in _env("/tmp", XLA_MOUNT).items():
        argv += ["--setenv", k, v]
    if uid is not None:
        argv += ["/usr/bin/setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                 "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]
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


# ---------------------------------------------------------------- the sandbox


class Sandbox:
    """One single-use sandboxed worker, started at construction and waiting for its job.

    Example:
        with Sandbox("auto", Limits()) as box:
            outcome = box.run(header, payload)
    """

    def __init__(self, level: str, limits: Limits, preimport: tuple[str, ...] = ("numpy",)):
        self.level = resolve_level(level)
        self.limits = limits
        self._frames: list[tuple[float, dict, bytes]] = []
        self._cond = threading.Condition()
        self._channel_eof = False
        self._overflow = False
        self._out = {"stdout": bytearray(), "stderr": bytearray()}
        self._out_bytes = {"stdout": 0, "stderr": 0}
        self._tmp = tempfile.mkdtemp(prefix="judge-box-")
        self._kill_pid: int | None = None
        self._status = None
        self._rusage = None
        self._started = time.monotonic()
        self._spawn(preimport)

    def _spawn(self, preimport: tuple[str, ...]) -> None:
        # As root, bwrap runs the learner as a random unprivileged uid of their own.
        own_uid = self.level == "bwrap" and os.geteuid() == 0
        uid = 100_000 + int.from_bytes(os.urandom(3), "little") % 800_000 if own_uid else None
        workdir = "/tmp" if self.level == "bwrap" else self._tmp
        chan_r, chan_w = os.pipe()
        config = {"limits": _limits(self.limits, own_uid), "site_dirs": site_dirs(), "preimport": list(preimport),
                  "hidden_paths": hidden_paths(), "workdir": workdir, "channel_fd": chan_w}
        worker = [sys.executable, "-I", "-c", WORKER_SOURCE, json.dumps(config)]
        pass_fds = [chan_w]
        if self.level == "bwrap":
            status_r, status_w = os.pipe()
            pass_fds.append(status_w)
            argv = _bwrap_argv(status_w, uid) + worker
            env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        else:
            _become_subreaper()
            os.chmod(self._tmp, 0o700)
            argv = [sys.executable, "-I", "-c", SHIM, *worker[1:]]
            env = _env(self._tmp, str(compile_cache_dir()))
        with _spawn_lock:
            self._proc = subprocess.Popen(
                argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                pass_fds=pass_fds, env=env, cwd=self._tmp, start_new_session=True,
            )
            _active.add(self._proc.pid)
        os.close(chan_w)
        if self.level == "bwrap":
            os.close(status_w)
            self._status = os.fdopen(status_r, "rb")
        self._chan = os.fdopen(chan_r, "rb", buffering=0)
        self._threads = [threading.Thread(target=self._read_channel, daemon=True)]
        for name, stream in (("stdout", self._proc.stdout), ("stderr", self._proc.stderr)):
            self._threads.append(threading.Thread(target=self._drain, args=(name, stream), daemon=True))
        for t in self._threads:
            t.start()

    # -- readers

    def _drain(self, name: str, stream) -> None:
        while chunk := stream.read1(65536):
            buf = self._out[name]
            if len(buf) < OUTPUT_KEEP:
                buf += chunk[: OUTPUT_KEEP - len(buf)]
            self._out_bytes[name] += len(chunk)

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
                del data[:end]
        with self._cond:
            self._channel_eof = True
            self._cond.notify_all()

    def _seen(self, kind: str) -> float | None:
        return next((t for t, h, _ in self._frames if h.get("kind") == kind), None)

    # -- control

    def wait_ready(self) -> None:
        """Block until the worker has started; the sandbox failing to start is a SandboxError."""
        deadline = self._started + STARTUP_S
        with self._cond:
            while self._seen("ready") is None and not self._channel_eof and not self._overflow:
                if not self._cond.wait(timeout=max(0.0, deadline - time.monotonic())) and time.monotonic() >= deadline:
                    break
            ready = self._seen("ready") is not None
            internal = next((h.get("message") for _, h, _ in self._frames if h.get("kind") == "internal"), None)
        if ready and self.level == "bwrap":
            self._bwrap_child()  # written by bwrap before the worker started
        if not ready:
            self.kill()
            self._reap()
            err = bytes(self._out["stderr"]).decode(errors="replace").strip()[-2000:]
            raise SandboxError(internal or f"the sandbox did not start ({self.level}): {err or 'no output'}")

    def run(self, header: dict, payload: bytes) -> Outcome:
        """Send the job, wait for it within the limits, and return what happened."""
        self.wait_ready()
        job = json.dumps(header).encode()
        start = time.monotonic()
        try:
            self._proc.stdin.write(struct.pack("<IQ", len(job), len(payload)) + job + payload)
            self._proc.stdin.close()
        except OSError:
            pass  # the worker died: what happened shows in its exit status
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
        rusage = self._reap()
        for t in self._threads:
            t.join(timeout=2.0)
        code = self._proc.returncode
        return Outcome(
            level=self.level,
            frames=[(h, p) for _, h, p in self._frames],
            exit_code=code if code is not None and code >= 0 else None,
            signal=-code if code is not None and code < 0 else None,
            timed_out=timed_out,
            overflow=self._overflow,
            stdout=bytes(self._out["stdout"]).decode(errors="replace"),
            stderr=bytes(self._out["stderr"]).decode(errors="replace"),
            stdout_bytes=self._out_bytes["stdout"],
            stderr_bytes=self._out_bytes["stderr"],
            wall_s=wall,
            peak_rss_mb=rusage.ru_maxrss / 1024 if rusage else None,
        )

    def _wait_exit(self, grace: float) -> None:
        deadline = time.monotonic() + grace
        while self._poll() is None:
            if time.monotonic() >= deadline:
                self.kill()
                return
            time.sleep(0.005)

    def _poll(self):
        """Reap the sandbox if it has exited, keeping its rusage (peak memory)."""
        if self._proc.returncode is None:
            try:
                pid, status, rusage = os.wait4(self._proc.pid, os.WNOHANG)
            except ChildProcessError:
                return self._proc.poll()
            if pid:
                self._proc.returncode = os.waitstatus_to_exitcode(status)
                self._rusage = rusage
        return self._proc.returncode

    def kill(self) -> None:
        """Kill everything in the sandbox. Safe to call more than once and from any thread."""
        if self.level == "bwrap":
            pid = self._bwrap_child()
            targets = [pid] if pid else []
            targets.append(self._proc.pid)
            for p in targets:
                try:
                    os.kill(p, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
        else:
            try:
                os.killpg(self._proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def _bwrap_child(self) -> int | None:
        """The host pid of the namespace's PID 1: killing it ends every process inside."""
        if self._kill_pid is None and self._status is not None:
            try:
                line = self._status.readline()
                self._kill_pid = int(json.loads(line)["child-pid"])
            except (ValueError, KeyError, OSError):
                self._kill_pid = 0
        return self._kill_pid or None

    def _reap(self):
        if self._proc.returncode is None:
            try:
                _, status, self._rusage = os.wait4(self._proc.pid, 0)
                self._proc.returncode = os.waitstatus_to_exitcode(status)
            except ChildProcessError:
                self._proc.wait()
        with _spawn_lock:
            _active.discard(self._proc.pid)
        if self.level == "process":
            try:
                os.killpg(self._proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            _sweep_orphans()
        return self._rusage

    def close(self) -> None:
        self.kill()
        self._reap()
        for stream in (self._proc.stdin, self._proc.stdout, self._proc.stderr, self._chan, self._status):
            try:
                if stream:
                    stream.close()
            except OSError:
                pass
        shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
