"""`judge check` over every problem, and on problems broken on purpose."""

import json
import os
import subprocess
import sys

import pytest
from conftest import ROOT, context, in_own_words, judge

from grader.authoring.check import check_problem
from grader.authoring.scaffold import new_problem
from grader.model.errors import UsageError
from grader.sets import answers

IDS = context().problems.ids()


def test_every_problem_passes_judge_check():
    proc = judge("check", "--secrets", "2", timeout=900)
    assert proc.returncode == 0, proc.stdout
    assert f"{len(IDS)} problems checked, 0 checks failed" in proc.stdout
    assert proc.stdout.count("pitfall") >= 25
    assert proc.stdout.count("hidden cases catch") >= 25 and "FAIL" not in proc.stdout
    assert proc.stdout.count("correct float forms") == len(IDS)


def test_check_fails_when_no_case_catches_a_pitfall(scratch_set):
    ctx, folder = scratch_set
    cases_path = folder / "cases.json"
    cases = json.loads(cases_path.read_text())
    cases["cases"] = [c for c in cases["cases"] if c["values"].get("pad_id", 0) == 0]  # pad_id never varies
    cases_path.write_text(json.dumps(cases))
    checks = {name: ok for name, ok, _ in check_problem(ctx, "cross_attention_mask")}
    assert checks["pitfall pad_id_ignored fails a case"] is False
    assert checks["pitfall causal fails a case"] is True and checks["reference passes every case"] is True
    # with pad_id 0 only, the inverted mask that ignores pad_id is the inverted mask: never named together
    assert checks["combination inverted+pad_id_ignored fails a case and can be named"] is False


def test_a_problems_whole_check_bounds_jax_memory_not_only_its_survey(scratch_set, monkeypatch):
    # A worker checks problems one after another: unbounded outside the survey, the next problem began with the
    # last survey's 900 MB and added to it (1.27 GB in the whole set's check at 200 secrets).
    ctx, folder = scratch_set
    reference = folder.parent.parent / "reference" / "cross_attention_mask.py"
    reference.write_text(reference.read_text() + "\n# this copy's outputs are computed, none is cached\n")
    asked: list[int] = []
    monkeypatch.setattr(answers, "release_programs", lambda over_mb: asked.append(over_mb) or False)
    checks = {name: ok for name, ok, _ in check_problem(ctx, "cross_attention_mask", secrets=0)}
    assert checks["reference passes every case"] and checks["pitfall causal fails a case"]
    assert asked and set(asked) == {answers.PROGRAMS_MB}, asked  # before every output computed, survey or not


def test_check_reports_the_combinations_it_can_name_and_their_hidden_coverage(scratch_set):
    ctx, _folder = scratch_set
    checks = {name: (ok, detail) for name, ok, detail in check_problem(ctx, "cross_attention_mask", secrets=2)}
    ok, detail = checks["combination inverted+pad_id_ignored fails a case and can be named"]
    assert ok and detail.startswith("caught by: ")
    ok, detail = checks["hidden cases catch inverted+pad_id_ignored"]
    assert ok and detail.startswith("6/6 hidden cases of 2 secrets")


def test_check_reports_a_broken_stub(scratch_set):
    ctx, folder = scratch_set
    (folder / "cross_attention_mask.py").write_text(
        "def cross_attention_mask(encoder_ids, decoder_len):\n    return 0\n"
    )
    checks = {name: ok for name, ok, _ in check_problem(ctx, "cross_attention_mask")}
    assert checks["stub has the declared signature"] is False and checks["stub raises NotImplementedError"] is False


def test_a_known_mistake_that_raises_is_broken_never_caught(scratch_set):
    """A mistake whose code raises has no output, so no case can pass it: counting that as caught would let a
    typo in a pitfalls file hide that nothing checks the mistake."""
    ctx, folder = scratch_set
    pitfalls = folder.parent.parent / "reference" / "pitfalls" / "cross_attention_mask.py"
    source = pitfalls.read_text()
    broken = source.replace(
        "lambda *a, **k: _mask(*a, **k, causal=True)",
        "lambda encoder_ids, decoder_len, pad_id=0: _mask(encoder_ids, decoder_len, pad_id, causal=True)"
        " if pad_id == 0 else {}['typo']",  # raises KeyError on the public case whose pad_id is not 0
    )
    assert broken != source
    pitfalls.write_text(broken)
    checks = {name: (ok, detail) for name, ok, detail in check_problem(ctx, "cross_attention_mask", secrets=2)}
    ok, detail = checks["pitfall causal runs on every public case"]
    assert ok is False and "'causal'" in detail and "KeyError" in detail
    assert "pitfall causal fails a case" not in checks  # broken, not caught
    assert "hidden cases catch causal" not in checks and checks["known mistakes run on every hidden case"][0] is False
    others = ["inverted", "pad_id_ignored", "missing_head_axis", "not_expanded"]
    assert all(checks[f"pitfall {name} fails a case"][0] is True for name in others)
    assert all(f"pitfall {name} runs on every public case" not in checks for name in others)
    assert checks["reference passes every case"][0] is True

    proc = judge("--problems-dir", str(folder.parent.parent), "check", "cross_attention_mask", "--secrets", "0")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "FAIL pitfall causal runs on every public case" in proc.stdout
    assert "pitfall causal fails a case" not in proc.stdout and "1 problem checked, 1 checks failed" in proc.stdout


def test_new_scaffolds_a_problem_that_passes_check(tmp_path):
    (tmp_path / "problems").mkdir()
    (tmp_path / "reference" / "pitfalls").mkdir(parents=True)
    with context(tmp_path) as ctx:
        written = new_problem(ctx.problems, "double_it")
        assert len(written) == 7
        checks = list(check_problem(ctx, "double_it"))
        failed = [name for name, ok, _ in checks if not ok]
        assert failed == ["no text of the scaffold left"], failed  # its stand-in texts are not a problem's
        in_own_words(tmp_path, "double_it")
        checks = list(check_problem(ctx, "double_it"))
        assert all(ok for _, ok, _ in checks), [c for c in checks if not c[1]]
        with pytest.raises(UsageError, match="already exists"):
            new_problem(ctx.problems, "double_it")
        with pytest.raises(UsageError, match="bad problem id"):
            new_problem(ctx.problems, "Bad-Id")


def test_a_course_set_copies_a_built_in_problem_in_when_told_how(tmp_path):
    """A course set's `--problems softmax_rows,mha_cross` once failed on the built-in one with nothing said."""
    course = tmp_path / "course"
    assert judge("--problems-dir", str(course), "new", "double_it").returncode == 0
    proc = judge("--problems-dir", str(course), "run", "mha_cross")
    assert proc.returncode == 2 and "'mha_cross' is a built-in problem" in proc.stderr, proc.stderr
    assert f"judge --problems-dir {course} new mha_cross --from-builtin" in proc.stderr
    proc = judge("--problems-dir", str(course), "new", "mha_cross", "--from-builtin")
    assert proc.returncode == 0, proc.stderr
    assert (course / "reference" / "mha_cross.py").read_text() == (ROOT / "reference" / "mha_cross.py").read_text()
    assert (course / "problems" / "mha_cross" / "spec.md").is_file()
    assert (course / "reference" / "pitfalls" / "mha_cross.py").is_file()
    proc = judge("--problems-dir", str(course), "check", "mha_cross", "--secrets", "0")
    assert proc.returncode == 0 and "1 problem checked, 0 checks failed" in proc.stdout, proc.stdout
    again = judge("--problems-dir", str(course), "new", "mha_cross", "--from-builtin")
    assert again.returncode == 2 and "already exists" in again.stderr
    assert judge("new", "mha_cross", "--from-builtin").returncode == 2  # into the built-in set itself: no


def test_a_check_process_killed_side_by_side_fails_its_problem_in_a_sentence(tmp_path):
    (tmp_path / "problems").mkdir()
    (tmp_path / "reference" / "pitfalls").mkdir(parents=True)
    with context(tmp_path) as ctx:
        for pid in ("double_it", "triple_it"):
            new_problem(ctx.problems, pid)
            in_own_words(tmp_path, pid)
    reference = tmp_path / "reference" / "triple_it.py"  # its process dies as the judge loads it (as by the OOM killer)
    reference.write_text("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n" + reference.read_text())
    proc = judge("--problems-dir", str(tmp_path), "check", "--secrets", "0", "--workers", "2", timeout=600)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    out = " ".join(proc.stdout.split())  # as read, whatever the terminal's width
    assert "triple_it FAIL the check ran to its end the process checking problems side by side was killed" in out
    assert "(try --workers 1)" in out and "Traceback" not in proc.stdout + proc.stderr and "2 problems checked" in out


FORMS = """
import hashlib, sys
from grader.authoring.check import correct_forms
from grader.context import Context
from grader.sets.inputs import make_inputs
ctx = Context.from_environment()
problem = ctx.problems.load("mha_self")
if sys.argv[1] == "computed":  # as a check from an empty cache: the reference ran here before the margin
    for case in problem.cases:
        ctx.problems.expected_output(problem, case, make_inputs(problem.meta, case))
digest = hashlib.sha256()
for case in problem.cases:
    for form in correct_forms(ctx, problem, make_inputs(problem.meta, case)):
        digest.update(form.tobytes())
print(digest.hexdigest())
"""


def test_the_tolerance_margin_is_the_same_whether_the_expected_outputs_were_computed_or_read(tmp_path):
    """The correct float forms run under the judge's XLA flags even when nothing ran the reference before in the
    process (a check that reads the expected outputs from the cache). JAX started without them rounded Flax's
    float32 initializers otherwise, and `judge check`'s report differed between a first and a second run."""
    digests = []
    for how in ("computed", "read"):
        env = {**os.environ, "JUDGE_CACHE_DIR": str(tmp_path / how)}
        env.pop("XLA_FLAGS", None)  # the judge's own, as from a shell that sets none
        proc = subprocess.run([sys.executable, "-c", FORMS, how], capture_output=True, text=True, env=env, timeout=300)
        assert proc.returncode == 0, proc.stderr[-3000:]
        digests.append(proc.stdout.strip())
    assert digests[0] == digests[1]
