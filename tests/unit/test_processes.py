"""The small process helpers, without a sandbox: orphan finding, and the child's read-only folder."""

import os
import stat
import subprocess
import sys

from grader.sandbox import reaper
from grader.sandbox import policy as sandbox_policy
from grader.sandbox.zygote import Zygote


def test_a_child_the_judge_did_not_register_is_an_orphan_to_sweep():
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert proc.pid in reaper.orphans()
        reaper.active.add(proc.pid)
        assert proc.pid not in reaper.orphans()  # the judge's own zygotes are never swept
    finally:
        reaper.active.discard(proc.pid)
        proc.kill()
        proc.wait()


def test_the_process_level_runs_the_child_from_a_read_only_copy_of_its_package(tmp_path):
    zygote = Zygote.__new__(Zygote)  # no process: only where the worker would be run from
    zygote.level, zygote._tmp = "process", str(tmp_path)
    argv = zygote._child_argv()
    folder = tmp_path / "child"
    assert argv[1:] == ["-I", str(folder / "worker.py")]
    names = sorted(p.name for p in sandbox_policy.child_files())
    assert sorted(os.listdir(folder)) == names and {"worker.py", "runner.py", "protocol.py"} <= set(names)
    assert not stat.S_IMODE(folder.stat().st_mode) & 0o222
    assert all(not stat.S_IMODE((folder / n).stat().st_mode) & 0o222 for n in names)
    assert (folder / "protocol.py").read_bytes() == (sandbox_policy.CHILD / "protocol.py").read_bytes()


def test_the_bwrap_level_runs_the_child_from_its_read_only_mount(tmp_path):
    zygote = Zygote.__new__(Zygote)
    zygote.level, zygote._tmp = "bwrap", str(tmp_path)
    assert zygote._child_argv()[1:] == ["-I", f"{sandbox_policy.CHILD_DIR}/worker.py"]
    assert not (tmp_path / "child").exists()
