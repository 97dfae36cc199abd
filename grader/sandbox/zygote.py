"""The zygote: a trusted process, confined like the learners, that has imported the libraries and forks sandboxes."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from grader.child import protocol
from grader.model.cache import Cache
from grader.model.errors import SandboxError, SandboxFailure
from grader.sandbox import compile_service, reaper
from grader.sandbox.capture import Capture
from grader.sandbox.policy import (
    CHILD_DIR,
    LEVELS,
    STARTUP_S,
    bwrap_argv,
    child_files,
    compile_service_on,
    env,
    hidden_paths,
    inside,
    interpreter,
    prepare_compile_cache,
    site_dirs,
)

# Libraries a batch's zygote imports once for all its learners.
BATCH_PREIMPORT = ("numpy", "jax", "jax.numpy", "flax.linen", "flax.nnx")  # nnx: 0.36 s a learner otherwise


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
        with Zygote("bwrap", cache, ("numpy", "jax")) as zygote:
            with Sandbox(zygote, Limits()) as box:
                outcome = box.run(job, payload)
    """

    def __init__(self, level: str, cache: Cache, preimport: tuple[str, ...] = ("numpy",), compiles: bool = False):
        if level not in LEVELS:
            raise ValueError(f"a zygote runs at a level the policy resolved ({', '.join(LEVELS)}), not {level!r}")
        self.level, self.cache = level, cache
        self.preimport = tuple(preimport)
        self._lock = threading.Lock()
        self._tmp = tempfile.mkdtemp(prefix="judge-zygote-")
        self._proc: subprocess.Popen[bytes] | None = None
        # Compiles learners' programs into the shared cache, which they only read (see compile_service.py): for
        # a batch, whose learners share programs; one `judge run` would only pay for starting it.
        self.compiler = compile_service.CompileService(cache) if compile_service_on(compiles) else None
        prepare_compile_cache(cache)
        self._start()

    def _child_argv(self) -> list[str]:
        """How the worker is run: from a read-only folder that holds the child package (grader/child) alone."""
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
            argv, environ = bwrap_argv(self.cache) + worker, {"PATH": "/usr/bin:/bin"}
        else:
            reaper.become_subreaper()
            argv, environ = worker, env(self._tmp, self.cache, str(self.cache.compile_dir))
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
            if frame is not None and frame.fault is not None:
                raise SandboxError(SandboxFailure(frame.fault.why.value), frame.fault.text)
            raise SandboxError(SandboxFailure.DID_NOT_START, f"{self.level}: {self._stderr.text().strip()[-2000:]}")
        self._ready = True

    @property
    def pid(self) -> int | None:
        """The zygote's process, as the judge sees it (None once stopped)."""
        return self._proc.pid if self._proc else None

    def fork(self, spec: protocol.Spawn, fds: list[int]) -> None:
        """Have a keeper and a learner's process forked with these descriptors (and a compile service's
        connection of its own, the learner's fd 4, when there is one)."""
        memory = spec.limits.get("RLIMIT_AS")  # the learner's own limit bounds what is compiled for it
        service = self.compiler.connect(memory) if self.compiler is not None else None
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
            raise SandboxError(SandboxFailure.ZYGOTE_DIED)

    def _stop(self) -> None:
        if self._proc is None:
            return
        self._sock.close()
        reaper.stop_group(self._proc)
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
