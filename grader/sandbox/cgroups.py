"""One control group per sandbox, where the judge may make them: memory, processes and CPU summed over everything
a learner's code starts.

The judge makes the group inside its own (cgroup v2 where its subtree is delegated to it and the memory and pids
controllers are on; else cgroup v1 where the memory, pids and cpuacct hierarchies are writable, as root), and
passes an open `cgroup.procs` of each hierarchy to the sandbox: the learner's process writes "0" to them (joins)
before any learner code runs, and closes them. Bubblewrap's PID namespace hides the learner's pids from the
judge, which is why it joins by descriptor. Everything it forks is inside. After the run the judge reads the
totals (peak memory, CPU seconds, OOM kills, refused forks), kills what is left and removes the group.

Where no group can be made (Docker's read-only /sys/fs/cgroup, an unprivileged laptop on cgroup v1), `create`
returns None and the keeper supervises the sandbox instead (`watch.py`); the policy can force that fallback
(JUDGE_NO_CGROUP=1, read in policy.py).
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import os
import time
from dataclasses import dataclass
from pathlib import Path

from grader.child import watch
from grader.child.protocol import KeeperReport

V1_CONTROLLERS = ("memory", "pids", "cpuacct")
_count = itertools.count()


@dataclass(frozen=True)
class Totals:
    """What the group (or the keeper) measured: facts the learner cannot forge."""

    peak_mb: float | None
    cpu_s: float
    oom_kills: int
    forks_refused: int
    limit: str | None = None  # the summed limit the sandbox went over, once it is over
    measured: bool = True  # whether cpu_s was measured at all

    def over(self, cpu_limit_s: float) -> str | None:
        """The summed limit the group went over: an OOM kill in it, its CPU time, a fork refused."""
        if self.oom_kills:
            return "memory"
        if self.cpu_s > cpu_limit_s:
            return "cpu"
        return "tasks" if self.forks_refused else None


def summed(group: Group | None, report: KeeperReport | None, cpu_limit_s: float, seen: str | None) -> Totals:
    """The sandbox's totals after its run, and the limit it went over: from its group, else the keeper's report
    (trusted, as the keeper is): `seen` is the limit the judge saw while it ran."""
    if group is not None:
        totals = group.totals()
        return dataclasses.replace(totals, limit=seen or totals.over(cpu_limit_s))
    report = report or KeeperReport()
    peak = report.peak_kb / 1024 if report.peak_kb is not None else None
    cpu = report.cpu_ms / 1000 if report.cpu_ms is not None else None
    return Totals(peak, cpu or 0.0, 0, 0, report.limit, cpu is not None)


def _mounts(mountinfo: str) -> dict[str, tuple[str, str]]:
    """Controller (or "unified") -> (mount point, the mount's root in the hierarchy), from /proc/self/mountinfo."""
    found: dict[str, tuple[str, str]] = {}
    for line in mountinfo.splitlines():
        left, _, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if len(fields) < 5 or len(tail) < 3:
            continue
        root, point = fields[3], fields[4]
        if tail[0] == "cgroup2":
            found.setdefault("unified", (point, root))
        elif tail[0] == "cgroup":
            for option in tail[2].split(","):
                if option in V1_CONTROLLERS:
                    found.setdefault(option, (point, root))
    return found


def _own(proc_cgroup: str) -> dict[str, str]:
    """Controller (or "unified") -> this process's group in that hierarchy, from /proc/self/cgroup."""
    own = {}
    for line in proc_cgroup.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        for name in parts[1].split(",") if parts[1] else ["unified"]:
            own[name] = parts[2]
    return own


def _join(point: str, root: str, path: str) -> Path:
    rel = path[len(root) :] if root != "/" and path.startswith(root) else path
    return Path(point) / rel.lstrip("/")


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _field(text: str, key: str) -> int:
    """The value of `key N` in a flat keyed file (memory.events, cpu.stat, pids.events, memory.oom_control)."""
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name == key and value.strip().isdigit():
            return int(value)
    return 0


@functools.cache
def _where() -> tuple[str, dict[str, Path]] | None:
    """The cgroup version the judge can make groups with, and the folder of its own group in each hierarchy."""
    try:
        mounts = _mounts(Path("/proc/self/mountinfo").read_text())
        own = _own(Path("/proc/self/cgroup").read_text())
    except OSError:
        return None
    if "unified" in mounts and "unified" in own:
        parent = _v2_parent(_join(*mounts["unified"], own["unified"]), Path(mounts["unified"][0]))
        if parent is not None:
            return "v2", _swept({"unified": parent})
    if all(c in mounts and c in own for c in V1_CONTROLLERS):
        folders = {c: _join(*mounts[c], own[c]) for c in V1_CONTROLLERS}
        if all(os.access(f, os.W_OK) and (f / "cgroup.procs").exists() for f in folders.values()):
            return "v1", _swept(folders)
    return None


def _v2_parent(own: Path, top: Path) -> Path | None:
    """Where cgroup v2 sandboxes' groups can go. v2 gives controllers only to the children of a group that holds
    no process, and the judge is in its own: so its own group only if it somehow gives them already, else beside
    it, in its parent (systemd gives every user's app.slice and every service's slice memory and pids), where
    that parent is writable and inside the cgroup namespace the judge sees. Nothing is moved or enabled."""
    want = {"memory", "pids"}
    if want <= set(_read(own / "cgroup.subtree_control").split()) and os.access(own, os.W_OK):
        return own
    if own != top and want <= set(_read(own / "cgroup.controllers").split()) and os.access(own.parent, os.W_OK):
        return own.parent
    return None


def _swept(parents: dict[str, Path]) -> dict[str, Path]:
    """Groups a judge left behind when it was killed (empty ones: the kernel refuses to remove the others)."""
    for parent in parents.values():
        for folder in parent.glob("judge-*-*"):
            pid = folder.name.split("-")[1]
            if pid.isdigit() and not Path(f"/proc/{pid}").exists():
                try:
                    folder.rmdir()
                except OSError:
                    pass
    return parents


def mechanism(allowed: bool = True) -> str:
    """What bounds a sandbox's memory, processes and CPU time summed over its processes: "cgroup v1", "cgroup
    v2", or "keeper" (its supervision, which sums them every 0.1 s)."""
    where = _where() if allowed else None
    return "keeper" if where is None else f"cgroup {where[0]}"


class Group:
    """One sandbox's control group (one folder per hierarchy in v1)."""

    def __init__(self, version: str, folders: dict[str, Path]):
        self.version = version
        self.folders = folders
        self._peak = 0  # v2 kernels without memory.peak: the most memory.current showed
        self.joins: list[int] = []

    @property
    def main(self) -> Path:
        return self.folders["unified" if self.version == "v2" else "memory"]

    def _file(self, controller: str, name: str) -> Path:
        return self.folders["unified" if self.version == "v2" else controller] / name

    def open_joins(self) -> None:
        """`cgroup.procs` of each hierarchy, open for writing: the learner's process joins through them."""
        for folder in dict.fromkeys(self.folders.values()):
            self.joins.append(os.open(folder / "cgroup.procs", os.O_WRONLY | os.O_CLOEXEC))

    def close_joins(self) -> None:
        """Once passed to the keeper: the judge keeps none open."""
        for fd in self.joins:
            os.close(fd)
        self.joins = []

    def totals(self) -> Totals:
        if self.version == "v2":
            current = _read(self.main / "memory.current").strip()
            self._peak = max(self._peak, int(current) if current.isdigit() else 0)
            peak_text = _read(self.main / "memory.peak").strip()
            peak = max(self._peak, int(peak_text) if peak_text.isdigit() else 0)
            cpu = _field(_read(self.main / "cpu.stat"), "usage_usec") / 1e6
            oom = _field(_read(self.main / "memory.events"), "oom_kill")
        else:
            peak_text = _read(self._file("memory", "memory.max_usage_in_bytes")).strip()
            peak = int(peak_text) if peak_text.isdigit() else 0
            usage = _read(self._file("cpuacct", "cpuacct.usage")).strip()
            cpu = int(usage) / 1e9 if usage.isdigit() else 0.0
            oom = _field(_read(self._file("memory", "memory.oom_control")), "oom_kill")
        refused = _field(_read(self._file("pids", "pids.events")), "max")
        return Totals(peak / 2**20 if peak else None, cpu, oom, refused)

    def kill(self) -> None:
        """Kill every process in the group (the judge sees their pids: it is outside every sandbox's namespace)."""
        if self.version == "v2":
            try:
                (self.main / "cgroup.kill").write_text("1")
                return
            except OSError:
                pass  # before Linux 5.14: one by one
        watch.kill_until_none(
            lambda: {int(p) for f in self.folders.values() for p in _read(f / "cgroup.procs").split() if p.isdigit()}
        )

    def remove(self) -> None:
        """Kill what is left and remove the group (a killed process leaves it as it exits: retried for 2 s)."""
        self.kill()
        for folder in self.folders.values():
            for _ in range(200):
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.01)


def create(memory_mb: int, pids: int, allowed: bool = True) -> Group | None:
    """A new group for one sandbox with these limits, or None where the judge cannot make one (or
    JUDGE_NO_CGROUP=1 says not to): the keeper's supervision bounds the sandbox then."""
    where = _where() if allowed else None
    if where is None:
        return None
    version, parents = where
    name = f"judge-{os.getpid()}-{next(_count)}-{os.urandom(3).hex()}"
    group = Group(version, {c: p / name for c, p in parents.items()})
    limit = str(memory_mb * 2**20)
    try:
        for folder in group.folders.values():
            folder.mkdir()
        if version == "v2":
            (group.main / "memory.max").write_text(limit)
            (group.main / "memory.swap.max").write_text("0") if (group.main / "memory.swap.max").exists() else None
            (group.main / "memory.oom.group").write_text("1")  # an OOM kill takes the whole sandbox
            (group.main / "pids.max").write_text(str(pids))
        else:
            (group.folders["memory"] / "memory.limit_in_bytes").write_text(limit)
            memsw = group.folders["memory"] / "memory.memsw.limit_in_bytes"
            if memsw.exists():
                memsw.write_text(limit)  # no swapping past the limit either
            (group.folders["pids"] / "pids.max").write_text(str(pids))
        group.open_joins()
    except OSError:
        group.close_joins()
        group.remove()
        return None
    return group
