"""Finding processes that escaped a process-level sandbox: the judge is their subreaper and kills them.

At the bwrap level a learner's process is PID 1 of its own namespace, so everything it starts
ends with it; at the process level a learner can start a new session and leave, so the judge
makes itself the subreaper of its children and kills whatever is reparented to it.
"""

from __future__ import annotations

import ctypes
import glob
import os
import signal
import subprocess
import threading
from collections.abc import Collection
from pathlib import Path

from grader.child.protocol import PR_SET_CHILD_SUBREAPER

active: set[int] = set()  # the judge's own children (zygotes): never swept
spawn_lock = threading.Lock()  # held while a child is started, so a sweep never sees it half-registered


def forget(proc: subprocess.Popen[bytes]) -> None:
    """Wait for one of the judge's own children (a zygote, a compile service) and stop keeping it from sweeps.
    Calling it again for the same child does nothing more."""
    proc.wait()
    with spawn_lock:
        active.discard(proc.pid)


def stop_group(proc: subprocess.Popen[bytes]) -> None:
    """Kill one of the judge's own children and everything in its process group (a zygote's keepers, a compile
    service's workers), then `forget` it."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    forget(proc)


def become_subreaper() -> bool:
    try:
        return ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def orphans(spare: Collection[tuple[int, int]] = ()) -> list[int]:
    """Children of the judge that it did not start itself, but those in `spare` (`here()` before a sandbox)."""
    return [pid for pid, started in _children() if pid not in active and (pid, started) not in spare]


def here() -> set[tuple[int, int]]:
    """What is reparented to the judge now, as (pid, start time): not a sandbox's, when taken before it starts.
    Where the judge is a library in a long-lived process (a notebook's kernel), that process's own daemons
    (`ray start` run from it) are reparented to it once it is a subreaper, and are none of the sweep's business.
    The start time tells a pid a learner's process took over after the daemon ended."""
    return set(_children())


def _children() -> list[tuple[int, int]]:
    me, found = os.getpid(), []
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            fields = Path(stat).read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == me:
            found.append((int(stat.split("/")[2]), int(fields[19])))  # its pid and start time (field 22 of stat)
    return found


def sweep_orphans(spare: Collection[tuple[int, int]]) -> None:
    """Kill processes that were reparented to the judge, but those in `spare`: they escaped a process-level
    sandbox."""
    for _ in range(50):
        with spawn_lock:
            found = orphans(spare)
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
