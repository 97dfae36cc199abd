"""`judge batch --executor ray` on a local Ray cluster grades exactly as the local executor."""

import importlib.util
import json
import os

import pytest
from conftest import context, judge, strong_level
from test_batch import MASK, build_class

from grader.batch.tasks import Options, Task, grade_task
from grader.grading.submission import Submission
from grader.model.verdict import Fault, FaultKind, Refusal


def ray_or_skip():
    if importlib.util.find_spec("ray") is None:
        if os.environ.get("CI"):
            pytest.fail("CI installs judge[ray]: the Ray executor must be tested")
        pytest.skip("ray is not installed")


def test_ray_executor_gives_the_same_grades_as_local(tmp_path):
    ray_or_skip()
    level = strong_level()
    cls = build_class(tmp_path)
    args = ["--problems", f"{MASK},cross_attention_block", "--hidden-seed", "s3cret", "--sandbox", level]
    local = judge("batch", str(cls), "--out", str(tmp_path / "local"), *args)
    remote = judge(
        "batch", str(cls), "--out", str(tmp_path / "ray"), "--executor", "ray", "--workers", "2", *args, timeout=600
    )
    assert local.returncode == 0 and remote.returncode == 0, remote.stderr[-3000:]
    for name in ("grades.csv", "grades_wide.csv"):
        assert (tmp_path / "ray" / name).read_text() == (tmp_path / "local" / name).read_text(), name
    for student in ("alice", "bob", "carol", "dave", "eve", "frank", "gina"):
        docs = [json.loads((tmp_path / run / student / "results.json").read_text()) for run in ("ray", "local")]
        for doc in docs:
            doc.pop("execution_time")  # a timing: the only thing allowed to differ
        assert docs[0] == docs[1], student
    # resume works the same way: nothing is regraded
    again = judge("batch", str(cls), "--out", str(tmp_path / "ray"), "--executor", "ray", *args, timeout=600)
    assert again.returncode == 0 and again.stderr.count("(resumed)") == 14


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
