"""`judge batch --executor ray` grades exactly as the local executor, on a Ray cluster started on its own.

The cluster is started with `ray start` in a clean environment (no JUDGE_* variables, another HOME, another
folder), as an instructor starts one on their machines: a node has nothing of the instructor's but what the job
carries. A course's own problems, one that reuses a built-in id included, are graded against the course's set.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from conftest import ROOT, SUBMISSIONS, context, judge, strong_level
from test_batch import MASK, build_class
from test_context import COURSE_REFERENCE, INVERTED_SOURCE

from grader.batch.tasks import Options, Task, grade_task
from grader.grading.submission import Submission
from grader.model.verdict import Fault, FaultKind, Refusal


def ray_or_skip() -> Path:
    ray = Path(sys.executable).with_name("ray")
    if not ray.is_file():
        if os.environ.get("CI"):
            pytest.fail("CI installs judge[ray]: the Ray executor must be tested")
        pytest.skip("ray is not installed")
    return ray


def test_ray_executor_gives_the_same_grades_as_local(tmp_path, cluster):
    level = strong_level()
    cls = build_class(tmp_path)
    args = ["--problems", f"{MASK},cross_attention_block", "--hidden-seed", "s3cret", "--sandbox", level]
    local = judge("batch", str(cls), "--out", str(tmp_path / "local"), *args)
    args += ["--executor", "ray", "--address", cluster]
    remote = judge("batch", str(cls), "--out", str(tmp_path / "ray"), *args, timeout=600)
    assert local.returncode == 0 and remote.returncode == 0, remote.stderr[-3000:]
    for name in ("grades.csv", "grades_wide.csv"):
        assert (tmp_path / "ray" / name).read_text() == (tmp_path / "local" / name).read_text(), name
    for student in ("alice", "bob", "carol", "dave", "eve", "frank", "gina"):
        docs = [json.loads((tmp_path / run / student / "results.json").read_text()) for run in ("ray", "local")]
        for doc in docs:
            doc.pop("execution_time")  # a timing: the only thing allowed to differ
        assert docs[0] == docs[1], student
    # resume works the same way: nothing is regraded
    again = judge("batch", str(cls), "--out", str(tmp_path / "ray"), *args, timeout=600)
    assert again.returncode == 0 and again.stderr.count("(resumed)") == 14


def test_without_an_address_the_batch_starts_its_own_cluster_and_a_bad_one_is_said(tmp_path):
    """No --address: a local cluster of the batch's own, never one $RAY_ADDRESS names (Ray's default would join
    it: here, fail on it). An address Ray cannot use is an error in a sentence, not a traceback."""
    ray_or_skip()
    level = strong_level()
    cls = tmp_path / "class"
    (cls / "ann").mkdir(parents=True)
    (cls / "ann" / f"{MASK}.py").write_text((SUBMISSIONS / MASK / "correct_jax.py").read_text())
    args = ["batch", str(cls), "--problems", MASK, "--sandbox", level, "--executor", "ray", "--workers", "1"]
    env = {**os.environ, "RAY_ADDRESS": "nonsense"}
    own = judge(*args, "--out", str(tmp_path / "own"), env=env, timeout=600)
    assert own.returncode == 0, own.stderr[-3000:]
    assert "passed" in (tmp_path / "own" / "grades.csv").read_text()
    bad = judge(*args, "--out", str(tmp_path / "bad"), "--address", "nonsense")
    assert bad.returncode == 2 and "could not connect to the Ray cluster at nonsense" in bad.stderr, bad.stderr
    assert "Traceback" not in bad.stderr


AGAIN = """
from pathlib import Path
import ray
inits = []
connect = ray.init
ray.init = lambda *a, **k: (inits.append(1), connect(*a, **k))[1]
from grader.batch.executors import open_executor
from grader.batch.tasks import Options, read_task
from grader.context import Context
ctx = Context.from_environment()
tasks = [read_task(Path(CLASS), "alice", p) for p in PROBLEMS]
with open_executor("ray", ADDRESS) as run:
    first = sorted(r.status.value for _, r in run(tasks, Options.of(ctx), 2, ctx))
    again = [r.status.value for _, r in run(tasks[:1], Options.of(ctx), 1, ctx)]
print("STATUSES", first, again, "CONNECTED", len(inits))
"""


def test_a_batch_calls_the_ray_executor_again_for_the_timeouts_it_graded_beside_others(tmp_path, cluster):
    """A batch's second pass (timeouts that may have been starved, graded alone) uses the same connection. Connecting
    again failed under load ("Failed to connect to Ray cluster", twice in the suite) and ended the batch."""
    cls = build_class(tmp_path)
    script = AGAIN.replace("CLASS", repr(str(cls))).replace("ADDRESS", repr(cluster))
    script = script.replace("PROBLEMS", repr((MASK, "cross_attention_block")))
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "STATUSES ['passed', 'passed'] ['passed'] CONNECTED 1" in proc.stdout, proc.stdout[-2000:]


def test_ray_missing_is_a_usage_error_on_the_command_line(tmp_path, monkeypatch):
    cls = build_class(tmp_path)
    proc = judge("batch", str(cls), "--out", str(tmp_path / "out"), "--executor", "dask")
    assert proc.returncode == 2 and "unknown executor 'dask'" in proc.stderr


def test_a_task_carries_its_submission(tmp_path):
    source = b"def cross_attention_mask(encoder_ids, decoder_len, pad_id=0):\n    return None\n"
    name = f"zoe/{MASK}.py"
    with context() as ctx:
        options = Options(str(ctx.problems.root), str(ctx.cache.root), ctx.cache.xla_flags, ctx.level())
        result = grade_task(Task("zoe", MASK, Submission(name, source)), ctx, options)
        assert result.submission == name and "returned None: did you forget `return`?" in result.message
        missing = grade_task(Task("zoe", MASK, Submission(name, None)), ctx, options)
        assert missing.status.value == "missing"
        not_a_file = Fault(kind=FaultKind.REFUSED, error=Refusal.NOT_A_FILE.value, file="x.py")
        refused = grade_task(Task("zoe", MASK, Submission(name, None, refused=not_a_file)), ctx, options)
        assert refused.status.value == "error" and "x.py is not a regular file" in refused.message


OWN = "scaled_rows"  # the course's own problem: `judge new`'s example, x * scale


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


@pytest.fixture(scope="module")
def cluster():
    """A head node started on its own, in a clean environment (no JUDGE_* variable, another HOME and folder), as an
    instructor starts one: yields its address; stopped after the module's tests."""
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
    """A course's own problem and one that reuses a built-in id, with hidden cases: a learner right by the course's
    spec passes on the nodes as locally, never graded against the built-in reference (the judge before this
    renovation gave internal errors for the first and the built-in reference for the second, and exited 0)."""
    level = strong_level()
    root, cls = course(tmp_path / "course"), learners(tmp_path / "class")
    common = ["--problems-dir", str(root), "batch", str(cls), "--problems", f"{MASK},{OWN}", "--sandbox", level]
    common += ["--hidden-seed", "s3cret"]
    local = judge(*common, "--out", str(tmp_path / "local"))
    on_ray = judge(*common, "--out", str(tmp_path / "ray"), "--executor", "ray", "--address", cluster, timeout=600)
    assert local.returncode == 0, local.stderr[-3000:]
    assert on_ray.returncode == 0, on_ray.stderr[-3000:]
    for name in ("grades.csv", "grades_wide.csv"):
        assert (tmp_path / "ray" / name).read_text() == (tmp_path / "local" / name).read_text(), name
    wide = (tmp_path / "ray" / "grades_wide.csv").read_text().splitlines()
    assert wide[1] == "ann,7,6,13,13" and wide[2].startswith("ben,0,0,0,"), wide  # by the course's references
    assert "internal" not in (tmp_path / "ray" / "grades.csv").read_text()
