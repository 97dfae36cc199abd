"""The keeper's supervision of a sandbox, where no cgroup bounds it: memory, CPU time and tasks summed over every
process the learner's code starts, sampled every 0.1 s, the sandbox killed when one goes over.

Child side: stdlib only, loaded beside `worker.py`. The keeper's descendants are the sandbox: at the bwrap level
the learner's process is PID 1 of its namespace, so its orphans stay below it; at the process level the keeper is
their subreaper. Memory is the proportional set size (shared pages split between the processes that map them, so
the libraries shared with the zygote count once), or the resident size where a process hides its PSS (then
counted whole: hiding only ever costs the learner). CPU time is never over-counted: it is the largest of two lower
bounds (live processes with what they reaped, plus what the keeper reaped; or each process's last seen time).
A process living less than 0.1 s between two samples, reaped by a parent that ignores SIGCHLD, escapes the count.
"""

from __future__ import annotations

import os
import resource
import signal
import time
from collections.abc import Callable, Iterable

TICK_S = 0.1
HZ = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def _read(proc: int, path: str) -> bytes:
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC, dir_fd=proc)
    try:
        return os.read(fd, 1 << 16)
    finally:
        os.close(fd)


def _stat(proc: int, pid: int) -> list[str] | None:
    """/proc/PID/stat after the command name: [state, ppid, ...]; None once gone."""
    try:
        return _read(proc, f"{pid}/stat").rsplit(b")", 1)[1].decode().split()
    except (OSError, IndexError):
        return None


def open_proc() -> int:
    """The keeper's /proc, opened before the learner's process mounts its own over it (they share mounts)."""
    return os.open("/proc", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)


def descendants(proc: int, root: int) -> dict[int, list[str]]:
    """Every live descendant of `root`, with its stat fields."""
    stats = {}
    for name in os.listdir(proc):
        if name.isdigit() and (fields := _stat(proc, int(name))) is not None:
            stats[int(name)] = fields
    children: dict[int, list[int]] = {}
    for pid, fields in stats.items():
        children.setdefault(int(fields[1]), []).append(pid)
    found, todo = {}, list(children.get(root, []))
    while todo:
        pid = todo.pop()
        if pid not in found:
            found[pid] = stats[pid]
            todo += children.get(pid, [])
    return found


def memory_bytes(proc: int, pid: int, fields: list[str]) -> int:
    try:
        for line in _read(proc, f"{pid}/smaps_rollup").splitlines():
            if line.startswith(b"Pss:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return int(fields[21]) * PAGE  # rss, in pages: readable whatever the process does


class Watch:
    """The running totals of one sandbox, and whether it went over a limit."""

    def __init__(self, limits: dict[str, float], proc: int):
        self.proc = proc
        self.memory = limits["memory_mb"] * 2**20
        self.cpu = limits["cpu_s"]
        self.tasks = limits["tasks"]
        self.peak = 0  # bytes
        self.cpu_s = 0.0
        self._last: dict[int, float] = {}  # each process's own CPU seconds when last seen
        self._gone = 0.0  # the last seen CPU seconds of processes that ended
        self._ticks = 0

    def sample(self) -> str | None:
        """Sum the sandbox now; the limit it is over, if any."""
        procs = descendants(self.proc, os.getpid())
        own = {pid: (int(f[11]) + int(f[12])) / HZ for pid, f in procs.items()}
        reaped = sum((int(f[13]) + int(f[14])) / HZ for f in procs.values())
        mine = resource.getrusage(resource.RUSAGE_CHILDREN)
        self._gone += sum(t for pid, t in self._last.items() if pid not in own)
        self._last = own
        live = sum(own.values())
        self.cpu_s = max(self.cpu_s, live + reaped + mine.ru_utime + mine.ru_stime, live + self._gone)
        tasks = sum(int(f[17]) for f in procs.values())
        total = sum(int(f[21]) for f in procs.values()) * PAGE
        self._ticks += 1
        # Resident >= proportional, and costs far less to read (PSS: 0.4 ms a process): many processes under the
        # limit are summed exactly once a second only.
        if total > self.memory or len(procs) <= 16 or self._ticks % 10 == 0:
            total = sum(memory_bytes(self.proc, pid, f) for pid, f in procs.items())
            self.peak = max(self.peak, total)
        if total > self.memory:
            return "memory"
        if self.cpu_s > self.cpu:
            return "cpu"
        if tasks > self.tasks:
            return "tasks"
        return None

    def reap_orphans(self, learner: int) -> None:
        """Orphans the keeper adopted as subreaper: reaped once they end (their CPU time then counts as ours)."""
        for pid, fields in descendants(self.proc, os.getpid()).items():
            if fields[0] == "Z" and pid != learner:
                try:
                    os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    pass


def kill_all(proc: int) -> None:
    """SIGKILL every live process below the keeper, until none is left."""
    kill_until_none(lambda: [pid for pid, f in descendants(proc, os.getpid()).items() if f[0] not in "ZX"])


def kill_until_none(live: Callable[[], Iterable[int]]) -> None:
    """SIGKILL the processes `live()` lists until it lists none (bounded: a process forking while it is killed
    comes back once more, at most its task limit). The judge's cgroups use it too."""
    for _ in range(50):
        targets = list(live())
        if not targets:
            return
        for pid in targets:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.01)
