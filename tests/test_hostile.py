"""Hostile learners: what a learner crafts around its code (folders, links) changes no grade but its own."""

import csv
import json

import pytest
from conftest import HOSTILE, SUBMISSIONS, judge

from grader import problems

MASK = "cross_attention_mask"


def test_a_learner_folder_linked_to_the_reference_is_refused(tmp_path):
    cls = tmp_path / "class"
    (cls / "alice").mkdir(parents=True)
    (cls / "alice" / f"{MASK}.py").write_text((SUBMISSIONS / MASK / "correct_jax.py").read_text())
    (cls / "mallory").symlink_to(problems.REFERENCE_DIR, target_is_directory=True)  # holds cross_attention_mask.py
    out = tmp_path / "out"
    proc = judge("batch", str(cls), "--out", str(out), "--problems", MASK)
    assert proc.returncode == 0, proc.stderr
    with open(out / "grades.csv", newline="") as f:
        grades = {r["student"]: r for r in csv.DictReader(f)}
    assert grades["alice"]["status"] == "passed"
    assert grades["mallory"]["status"] == "error" and grades["mallory"]["score"] == "0"
    assert "links are not followed" in grades["mallory"]["message"]


def test_a_forged_results_json_never_reaches_gradescope(tmp_path):
    """At the process level (Gradescope's containers have no namespaces) a learner shares the judge's uid."""
    from grader.sandbox_policy import confinable

    if not confinable():
        pytest.skip("this kernel has no Landlock: the process level guards nothing here")
    results = tmp_path / "results" / "results.json"
    sub = tmp_path / "submission"
    sub.mkdir()
    (sub / f"{MASK}.py").write_text((HOSTILE / "forge_results.py").read_text().replace("/nonexistent", str(results)))
    proc = judge(
        "gradescope",
        "--submission-dir",
        str(sub),
        "--results",
        str(results),
        "--problems",
        MASK,
        "--sandbox",
        "process",
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(results.read_text())
    assert doc["score"] == 0 and "forged" not in doc["output"] and doc["tests"][0]["status"] == "failed"


def test_a_batch_grades_at_the_process_level_where_landlock_guards_it(tmp_path):
    from grader.sandbox_policy import confinable

    if not confinable():
        pytest.skip("this kernel has no Landlock")
    cls = tmp_path / "class"
    (cls / "alice").mkdir(parents=True)
    (cls / "alice" / f"{MASK}.py").write_text((SUBMISSIONS / MASK / "correct_jax.py").read_text())
    (cls / "mallory").mkdir()
    (cls / "mallory" / f"{MASK}.py").write_text((HOSTILE / "read_reference.py").read_text())
    out = tmp_path / "out"
    proc = judge("batch", str(cls), "--out", str(out), "--problems", MASK, "--sandbox", "process")
    assert proc.returncode == 0, proc.stderr
    with open(out / "grades.csv", newline="") as f:
        grades = {r["student"]: r for r in csv.DictReader(f)}
    assert grades["alice"]["status"] == "passed"
    assert grades["mallory"]["status"] == "wrong_answer", grades["mallory"]["message"]  # it found nothing


def test_a_huge_output_is_refused_before_the_judge_holds_it():
    """A 500 MB return per case took the judge from 52 MB to 1.48 GB, times the batch's workers."""
    import resource

    from grader.grading import grade
    from grader.models import Limits, Status

    grade(MASK, SUBMISSIONS / MASK / "correct_jax.py")  # the judge's own start, before measuring
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = grade(MASK, HOSTILE / "huge_output.py", limits=Limits(memory_mb=4096, time_s=60))
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert result.status is Status.CRASHED and "more data than any answer needs" in result.cases[0].message
    assert grown_mb < 100, f"the judge grew by {grown_mb:.0f} MB"
