"""`judge batch` and `judge gradescope` on a small class built in a temp dir."""

import csv
import hashlib
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import HOSTILE, SUBMISSIONS, context, judge, strong_level

MASK, BLOCK = "cross_attention_mask", "cross_attention_block"
PROBLEMS = f"{MASK},{BLOCK}"


def build_class(root: Path) -> Path:
    cls = root / "class"
    files = {
        "alice": {MASK: SUBMISSIONS / MASK / "correct_jax.py", BLOCK: SUBMISSIONS / BLOCK / "correct_numpy_loops.py"},
        "bob": {MASK: HOSTILE / "kill_parent.py", BLOCK: SUBMISSIONS / BLOCK / "correct_jax_float32.py"},
        "carol": {MASK: HOSTILE / "loop_forever.py"},
        "dave": {},  # handed in nothing
        "eve": {MASK: HOSTILE / "overwrite_files.py"},
        "frank": {MASK: HOSTILE / "eat_memory.py"},
    }
    for student, subs in files.items():
        (cls / student).mkdir(parents=True)
        for pid, src in subs.items():
            text = src.read_text().replace("/nonexistent", str(cls / "alice" / f"{MASK}.py"))
            (cls / student / f"{pid}.py").write_text(text)
    (cls / "carol" / "notes.txt").write_text("stray file")
    wrong = (SUBMISSIONS / MASK / "correct_jax.py").read_text().replace("0.0, 1.0", "1.0, 0.0")
    (cls / "gina").mkdir()
    (cls / "gina" / f"{MASK}.py").write_text(wrong)
    return cls


def digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def rows(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def check_gradescope(doc: dict) -> None:
    assert isinstance(doc["score"], (int, float)) and isinstance(doc["tests"], list)
    for t in doc["tests"]:
        assert isinstance(t["name"], str) and isinstance(t["output"], str)
        assert isinstance(t["score"], (int, float)) and isinstance(t["max_score"], (int, float))
        assert t["status"] in ("passed", "failed") and t["visibility"] in (
            "visible",
            "hidden",
            "after_due_date",
            "after_published",
        )
        assert 0 <= t["score"] <= t["max_score"]
    assert doc["score"] == sum(t["score"] for t in doc["tests"])


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    level = strong_level()
    root = tmp_path_factory.mktemp("batch")
    cls = build_class(root)
    before = digest(cls)
    out = root / "out"
    proc = judge(
        "batch",
        str(cls),
        "--out",
        str(out),
        "--problems",
        PROBLEMS,
        "--hidden-seed",
        "s3cret",
        "--sandbox",
        level,
        "--workers",
        "2",
    )
    return cls, out, before, proc


def test_batch_exits_0_and_leaves_the_class_untouched(graded):
    cls, out, before, proc = graded
    assert proc.returncode == 0, proc.stderr
    assert digest(cls) == before


def test_every_row_of_grades_csv(graded):
    _, out, _, _ = graded
    got = {(r["student"], r["problem"]): r for r in rows(out / "grades.csv")}
    assert set(got) == {
        (s, p) for s in ("alice", "bob", "carol", "dave", "eve", "frank", "gina") for p in (MASK, BLOCK)
    }
    expect = {
        ("alice", MASK): "passed",
        ("alice", BLOCK): "passed",
        ("bob", MASK): "error",
        ("bob", BLOCK): "passed",
        ("carol", MASK): "timeout",
        ("carol", BLOCK): "missing",
        ("dave", MASK): "missing",
        ("dave", BLOCK): "missing",
        ("eve", MASK): "error",
        ("frank", MASK): "memory",
        ("gina", MASK): "wrong_answer",
    }
    for key, status in expect.items():
        assert got[key]["status"] == status, (key, got[key])
    for r in got.values():
        assert int(r["max_score"]) == 7  # 4 public + 3 hidden cases
        assert (int(r["score"]) == 7) == (r["status"] == "passed")
        if r["status"] == "missing":
            assert r["score"] == "0" and r["message"] == f"no file handed in: expected {r['problem']}.py"
    assert "DID nothing" in got[("eve", MASK)]["message"]  # it could not touch alice's file
    assert "all 4 public cases passed and all 3 hidden cases passed" == got[("alice", MASK)]["message"]


def test_wide_csv_has_one_row_per_learner_with_totals(graded):
    _, out, _, _ = graded
    wide = {r["student"]: r for r in rows(out / "grades_wide.csv")}
    assert list(wide) == ["alice", "bob", "carol", "dave", "eve", "frank", "gina"]
    assert wide["alice"]["total"] == "14" and wide["bob"]["total"] == "7" and wide["dave"]["total"] == "0"
    assert all(r["max_total"] == "14" for r in wide.values())


def test_results_json_per_learner_in_gradescope_format(graded):
    _, out, _, _ = graded
    for student in ("alice", "bob", "carol", "dave", "eve", "frank", "gina"):
        doc = json.loads((out / student / "results.json").read_text())
        check_gradescope(doc)
        hidden = [f"{MASK} (hidden cases)", f"{BLOCK} (hidden cases)"]
        assert [t["name"] for t in doc["tests"]] == [MASK, hidden[0], BLOCK, hidden[1]]
        assert [t["visibility"] for t in doc["tests"]] == ["visible", "after_due_date"] * 2
    gina = json.loads((out / "gina" / "results.json").read_text())["tests"][1]["output"]
    assert "hidden 1: wrong answer" in gina and "seed" not in gina.split("hidden 1")[1]


def test_html_summary(graded):
    _, out, _, _ = graded
    page = (out / "report.html").read_text()
    assert page.startswith("<!doctype html>") and MASK in page and "Most common failures" in page
    assert "hidden 1" in page and "hidden 1 (hidden)" not in page and "<script" not in page


def test_rerun_resumes_and_force_regrades(graded):
    cls, out, _, _ = graded
    again = judge("batch", str(cls), "--out", str(out), "--problems", PROBLEMS, "--hidden-seed", "s3cret")
    assert again.returncode == 0
    assert again.stderr.count("(resumed)") == 14
    assert (
        "7 students x 2 problems: 3 passed, 1 wrong, 2 errors, 1 timeout, 1 out of memory, 6 not handed in; "
        "14 reused from the last run" in again.stderr
    )
    assert "graded on the public and the hidden cases" in again.stderr
    forced = judge("batch", str(cls), "--out", str(out), "--problems", MASK, "--hidden-seed", "s3cret", "--force")
    assert forced.returncode == 0 and "(resumed)" not in forced.stderr
    other = judge("batch", str(cls), "--out", str(out), "--problems", MASK, "--hidden-seed", "another")
    assert "(resumed)" not in other.stderr  # other hidden cases are other grades


def test_hidden_cases_are_deterministic_and_depend_on_the_secret(tmp_path):
    from grader.sets.hidden import hidden_cases

    source = context().problems
    p = source.load(MASK)
    assert hidden_cases(p, source, "a") == hidden_cases(p, source, "a") != hidden_cases(p, source, "b")


def test_interrupted_batch_resumes(tmp_path):
    level = strong_level()
    cls = build_class(tmp_path)
    out = tmp_path / "out"
    cmd = [
        sys.executable,
        "-m",
        "grader",
        "batch",
        str(cls),
        "--out",
        str(out),
        "--problems",
        MASK,
        "--sandbox",
        level,
        "--workers",
        "1",
    ]
    # Ctrl-C as a terminal sends it, even where the tests run as a background job (which ignores SIGINT, and
    # passes that on: the batch would rightly ignore it too)
    reset = lambda: signal.signal(signal.SIGINT, signal.SIG_DFL)  # noqa: E731
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=reset)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list((out / ".results").rglob("*.json"))) < 2:
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    done = len(list((out / ".results").rglob("*.json")))
    assert 2 <= done < 7 and not (out / "grades.csv").exists()
    resumed = judge("batch", str(cls), "--out", str(out), "--problems", MASK, "--sandbox", level)
    assert resumed.returncode == 0 and resumed.stderr.count("(resumed)") == done
    assert len(rows(out / "grades.csv")) == 7


@pytest.mark.parametrize(
    "args,text",
    [
        (["/no/such/class"], "class folder not found"),
        (["EMPTY"], "no learner folders"),
        (["CLASS", "--problems", "nope"], "unknown problem 'nope'"),
        (["CLASS", "--out", "/proc/forbidden"], "not writable"),
    ],
)
def test_bad_input_is_exit_2(args, text, tmp_path):
    (tmp_path / "empty").mkdir()
    cls = build_class(tmp_path)
    args = [{"EMPTY": str(tmp_path / "empty"), "CLASS": str(cls)}.get(a, a) for a in args]
    if "--out" not in args:
        args += ["--out", str(tmp_path / "out")]
    proc = judge("batch", *args)
    assert proc.returncode == 2 and text in proc.stderr


def test_weak_sandbox_is_refused_unless_allowed(tmp_path, monkeypatch):
    monkeypatch.setenv("JUDGE_NO_LANDLOCK", "1")  # as on a kernel without Landlock: the process level guards nothing
    cls = build_class(tmp_path)
    proc = judge("batch", str(cls), "--out", str(tmp_path / "o"), "--problems", MASK, "--sandbox", "process")
    assert proc.returncode == 2 and "--allow-weak-sandbox" in proc.stderr
    ok = judge(
        "batch",
        str(cls),
        "--out",
        str(tmp_path / "o"),
        "--problems",
        BLOCK,
        "--sandbox",
        "process",
        "--allow-weak-sandbox",
    )
    assert ok.returncode == 0 and rows(tmp_path / "o" / "grades.csv")[0]["status"] == "passed"


def test_gradescope_entry_point(tmp_path):
    sub = tmp_path / "submission" / "nested"
    sub.mkdir(parents=True)
    (sub / f"{MASK}.py").write_text((SUBMISSIONS / MASK / "correct_loops_bool.py").read_text())
    results = tmp_path / "results" / "results.json"
    proc = judge(
        "gradescope",
        "--submission-dir",
        str(tmp_path / "submission"),
        "--results",
        str(results),
        "--problems",
        PROBLEMS,
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(results.read_text())
    check_gradescope(doc)
    assert doc["tests"][0]["status"] == "passed" and doc["tests"][1]["status"] == "failed"
    assert "no file handed in" in doc["tests"][1]["output"] and doc["score"] == 4


def test_gradescope_writes_results_when_nothing_was_handed_in(tmp_path):
    results = tmp_path / "results.json"
    proc = judge(
        "gradescope", "--submission-dir", str(tmp_path / "empty"), "--results", str(results), "--problems", MASK
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(results.read_text())
    assert doc["score"] == 0 and "no file handed in" in doc["tests"][0]["output"]


def test_links_and_huge_files_are_refused_not_followed(tmp_path):
    from grader.batch.tasks import Options, grade_task, read_task

    secret = tmp_path / "secret.txt"
    secret.write_text("instructor-only")
    cls = tmp_path / "class"
    for student in ("link", "huge", "absent", "fine"):
        (cls / student).mkdir(parents=True)
    (cls / "link" / f"{MASK}.py").symlink_to(secret)
    (cls / "huge" / f"{MASK}.py").write_bytes(b"#" * (2 << 20))
    (cls / "fine" / f"{MASK}.py").write_text("x = 1\n")
    ctx = context()
    options = Options(str(ctx.problems.root), str(ctx.cache.root), ctx.cache.xla_flags, ctx.level())

    def said(task):  # what the learner is told about a file that is not graded (no sandbox is started for it)
        result = grade_task(task, ctx, options)
        assert result.score == 0 and result.status.value in ("error", "missing"), result
        return result.message

    link = read_task(cls, "link", MASK)
    assert link.submission.data is None and "not a regular file" in said(link)
    huge = read_task(cls, "huge", MASK)
    assert huge.submission.data is None and "larger than 1 MiB" in said(huge)
    absent = read_task(cls, "absent", MASK)
    assert absent.submission.data is None and absent.submission.refused is not None  # nothing handed in: why
    assert absent.submission.refused.kind.value == "missing"
    assert said(absent) == f"no file handed in: expected {MASK}.py"
    assert read_task(cls, "fine", MASK).submission.data == b"x = 1\n"


def test_only_the_problems_handed_in_have_their_expected_outputs_computed(tmp_path, monkeypatch):
    from grader.batch import run as batch_run

    cls = tmp_path / "class"
    (cls / "alice").mkdir(parents=True)
    (cls / "alice" / f"{MASK}.py").write_text((SUBMISSIONS / MASK / "correct_jax.py").read_text())
    (cls / "bob").mkdir()  # hands in nothing: BLOCK is nobody's
    warmed = []
    real = batch_run._warm_expected
    monkeypatch.setattr(batch_run, "_warm_expected", lambda ctx, ids, *a: (warmed.extend(ids), real(ctx, ids, *a)))
    with context(sandbox=strong_level()) as ctx:
        report = batch_run.batch(ctx, cls, tmp_path / "out", problem_ids=[MASK, BLOCK])
    assert warmed == [MASK]
    assert report.results[("alice", MASK)].status.value == "passed"
    missing = report.results[("alice", BLOCK)]  # still every case, so max_score is the same for everyone
    assert missing.status.value == "missing" and len(missing.cases) == len(context().problems.load(BLOCK).cases)
