"""The judge's side of the compile service: one trusted process per zygote, a connection per sandbox.

Learners' processes never write the shared compilation cache. On a miss, the learner's code
(`compile_hook.py`) sends the program over its own connection to the service
(`compile_server.py`), which runs outside any sandbox as the judge, computes the key itself, compiles
and stores the executable, and answers with the key. A request that runs too long or takes more memory
than its learner may costs that learner only a local compile (the service kills the worker process
compiling it); the service dying costs the learners waiting on it as much: the next sandbox gets a new one.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading

from grader.model.cache import Cache
from grader.sandbox import reaper
from grader.sandbox.policy import CHILD, confinable, confinement, prepare_compile_cache, runtime_dirs

SERVER = CHILD / "compile_server.py"


def server_env(cache: Cache) -> dict[str, str]:
    """What sets the keys' inputs: the judge's XLA flags and the cache, and nothing the judge's caller set;
    and, where Landlock works, what the service may read (the runtime, as learners), what it reads as well to
    start its workers (a fresh interpreter lists the whole runtime; its own script) and write (the cache)."""
    confined = {}
    if confinable():
        read, _ = confinement(str(cache.compile_dir), cache)
        paths = {"read": read, "start": [*runtime_dirs(), str(CHILD)], "write": [str(cache.compile_dir)]}
        confined["JUDGE_SERVICE_CONFINE"] = json.dumps(paths)
    return {**confined, "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", **cache.jax_settings(writes=True)}


class CompileService:
    """The service's process, started at once (its first learner need not wait for JAX to import) and again on
    a connection whenever it has died. Thread-safe."""

    def __init__(self, cache: Cache) -> None:
        self.cache = cache
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._control: socket.socket | None = None
        self.starts = 0  # how many processes it took: a service that keeps dying shows here
        try:
            self._start()
        except OSError:
            pass  # tried again on the first connection

    def _start(self) -> None:
        prepare_compile_cache(self.cache)  # it must exist before the service confines itself to it
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        with reaper.spawn_lock:  # the judge's own child: never swept as a learner's orphan
            self._proc = subprocess.Popen(
                [sys.executable, "-I", str(SERVER), str(theirs.fileno())],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                pass_fds=[theirs.fileno()],
                env=server_env(self.cache),
                start_new_session=True,
            )
            reaper.active.add(self._proc.pid)
        theirs.close()
        self._control = ours
        self.starts += 1

    def connect(self, memory: int | None = None) -> socket.socket | None:
        """A new connection for one sandbox: the learner's end (the caller hands it on and closes it), or None
        when the service cannot be reached (the learner then compiles everything itself, as without it).
        `memory`: the learner's memory limit in bytes, which no compile for it may pass (else the service's
        default, a problem's default limit)."""
        message = json.dumps({"memory": memory}).encode()
        with self._lock:
            for _ in range(2):
                if self._proc is None or self._proc.poll() is not None:
                    self._stop()
                    try:
                        self._start()
                    except OSError:
                        return None
                ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
                try:
                    assert self._control is not None
                    socket.send_fds(self._control, [message], [ours.fileno()])
                    return theirs
                except OSError:
                    theirs.close()
                    self._stop()
                finally:
                    ours.close()
            return None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    def _stop(self) -> None:
        if self._control is not None:
            self._control.close()  # the service exits when its control socket hangs up
            self._control = None
        if self._proc is not None:
            reaper.stop_group(self._proc)  # its workers too, whatever they are compiling
            self._proc = None

    def close(self) -> None:
        with self._lock:
            self._stop()
