"""Running learner code in single-use sandboxes: the only code that touches processes is here and beside it.

A `Zygote` (trusted, never runs learner code; `zygote.py`) imports the libraries once, inside the sandbox's
confinement, and forks one keeper and one learner's process per `Sandbox`. What each level mounts and limits is
data in `policy.py` (the levels, ``bwrap`` and ``process``, are described there and in
docs/SECURITY.md); the messages between judge and child are typed in grader/child/protocol.py; the child side
is the grader/child package. Memory, tasks and CPU time summed over the sandbox are bounded by its cgroup
(`cgroups.py`) where the judge can make one, else by the keeper's supervision (`watch.py`).

A sandbox never raises for a learner's fault: `run` returns an `Outcome` of facts that the grader interprets.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from grader.child import protocol
from grader.child.protocol import CHANNEL_MAX, BadFrame, Frame, Kind
from grader.model.errors import SandboxError, SandboxFailure
from grader.sandbox import cgroups, reaper
from grader.sandbox.capture import Capture
from grader.sandbox.outcome import MAX_FRAMES, Outcome
from grader.sandbox.policy import (
    CHILD_DIR,
    SHM_MB,
    STARTUP_S,
    TASKS,
    TMPFS_MB,
    cgroups_allowed,
    confinable,
    confinement,
    cpu_limit_s,
    others_can_run_runtime,
    rlimits,
    watch_limits,
)
from grader.sandbox.zygote import Zygote

if TYPE_CHECKING:
    from grader.model.problem import Limits


class Sandbox:
    """One single-use sandboxed learner's process, forked at construction and waiting for its job.

    Example:
        with Sandbox(Zygote("auto"), Limits()) as box:
            outcome = box.run(job, payload)
    """

    def __init__(self, zygote: Zygote, limits: Limits):
        self.zygote = zygote
        self.level = zygote.level
        self.limits = limits
        self._frames: list[tuple[float, Frame, bytes]] = []
        self._cond = threading.Condition()
        self._channel_eof = False
        self._overflow = False
        self._bad_frame: str | None = None
        self._tmp = tempfile.mkdtemp(prefix="judge-box-")
        self._pid: int | None = None  # the learner's process, as the keeper sees it
        self._exit: protocol.KeeperReport | None = None  # the keeper's last word: exit code and peak memory
        self._status_eof = False
        self._started = time.monotonic()
        self._limit: str | None = None  # a summed limit the judge saw the sandbox's cgroup go over
        self.on_frame: Callable[[Frame], None] | None = None  # each frame as it arrives (progress); must not raise
        # The most the channel may carry before the run is stopped: the grader sets it from the expected outputs,
        # so a learner returning huge arrays costs the judge no more memory than a right answer would.
        self.max_output = CHANNEL_MAX
        self._hidden_from: int | None = None  # frames before this one came before the hidden inputs were sent
        self._spared = reaper.here() if self.level == "process" else set()  # reparented before: not the learner's
        self._spawn()

    def _spawn(self) -> None:
        # As root, the learner runs as a random unprivileged uid of their own. At the process level where only
        # root can reach the runtime (pyenv under /root), it opens files as uid 0 still (its file-system uid), but
        # cannot signal the judge, and seccomp refuses it every change of a file's mode, owner, times or
        # attributes. At the process level, where the kernel has Landlock, it reads only the runtime and writes
        # only its own folder, and opens no socket but AF_UNIX.
        isolate = self.level == "bwrap"
        root = os.geteuid() == 0
        uid = 100_000 + int.from_bytes(os.urandom(3), "little") % 800_000 if root else None
        files_as_root = root and not isolate and not others_can_run_runtime()
        read = write = None
        if not isolate:
            os.chmod(self._tmp, 0o700)
            if uid is not None and not files_as_root:
                os.chown(self._tmp, uid, uid)
            if confinable():
                read, write = confinement(self._tmp, self.zygote.cache)
        # None: the keeper sums and bounds instead
        self._group = cgroups.create(self.limits.memory_mb, TASKS, cgroups_allowed())
        joins = self._group.joins if self._group else []
        spec = protocol.Spawn(
            isolate=isolate,
            uid=uid,
            files_as_root=files_as_root,
            limits=rlimits(self.limits, uid is not None),
            workdir="/tmp" if isolate else self._tmp,
            tmp_mb=TMPFS_MB,
            shm_mb=SHM_MB,
            hide=[CHILD_DIR] if isolate else [],
            read=read,
            write=write,
            joins=len(joins),
            watch=None if self._group else watch_limits(self.limits),
        )
        pipes = [os.pipe() for _ in range(6)]  # stdin, stdout, stderr, channel, status, kill
        theirs = [pipes[0][0], pipes[1][1], pipes[2][1], pipes[3][1], pipes[4][1], pipes[5][0]]
        ours = [pipes[0][1], pipes[1][0], pipes[2][0], pipes[3][0], pipes[4][0], pipes[5][1]]
        try:
            self.zygote.fork(spec, theirs + joins)
        except BaseException:
            for fd in ours:
                os.close(fd)
            if self._group:
                self._group.remove()
            raise
        finally:
            for fd in theirs:
                os.close(fd)
            if self._group:
                self._group.close_joins()
        self._stdin = os.fdopen(ours[0], "wb")
        stdout, stderr = os.fdopen(ours[1], "rb"), os.fdopen(ours[2], "rb")
        self._chan = os.fdopen(ours[3], "rb", buffering=0)
        self._status = os.fdopen(ours[4], "rb")
        self._kill = ours[5]
        self._stdout, self._stderr = Capture(stdout), Capture(stderr)
        self._threads = [
            threading.Thread(target=self._read_channel, daemon=True),
            threading.Thread(target=self._read_status, daemon=True),
        ]
        for t in self._threads:
            t.start()
        self._threads += [self._stdout.thread, self._stderr.thread]

    # -- readers

    def _read_status(self) -> None:
        """The keeper's lines (trusted): the learner's pid, then its exit code and peak memory."""
        for line in self._status:
            try:
                doc = protocol.KeeperReport.from_line(line)
            except (ValueError, TypeError):
                continue
            with self._cond:
                if doc.pid is not None:
                    self._pid = doc.pid
                elif doc.exit is not None:
                    self._exit = doc
                elif doc.error is not None:
                    failed = protocol.Fault(protocol.Why.CANNOT_START, text=doc.error)
                    self._frames.append((time.monotonic(), Frame(Kind.INTERNAL, fault=failed), b""))
                self._cond.notify_all()
        with self._cond:
            self._status_eof = True
            self._cond.notify_all()

    def _read_channel(self) -> None:
        """The learner's channel (untrusted): every frame bounded and validated; the first bad one ends the run."""
        reader, total = protocol.FrameReader(max_payload=CHANNEL_MAX), 0
        while chunk := self._chan.read(1 << 20):
            total += len(chunk)
            try:
                if total > min(self.max_output, CHANNEL_MAX):
                    with self._cond:
                        self._overflow = True
                    break
                frames = reader.feed(chunk)
                if len(self._frames) + len(frames) > MAX_FRAMES:
                    raise BadFrame(f"more than {MAX_FRAMES:,} frames")
            except BadFrame as e:
                with self._cond:
                    self._bad_frame = str(e)
                break
            with self._cond:
                self._frames += [(time.monotonic(), f, p) for f, p in frames]
                self._cond.notify_all()
            for frame, _ in frames:
                if self.on_frame is not None:
                    self.on_frame(frame)
        if self._overflow or self._bad_frame:
            self.kill()
        with self._cond:
            self._channel_eof = True
            self._cond.notify_all()

    def _seen(self, kind: Kind) -> float | None:
        return next((t for t, f, _ in self._frames if f.kind is kind), None)

    # -- control

    def wait_ready(self) -> None:
        """Block until the learner's process is set up; its failing to start is a SandboxError."""
        deadline = self._started + STARTUP_S
        with self._cond:
            while self._seen(Kind.READY) is None and self._seen(Kind.INTERNAL) is None and not self._channel_eof:
                if not self._cond.wait(timeout=max(0.0, deadline - time.monotonic())) and time.monotonic() >= deadline:
                    break
            ready = self._seen(Kind.READY) is not None
            internal = next((f.fault for _, f, _ in self._frames if f.kind is Kind.INTERNAL and f.fault), None)
        if not ready:
            self.kill()
            self._reap()
            if internal is not None:
                raise SandboxError(SandboxFailure(internal.why.value), internal.text)
            raise SandboxError(SandboxFailure.DID_NOT_START, self.level)

    def run(self, job: protocol.Job, payload: bytes, later: bytes = b"") -> Outcome:
        """Send the job, wait for it within the limits, and return what happened.

        `later` (the hidden cases' inputs, when job.public is set) is sent only once every public case has a
        result; from then on the learner's output is no longer kept, and its frames count only for hidden cases.
        """
        self.wait_ready()
        start = time.monotonic()
        self._send(protocol.encode(job, payload), close=job.public is None)
        timed_out, forever_s = None, None
        with self._cond:
            while not (self._seen(Kind.DONE) or self._channel_eof or self._overflow or self._bad_frame):
                if job.public is not None and self._hidden_from is None and self._public_done(job.public):
                    self._hidden_from = len(self._frames)
                    self._stdout.stop_keeping()
                    self._stderr.stop_keeping()
                    self._send(protocol.encode(protocol.Frame(Kind.READY), later), close=True)
                imported = self._seen(Kind.IMPORTED)
                if imported is None:
                    deadline, phase = start + self.limits.import_s, "import"
                else:
                    deadline, phase = imported + self.limits.time_s, "cases"
                left = deadline - time.monotonic()
                # A loop that can never end (the learner's process says so: a claim that can only cost it the
                # timeout it would get anyway) ends the run now, not at the limit.
                looped = self._seen(Kind.FOREVER)
                if looped is not None:
                    in_import = imported is None or looped < imported
                    timed_out = "import" if in_import else "cases"
                    forever_s = max(0.0, looped - (start if in_import or imported is None else imported))
                    break
                if left <= 0:
                    timed_out = phase
                    break
                if self._group is not None and (over := self._group.totals().over(cpu_limit_s(self.limits))):
                    self._limit = over
                    break
                self._cond.wait(timeout=min(left, 0.1) if self._group else left)
        if (timed_out and forever_s is None) or self._limit == "cpu":
            self._ask_where()
        if timed_out or self._limit:
            self.kill()
        else:
            self._wait_exit(grace=2.0)
        wall = time.monotonic() - start
        self._reap()
        for t in self._threads:
            t.join(timeout=2.0)
        code = self._exit.exit if self._exit else None
        maxrss = self._exit.maxrss_kb if self._exit else None
        totals = cgroups.summed(self._group, self._exit, cpu_limit_s(self.limits), self._limit)
        frames = [(f, p) for _, f, p in self._frames]
        if self._hidden_from is not None and job.public is not None:  # after the hidden inputs: hidden cases only
            public = job.public
            frames = frames[: self._hidden_from] + [
                (f, p) for f, p in frames[self._hidden_from :] if f.kind is Kind.CASE and (f.index or 0) >= public
            ]
        return Outcome(
            level=self.level,
            frames=frames,
            exit_code=code if code is not None and code >= 0 else None,
            signal=-code if code is not None and code < 0 else None,
            timed_out=timed_out,
            forever_s=forever_s,
            overflow=self._overflow,
            bad_frame=self._bad_frame,
            stdout=self._stdout.text(),
            stderr=self._stderr.text(),
            stdout_bytes=self._stdout.total,
            stderr_bytes=self._stderr.total,
            wall_s=wall,
            peak_rss_mb=maxrss / 1024 if maxrss is not None else None,
            limit=totals.limit,
            memory_mb=totals.peak_mb,
            cpu_s=totals.cpu_s if totals.measured else None,
        )

    def _send(self, data: bytes, close: bool) -> None:
        try:
            self._stdin.write(data)
            self._stdin.flush()
            if close:
                self._stdin.close()
        except (OSError, ValueError):
            pass  # the learner's process died: what happened shows in its exit status

    def _public_done(self, public: int) -> bool:
        """Every public case has a result, or the file failed to load (then no case runs)."""
        seen = {f.index for _, f, _ in self._frames if f.kind is Kind.CASE}
        return self._seen(Kind.LOAD_ERROR) is not None or all(i in seen for i in range(public))

    def _wait_exit(self, grace: float) -> None:
        with self._cond:
            if not self._cond.wait_for(lambda: self._exit is not None or self._status_eof, timeout=grace):
                self.kill()

    def _ask_where(self) -> None:
        """Before the kill: have the keeper ask the learner's process which of its lines is running (0.5 s)."""
        try:
            os.write(self._kill, b"w")
        except OSError:
            return
        with self._cond:
            self._cond.wait_for(lambda: self._seen(Kind.WHERE) is not None or self._channel_eof, timeout=0.5)

    def kill(self) -> None:
        """Kill everything in the sandbox. Safe to call more than once and from any thread."""
        try:
            os.write(self._kill, b"k")  # the keeper kills: it sees the learner's process, wherever it runs
        except OSError:
            pass
        if self._group is not None:
            self._group.kill()
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
            self.kill()  # what it left running in its process group (and its cgroup)
            reaper.sweep_orphans(self._spared)

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
        if self._group is not None:
            self._group.remove()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
