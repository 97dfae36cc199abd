"""A batch in which the judge failed on some tasks writes everything it graded, says which failed, exits 3."""

from __future__ import annotations

import csv
import json
import shutil

from conftest import ROOT, SUBMISSIONS, judge, strong_level

MASK = "cross_attention_mask"


def test_a_batch_with_internal_errors_writes_what_it_graded_and_exits_3(tmp_path):
    course = tmp_path / "course"
    shutil.copytree(ROOT / "problems" / MASK, course / "problems" / MASK)
    (course / "reference" / "pitfalls").mkdir(parents=True)
    shutil.copyfile(ROOT / "reference" / f"{MASK}.py", course / "reference" / f"{MASK}.py")
    shutil.copytree(ROOT / "problems" / MASK, course / "problems" / "broken")
    meta = (course / "problems" / "broken" / "problem.json").read_text()
    (course / "problems" / "broken" / "problem.json").write_text(meta.replace(f'"id": "{MASK}"', '"id": "broken"'))
    (course / "problems" / "broken" / f"{MASK}.py").rename(course / "problems" / "broken" / "broken.py")
    (course / "reference" / "broken.py").write_text(
        f"def {MASK}(encoder_ids, decoder_len, pad_id=0):\n    raise RuntimeError('the reference is broken')\n"
    )
    cls = tmp_path / "class"
    for student in ("ann", "ben"):
        (cls / student).mkdir(parents=True)
        shutil.copyfile(SUBMISSIONS / MASK / "correct_jax.py", cls / student / f"{MASK}.py")
        shutil.copyfile(SUBMISSIONS / MASK / "correct_jax.py", cls / student / "broken.py")
    args = [
        "--problems-dir",
        str(course),
        "batch",
        str(cls),
        "--out",
        str(tmp_path / "out"),
        "--sandbox",
        strong_level(),
    ]
    proc = judge(*args)
    assert proc.returncode == 3, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert "internal error" in last and "ann/broken" in last and "ben/broken" in last
    rows = {(r["student"], r["problem"]): r for r in csv.DictReader(open(tmp_path / "out" / "grades.csv"))}
    assert rows[("ann", MASK)]["status"] == rows[("ben", MASK)]["status"] == "passed"  # graded and written
    assert rows[("ann", "broken")]["status"] == "internal_error"
    assert "the reference is broken" in rows[("ann", "broken")]["message"]
    again = judge(*args)  # resumed: what was graded is reused; what the judge failed on is tried again
    assert again.returncode == 3 and "2 reused from the last run" in again.stderr and "2 regraded" in again.stderr
    # Gradescope: results.json is written whole, and the exit says the judge failed (the autograder run fails)
    results = tmp_path / "results.json"
    upload = ["--submission-dir", str(cls / "ann"), "--results", str(results), "--problems", f"{MASK},broken"]
    proc = judge("--problems-dir", str(course), "gradescope", *upload, "--sandbox", strong_level())
    assert proc.returncode == 3 and "internal error: the judge failed on broken" in proc.stderr, proc.stderr
    doc = json.loads(results.read_text())
    assert [t["extra_data"] for t in doc["tests"]] == [
        {"problem": MASK, "status": "passed"},
        {"problem": "broken", "status": "internal_error"},
    ]


def test_a_learner_folder_named_in_bytes_that_are_not_utf8_costs_no_one_their_grades(tmp_path):
    """Unzipping a legacy archive gives names such as b"\\xffbob": once, writing grades.csv failed on it, and
    no one got grades.csv, grades_wide.csv or report.html."""
    import os

    cls = tmp_path / "class"
    for student in (b"alice", b"\xffbob"):
        folder = os.path.join(os.fsencode(cls), student)
        os.makedirs(folder)
        shutil.copyfile(SUBMISSIONS / MASK / "correct_jax.py", os.path.join(folder, f"{MASK}.py".encode()))
    out = tmp_path / "out"
    proc = judge("batch", str(cls), "--problems", MASK, "--out", str(out), "--sandbox", strong_level())
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "\\xffbob" in proc.stdout + proc.stderr
    rows = list(csv.DictReader((out / "grades.csv").open(encoding="utf-8")))
    assert {(r["student"], r["status"]) for r in rows} == {("alice", "passed"), ("\\xffbob", "passed")}
    assert "\\xffbob" in (out / "grades_wide.csv").read_text(encoding="utf-8")
    assert "\\xffbob" in (out / "report.html").read_text(encoding="utf-8")
    assert (out / os.fsdecode(b"\xffbob") / "results.json").is_file()


def test_misnamed_hand_ins_say_the_name_expected_and_what_was_found(tmp_path):
    """`<id>_final.py` alone once read "missing: no file handed in"; a `_v2` beside the right name was ignored
    without a word."""
    cls = tmp_path / "class"
    correct = SUBMISSIONS / MASK / "correct_jax.py"
    for student, names in {
        "ann": [f"{MASK}_final.py"],
        "ben": [f"{MASK}.py", f"{MASK}_v2.py"],
        "cat": ["notes.py"],
        "dan": [],
    }.items():
        (cls / student).mkdir(parents=True)
        for name in names:
            shutil.copyfile(correct, cls / student / name)
    out = tmp_path / "out"
    proc = judge("batch", str(cls), "--problems", MASK, "--out", str(out), "--sandbox", strong_level())
    assert proc.returncode == 0, proc.stdout + proc.stderr
    said = {r["student"]: (r["status"], r["message"]) for r in csv.DictReader((out / "grades.csv").open())}
    expected = f"no file named {MASK}.py handed in; found "
    assert said["ann"] == ("missing", f"{expected}{MASK}_final.py: rename the one to grade to {MASK}.py")
    assert said["ben"][0] == "passed" and f"graded {MASK}.py; not graded: {MASK}_v2.py" in said["ben"][1]
    assert said["cat"] == ("missing", f"{expected}notes.py: rename the one to grade to {MASK}.py")
    assert said["dan"] == ("missing", f"no file handed in: expected {MASK}.py")
