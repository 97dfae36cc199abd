"""A course's own problems on a Ray cluster started on its own: the nodes have none of the instructor's
environment or files, and grade exactly as the local executor.

The cluster is started with `ray start` in a clean environment (no JUDGE_* variables, another HOME, another
folder), as an instructor starts one on their machines. The course has a problem of its own and one that reuses a
built-in id with another reference: a learner right by the course's spec must pass on Ray as locally, never be
graded against the built-in reference.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from conftest import ROOT, judge, strong_level
from test_context import COURSE_REFERENCE, INVERTED_SOURCE

MASK = "cross_attention_mask"
OWN = "scaled_rows"  # the course's own problem: `judge new`'s example, x * scale


def ray_or_skip() -> Path:
    ray = Path(sys.executable).with_name("ray")
    if not ray.is_file():
        if os.environ.get("CI"):
            pytest.fail("CI installs judge[ray]: the Ray executor must be tested")
        pytest.skip("ray is not installed")
    return ray


def course(root: Path) -> Path:
    """A course: its own problem (made by `judge new`) and cross_attention_mask with the course's reference."""
    proc = judge("--problems-dir", str(root), "new", OWN)
    assert proc.returncode == 0, proc.stderr
    shutil.copytree(ROOT / "problems" / MASK, root / "problems" / MASK)
    (root / "reference" / f"{MASK}.py").write_text(COURSE_REFERENCE)
    return root


def learners(folder: Path) -> Path:
    """ann is right by the course's spec on both problems; ben is right by the built-in spec and forgets scale."""
    for name in ("ann", "ben"):
        (folder / name).mkdir(parents=True)
    (folder / "ann" / f"{MASK}.py").write_text(INVERTED_SOURCE)
    (folder / "ann" / f"{OWN}.py").write_text("def scaled_rows(x, scale):\n    return x * scale\n")
    shutil.copyfile(ROOT / "tests" / "submissions" / MASK / "correct_jax.py", folder / "ben" / f"{MASK}.py")
    (folder / "ben" / f"{OWN}.py").write_text("def scaled_rows(x, scale):\n    return x\n")
    return folder


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def cluster():
    """A head node started on its own, in a clean environment: yields its address; stopped after."""
    ray = ray_or_skip()
    home = Path(tempfile.mkdtemp(prefix="rj", dir="/tmp"))  # short: Ray's sockets live under it
    clean = {"PATH": "/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8"}
    port = free_port()
    start = [str(ray), "start", "--head", f"--port={port}", "--num-cpus=2", "--include-dashboard=false"]
    start += [f"--temp-dir={home / 'ray'}", "--disable-usage-stats"]
    proc = subprocess.run(start, env=clean, cwd=home, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    try:
        yield f"127.0.0.1:{port}"
    finally:
        subprocess.run([str(ray), "stop", "--force"], env=clean, cwd=home, capture_output=True, timeout=120)
        shutil.rmtree(home, ignore_errors=True)


def test_a_clean_cluster_grades_a_courses_own_problems_as_the_local_executor(tmp_path, cluster):
    level = strong_level()
    root, cls = course(tmp_path / "course"), learners(tmp_path / "class")
    common = ["--problems-dir", str(root), "batch", str(cls), "--problems", f"{MASK},{OWN}", "--sandbox", level]
    local = judge(*common, "--out", str(tmp_path / "local"))
    on_ray = judge(*common, "--out", str(tmp_path / "ray"), "--executor", "ray", "--address", cluster, timeout=600)
    assert local.returncode == 0, local.stderr[-3000:]
    assert on_ray.returncode == 0, on_ray.stderr[-3000:]
    for name in ("grades.csv", "grades_wide.csv"):
        assert (tmp_path / "ray" / name).read_text() == (tmp_path / "local" / name).read_text(), name
    wide = (tmp_path / "ray" / "grades_wide.csv").read_text().splitlines()
    assert wide[1] == "ann,4,3,7,7" and wide[2].startswith("ben,0,0,0,"), wide  # by the course's references
    assert "internal" not in (tmp_path / "ray" / "grades.csv").read_text()
