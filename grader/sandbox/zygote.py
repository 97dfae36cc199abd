"""The zygote: a trusted process, confined like the learners, that has imported the libraries and forks sandboxes."""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from grader.sandbox import compile_service
from grader.child import protocol
from grader.sandbox import reaper
from grader.model.cache import compile_cache_dir
from grader.sandbox.capture import Capture
from grader.sandbox.policy import (
    CHILD_DIR,
    STARTUP_S,
    bwrap_argv,
    child_files,
    env,
    hidden_paths,
    inside,
    interpreter,
    prepare_compile_cache,
    resolve_level,
    site_dirs,
)


class SandboxError(Exception):
    """The sandbox itself failed (not the learner's code): an internal error."""


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
                outcome = box.run(job, payload)
    """

    def __init__(self, level: str = "auto", preimport: tuple[str, ...] = ("numpy",), compiles: bool = False):
        self.level = resolve_level(level)
        self.preimport = tuple(preimport)
        self._lock = threading.Lock()
        self._tmp = tempfile.mkdtemp(prefix="judge-zygote-")
        self._proc: subprocess.Popen[bytes] | None = None
        # Compiles learners' programs into the shared cache, which they only read (see compile_service.py): for
        # a batch, whose learners share programs; one `judge run` would only pay for starting it.
        self.compiler = compile_service.CompileService() if compile_service.enabled(compiles) else None
        prepare_compile_cache()
        self._start()

    def _child_argv(self) -> list[str]:
        """How the worker is run: from a read-only folder that holds the child package (grader/child) and nothing else."""
        if self.level == "bwrap":
            return [interpreter(), "-I", f"{CHILD_DIR}/worker.py"]
        folder = Path(self._tmp) / "child"
        if not folder.is_dir():
            folder.mkdir()
            for f in child_files():
                shutil.copyfile(f, folder / f.name)
                (folder / f.name).chmod(0o444)
            folder.chmod(0o555)
        return [sys.executable, "-I", str(folder / "worker.py")]

    def _start(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        bwrap = self.level == "bwrap"
        config = protocol.ZygoteConfig(
            site_dirs=[inside(d) if bwrap else d for d in site_dirs()],
            preimport=list(self.preimport),
            hidden_paths=hidden_paths(),
            control_fd=theirs.fileno(),
        )
        worker = [*self._child_argv(), config.to_argv()]
        if bwrap:
            argv, environ = bwrap_argv() + worker, {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        else:
            reaper.become_subreaper()
            argv, environ = worker, env(self._tmp, str(compile_cache_dir()))
        with reaper.spawn_lock:
            self._proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                pass_fds=[theirs.fileno()],
                env=environ,
                cwd=self._tmp,
                start_new_session=True,
            )
            reaper.active.add(self._proc.pid)
        theirs.close()
        self._sock = ours
        self._ready = False
        assert self._proc.stderr is not None
        self._stderr = Capture(self._proc.stderr)  # type: ignore[arg-type]  # a BufferedReader, as Popen makes it

    def _wait_ready(self) -> None:
        self._sock.settimeout(STARTUP_S)
        try:
            message = self._sock.recv(65536)
        except OSError:
            message = b""
        self._sock.settimeout(None)
        try:
            frames = protocol.FrameReader().feed(message)
        except protocol.BadFrame:
            frames = []
        frame = frames[0][0] if frames else None
        if frame is None or frame.kind is not protocol.Kind.READY:
            self._stop()
            err = self._stderr.text().strip()[-2000:]
            said = frame.message if frame is not None else ""
            raise SandboxError(said or f"the sandbox did not start ({self.level}): {err or 'no output'}")
        self._ready = True

    @property
    def pid(self) -> int | None:
        """The zygote's process, as the judge sees it (None once stopped)."""
        return self._proc.pid if self._proc else None

    def fork(self, spec: protocol.Spawn, fds: list[int]) -> None:
        """Have a keeper and a learner's process forked with these descriptors (and a compile service's
        connection of its own, the learner's fd 4, when there is one)."""
        service = self.compiler.connect() if self.compiler is not None else None
        try:
            self._fork(spec, fds + ([service.fileno()] if service is not None else []))
        finally:
            if service is not None:
                service.close()

    def _fork(self, spec: protocol.Spawn, fds: list[int]) -> None:
        with self._lock:
            for _ in range(2):
                if self._proc is None:
                    self._start()
                if not self._ready:
                    self._wait_ready()
                try:
                    socket.send_fds(self._sock, [spec.to_bytes()], fds)
                    if self._sock.recv(16) == protocol.FORKED:
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
        reaper.forget(self._proc)
        self._proc = None

    def close(self) -> None:
        with self._lock:
            self._stop()
        if self.compiler is not None:
            self.compiler.close()
        shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> Zygote:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


# Libraries a batch's zygote imports once for all its learners.
BATCH_PREIMPORT = ("numpy", "jax", "jax.numpy", "flax.linen", "flax.nnx")  # nnx: 0.36 s a learner otherwise
_shared: dict[tuple[str, tuple[str, ...]], Zygote] = {}
_shared_lock = threading.Lock()


def shared_zygote(level: str, preimport: tuple[str, ...] = BATCH_PREIMPORT) -> Zygote:
    """One zygote per level for this process, kept until it exits (batch threads and Ray tasks share it)."""
    key = (resolve_level(level), preimport)
    with _shared_lock:
        if key not in _shared:
            _shared[key] = Zygote(key[0], preimport, compiles=True)
            if len(_shared) == 1:
                atexit.register(_close_shared)
        return _shared[key]


def _close_shared() -> None:
    for z in list(_shared.values()):
        z.close()


_early: Zygote | None = None


def start_early(level: str) -> None:
    """For the command line: start a grading's zygote before the judge's own imports, so the two overlap."""
    global _early
    try:
        _early = Zygote(level)
    except Exception:
        _early = None  # the grading starts its own, and reports what fails then
    else:
        atexit.register(lambda: _early.close() if _early else None)  # unused when the command fails before grading


def private_zygote(level: str) -> Zygote:
    """A zygote for one grading: the one started early when it suits, else a new one."""
    global _early
    early, _early = _early, None
    if early is not None and early.level == resolve_level(level):
        return early
    if early is not None:
        early.close()
    return Zygote(level)
