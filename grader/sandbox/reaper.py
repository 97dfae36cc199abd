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


def orphans() -> list[int]:
    """Children of the judge that it did not start itself."""
    me, found = os.getpid(), []
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            fields = Path(stat).read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(stat.split("/")[2])
        if int(fields[1]) == me and pid not in active:
            found.append(pid)
    return found


def sweep_orphans() -> None:
    """Kill processes that were reparented to the judge: they escaped a process-level sandbox."""
    for _ in range(50):
        with spawn_lock:
            found = orphans()
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
