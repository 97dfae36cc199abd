"""Hostile learners: what a learner crafts around its code (folders, links) changes no grade but its own."""

import csv

from conftest import SUBMISSIONS, judge

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
