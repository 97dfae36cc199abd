"""Practising alone: hints, progress, the solution gate, --watch; the three problems from the tutorial's exercises."""

import json
import queue
import shutil
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, SUBMISSIONS, context, judge, judge_command, judge_json
from typer.testing import CliRunner

from grader import api, grade
from grader.authoring.check import hints_check
from grader.cli.main import app
from grader.context import Context
from grader.model.errors import SolutionUnavailable
from grader.practice import filewatch, progress, solution
from grader.practice.hints import load_hints
from grader.sets.inputs import make_inputs

MASK = "cross_attention_mask"
CORRECT = SUBMISSIONS / MASK / "correct_jax.py"
INVERTED = (
    "import numpy as np\n\ndef cross_attention_mask(encoder_ids, decoder_len, pad_id=0):\n"
    "    keep = (encoder_ids == pad_id).astype(float)\n"
    "    return np.repeat(keep[:, None, None, :], decoder_len, axis=2)\n"
)
NEW = ["cross_attention_relative_bias", "gated_cross_attention", "cross_attention_all_masked"]
BUILT_IN = context().problems  # ids, loading and hints only: expected outputs need the session's cache (context())
IDS = BUILT_IN.ids()


@pytest.fixture
def data(tmp_path, monkeypatch):
    """A learner with no history: a data folder of their own."""
    folder = tmp_path / "data"
    monkeypatch.setenv("JUDGE_DATA_DIR", str(folder))
    return folder


def mine(folder: Path) -> Path:
    """A correct file of the learner's own: the judge's own examples do not count in a learner's progress."""
    path = folder / "mine" / f"{MASK}.py"
    path.parent.mkdir(exist_ok=True)
    path.write_text(CORRECT.read_text())
    return path


def marks() -> dict[str, list[str]]:
    proc = judge("list")
    assert proc.returncode == 0, proc.stderr
    return {line.split()[0]: line.split()[1:3] for line in proc.stdout.splitlines()}


# ---------------------------------------------------------------- hints


@pytest.mark.parametrize("pid", IDS)
def test_every_problem_has_two_to_four_distinct_hints(pid):
    shown = load_hints(BUILT_IN, pid)
    assert 2 <= len(shown) <= 4 and len(set(shown)) == len(shown)
    assert hints_check(BUILT_IN.load(pid))[1] is True


def test_hints_check_fails_on_a_missing_or_malformed_file(scratch_set):
    ctx, folder = scratch_set
    path = folder / "hints.json"
    path.write_text(json.dumps({"hints": ["The only hint there is, which is not enough."]}))
    name, ok, detail = hints_check(ctx.problems.load(MASK))
    assert not ok and "hints.json: hints" in detail and "at least 2" in detail
    path.write_text(json.dumps({"hints": ["short", "also short"]}))
    assert hints_check(ctx.problems.load(MASK))[1] is False
    path.unlink()
    name, ok, detail = hints_check(ctx.problems.load(MASK))
    assert not ok and "file is missing" in detail


def test_hints_come_in_order_and_are_remembered_per_user(data, tmp_path, monkeypatch):
    hints = load_hints(BUILT_IN, MASK)
    for i, text in enumerate(hints, start=1):
        proc = judge("hint", MASK)
        assert proc.returncode == 0, proc.stderr
        assert f"Hint {i} of {len(hints)}" in proc.stdout and text in proc.stdout
        assert all(other not in proc.stdout for other in hints if other != text)
    last = judge("hint", MASK)  # all seen: the last one again, and where to go next
    assert f"Hint {len(hints)} of {len(hints)}" in last.stdout and "that was the last one" in last.stdout
    assert f"{len(hints)}/{len(hints)} hints" in judge("progress").stdout

    monkeypatch.setenv("JUDGE_DATA_DIR", str(tmp_path / "someone_else"))
    assert f"Hint 1 of {len(hints)}" in judge("hint", MASK).stdout  # another user starts from the first
    everything = judge("hint", MASK, "--all")
    assert all(text in everything.stdout for text in hints)
    assert f"Hint {len(hints)} of" in judge("hint", MASK).stdout  # --all counts as seen


def test_hint_for_an_unknown_problem_is_a_usage_error(data):
    proc = judge("hint", "nope")
    assert proc.returncode == 2 and "unknown problem 'nope'" in proc.stderr and "Traceback" not in proc.stderr


# ---------------------------------------------------------------- progress


def test_list_marks_new_attempted_solved_with_the_last_score_and_reset_clears(data, tmp_path):
    assert len(marks()) >= 11 and all(m == ["new", "-"] for m in marks().values())
    wrong = tmp_path / "wrong.py"
    wrong.write_text(INVERTED)
    assert judge("run", MASK, "--file", str(wrong)).returncode == 1
    assert marks()[MASK] == ["attempted", "0/4"]
    assert judge("run", MASK, "--file", str(mine(tmp_path))).returncode == 0
    assert marks()[MASK] == ["solved", "4/4"]
    code, _ = judge_json("run", MASK, "--file", str(wrong))
    assert code == 1 and marks()[MASK] == ["solved", "0/4"]  # solved once stays solved; the score is the last
    assert all(m == ["new", "-"] for pid, m in marks().items() if pid != MASK)

    stored = json.loads((data / "progress.json").read_text())
    assert stored["problems"][MASK]["runs"] == 3
    shown = judge("progress").stdout
    assert f"1 of {len(IDS)} solved" in shown and str(data) in shown

    proc = judge("progress", "--reset")
    assert proc.returncode == 0 and "progress cleared" in proc.stdout
    assert marks()[MASK] == ["new", "-"] and not (data / "progress.json").exists()


def test_progress_lives_in_the_user_data_folder_not_the_project(monkeypatch, tmp_path):
    import platformdirs

    user = Path(platformdirs.user_data_dir("judge", appauthor=False))
    monkeypatch.delenv("JUDGE_DATA_DIR")
    ctx = Context.from_environment()
    assert ctx.data_dir is None and api.progress_path(ctx) == user / "progress.json"
    assert ROOT not in user.parents
    monkeypatch.setenv("JUDGE_DATA_DIR", str(tmp_path))
    assert api.progress_path(Context.from_environment()) == tmp_path / "progress.json"


def test_only_runs_on_the_public_cases_are_recorded(data):
    hidden = grade(MASK, CORRECT, hidden_seed="s3cret")
    assert hidden.passed and any(c.hidden for c in hidden.cases)
    assert progress.record_run(data, hidden) is False
    assert progress.load_progress(data).problems == {}
    assert progress.record_run(data, grade(MASK, CORRECT)) is True
    assert progress.load_progress(data).problems[MASK].solved


def test_a_corrupt_progress_file_does_not_stop_grading(data, tmp_path):
    data.mkdir()
    (data / "progress.json").write_text("{not json")
    assert marks()[MASK] == ["new", "-"]
    assert judge("run", MASK, "--file", str(mine(tmp_path))).returncode == 0
    assert marks()[MASK] == ["solved", "4/4"]


def test_a_data_folder_that_cannot_be_written_costs_only_the_memory(tmp_path, monkeypatch):
    (tmp_path / "a_file").write_text("")
    monkeypatch.setenv("JUDGE_DATA_DIR", str(tmp_path / "a_file" / "data"))  # even root cannot create this
    proc = judge("run", MASK, "--file", str(mine(tmp_path)))
    assert proc.returncode == 0 and "progress not saved" in proc.stderr and "Traceback" not in proc.stderr
    proc = judge("hint", MASK)
    first = load_hints(BUILT_IN, MASK)[0]
    assert proc.returncode == 0 and first in proc.stdout and "cannot be written" in proc.stderr


# ---------------------------------------------------------------- the solution


def test_solution_opens_only_after_the_learners_own_file_passes(data, tmp_path):
    proc = judge("solution", MASK)
    assert proc.returncode == 1 and "opens once your own file passes" in proc.stderr
    assert "def cross_attention_mask" not in proc.stdout + proc.stderr
    wrong = tmp_path / "wrong.py"
    wrong.write_text(INVERTED)
    judge("run", MASK, "--file", str(wrong))
    proc = judge("solution", MASK)
    assert proc.returncode == 1 and "your last run: 0/4" in proc.stderr

    for judges_own in (CORRECT, ROOT / "reference" / f"{MASK}.py"):  # the README's install check, the answer
        proc = judge("run", MASK, "--file", str(judges_own))
        assert proc.returncode == 0 and "not counted in your progress" in proc.stderr, proc.stderr
        assert judge("solution", MASK).returncode == 1
    assert judge("run", MASK, "--file", str(mine(tmp_path))).returncode == 0
    proc = judge("solution", MASK)
    assert proc.returncode == 0, proc.stderr
    assert "def cross_attention_mask" in proc.stdout and "How the reference solves" in proc.stdout
    assert judge("solution", "nope").returncode == 2


def test_a_kit_without_references_says_it_has_no_solutions(data, tmp_path):
    assert progress.record_run(data, grade(MASK, CORRECT))  # passed: only the missing reference stands in the way
    no_references = tmp_path / "set"  # the problems, with no reference/ folder
    shutil.copytree(ROOT / "problems" / MASK, no_references / "problems" / MASK)
    with context(no_references) as ctx, pytest.raises(SolutionUnavailable, match="no solutions"):
        solution.solution(ctx.problems, data, MASK)
    result = CliRunner().invoke(app, ["--problems-dir", str(no_references), "solution", MASK])
    assert result.exit_code == 1 and "has no solutions" in result.output, (result.output, result.exception)
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output


def test_every_problem_has_an_explanation_outside_its_problem_folder(tmp_path):
    with progress.updating(tmp_path) as solved:  # every problem solved: the solution is open
        for pid in IDS:
            solved.of(pid).runs, solved.of(pid).solved = 1, True
    shipped = [f.read_text(errors="replace") for f in BUILT_IN.problems_dir.rglob("*") if f.is_file()]
    for pid in IDS:
        explanation, _ = solution.solution(BUILT_IN, tmp_path, pid)
        assert explanation and pid in explanation, pid
        assert not any(explanation in text for text in shipped), pid  # what ships the problems never ships it


# ---------------------------------------------------------------- watch


def _lines(proc: subprocess.Popen) -> queue.Queue:
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()
    return lines


def _read_until(lines: queue.Queue, marker: str, timeout: float = 240) -> str:
    seen, end = "", time.monotonic() + timeout
    while marker not in seen:
        try:
            seen += lines.get(timeout=max(0.1, end - time.monotonic()))
        except queue.Empty:
            pytest.fail(f"no {marker!r} within {timeout} s; output so far:\n{seen}")
    return seen


def watching(path: Path, **env: str) -> subprocess.Popen:
    """`judge run --watch` on `path`, which starts as a wrong answer."""
    path.write_text(INVERTED)
    return subprocess.Popen(
        judge_command() + ["run", MASK, "--watch"],
        cwd=path.parent,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, **env},
    )


def test_watch_regrades_a_rewritten_file_and_stops_cleanly_on_ctrl_c(data, tmp_path):
    path = tmp_path / f"{MASK}.py"
    proc = watching(path)
    try:
        lines = _lines(proc)
        first = _read_until(lines, "watching")
        assert "WRONG ANSWER 0/4" in first and "PASSED" not in first
        path.write_text(CORRECT.read_text())
        second = _read_until(lines, "watching")
        assert "PASSED 4/4" in second
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode in (0, 130)
    stderr = proc.stderr.read()
    assert "Traceback" not in stderr and "Aborted" not in stderr, stderr
    assert marks()[MASK] == ["solved", "4/4"]  # each regrade is recorded


def test_watch_does_not_go_with_json(data, tmp_path):
    code, doc = judge_json("run", MASK, "--watch", "--file", str(CORRECT))
    assert code == 2 and doc["status"] == "usage_error" and "--watch" in doc["message"]


def test_watch_calls_again_only_after_a_change_has_settled(tmp_path):
    path = tmp_path / "f.py"
    path.write_text("a")
    calls, ticks = [], iter(range(1000))

    def sleep(_):
        tick = next(ticks)
        if tick == 2:
            path.write_text("bb")  # a save, seen at the next poll
        if tick == 3:
            path.write_text("ccc")  # still being written when the change is checked: wait for it to settle
        if tick == 12:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        for _ in filewatch.saves(path, sleep=sleep):
            calls.append(path.read_text())
    assert calls == ["a", "ccc"]


# ---------------------------------------------------------------- the three new problems


WRONG = [(pid, path) for pid in NEW for path in sorted((SUBMISSIONS / pid).glob("wrong_*.py"))]


def test_each_new_problem_has_wrong_hand_ins_and_is_listed():
    for pid in NEW:
        assert len([p for p, _ in WRONG if p == pid]) >= 2, pid
    assert set(NEW) <= set(marks())


@pytest.mark.parametrize("pid", NEW)
def test_new_problem_correct_hand_in_passes_end_to_end(pid):
    path = sorted((SUBMISSIONS / pid).glob("correct_*.py"))[0]
    code, doc = judge_json("run", pid, "--file", str(path))
    assert code == 0 and doc["status"] == "passed" and doc["score"] == doc["max_score"] == 4, doc["message"]


@pytest.mark.parametrize("pid,path", WRONG, ids=lambda x: getattr(x, "stem", x))
def test_new_problem_wrong_hand_in_fails_with_its_mistake_named(pid, path):
    name = path.stem.removeprefix("wrong_")
    problems = context().problems
    sentence = problems.pitfall_messages(problems.load(pid))[name]
    code, doc = judge_json("run", pid, "--file", str(path))
    assert code == 1 and doc["status"] == "wrong_answer" and doc["score"] < doc["max_score"]
    assert doc["diagnosis"] == sentence


def test_a_query_that_sees_no_key_must_be_zero_not_nan():
    problems = context().problems
    p = problems.load("cross_attention_all_masked")
    for case in p.cases:
        x = make_inputs(p.meta, case)
        out = problems.expected_output(p, case, x)
        padded = x["decoder_ids"] == case.values.get("pad_id", 0)  # (N, T_dec): queries that see no key
        per_query = out.transpose(0, 2, 1, 3)  # (N, T_dec, H, d_head)
        assert padded.any() and np.isfinite(out).all()
        assert (per_query[padded] == 0).all() and (per_query[~padded] != 0).any(axis=(-2, -1)).all()


def test_gate_left_out_returns_the_decoder_input():
    problems = context().problems
    p = problems.load("gated_cross_attention")
    case = next(c for c in p.cases if "gate" not in c.values)
    x = make_inputs(p.meta, case)
    assert "gate" not in x
    out = problems.expected_output(p, case, x)
    assert out.shape == x["decoder_x"].shape and (out == x["decoder_x"]).all()


def test_relative_bias_cases_clip_on_both_sides():
    p = BUILT_IN.load("cross_attention_relative_bias")
    clipped = []
    for case in p.cases:
        max_distance = (case.dims["R"] - 1) // 2
        clipped.append((case.dims["T_enc"] - 1 > max_distance, case.dims["T_dec"] - 1 > max_distance))
    assert any(a for a, _ in clipped) and any(b for _, b in clipped) and not all(a or b for a, b in clipped)
    assert len({c.values["num_heads"] for c in p.cases}) >= 3


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_watch_stopped_by_an_ide_or_a_closed_terminal_says_so_and_leaves_nothing(data, tmp_path, stop):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    proc = watching(tmp_path / f"{MASK}.py", TMPDIR=str(scratch))
    try:
        lines = _lines(proc)
        _read_until(lines, "watching")
        proc.send_signal(stop)
        _read_until(lines, "stopped watching", timeout=60)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, proc.stderr.read()
    assert list(scratch.iterdir()) == []  # the sandbox's folders went with it
