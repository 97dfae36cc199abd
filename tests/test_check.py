"""`judge check` over every problem, and on problems broken on purpose."""

import json

import pytest
from conftest import judge

from grader.sets import store as problem_set
from grader.sets import problems
from grader.authoring.check import check_problem
from grader.model.errors import UsageError


def test_every_problem_passes_judge_check():
    proc = judge("check", "--secrets", "2", timeout=900)
    assert proc.returncode == 0, proc.stdout
    assert f"{len(problems.problem_ids())} problems checked, 0 checks failed" in proc.stdout
    assert proc.stdout.count("pitfall") >= 25
    assert proc.stdout.count("hidden cases catch") >= 25 and "FAIL" not in proc.stdout
    assert proc.stdout.count("correct float forms") == len(problems.problem_ids())


def test_check_fails_when_no_case_catches_a_pitfall(scratch_problem):
    cases_path = scratch_problem / "cases.json"
    cases = json.loads(cases_path.read_text())
    cases["cases"] = [c for c in cases["cases"] if c["values"].get("pad_id", 0) == 0]  # pad_id never varies
    cases_path.write_text(json.dumps(cases))
    checks = {name: ok for name, ok, _ in check_problem("cross_attention_mask")}
    assert checks["pitfall pad_id_ignored fails a case"] is False
    assert checks["pitfall causal fails a case"] is True and checks["reference passes every case"] is True


def test_check_reports_a_broken_stub(scratch_problem):
    (scratch_problem / "cross_attention_mask.py").write_text(
        "def cross_attention_mask(encoder_ids, decoder_len):\n    return 0\n"
    )
    checks = {name: ok for name, ok, _ in check_problem("cross_attention_mask")}
    assert checks["stub has the declared signature"] is False and checks["stub raises NotImplementedError"] is False


def test_new_scaffolds_a_problem_that_passes_check(tmp_path, monkeypatch):
    from grader.authoring.scaffold import new_problem

    (tmp_path / "problems").mkdir()
    (tmp_path / "reference" / "pitfalls").mkdir(parents=True)
    monkeypatch.setattr(problem_set, "PROBLEMS_DIR", tmp_path / "problems")
    monkeypatch.setattr(problem_set, "REFERENCE_DIR", tmp_path / "reference")
    problems.load_problem.cache_clear()
    try:
        written = new_problem("double_it")
        assert len(written) == 7
        checks = check_problem("double_it")
        assert all(ok for _, ok, _ in checks), [c for c in checks if not c[1]]
        with pytest.raises(UsageError, match="already exists"):
            new_problem("double_it")
        with pytest.raises(UsageError, match="bad problem id"):
            new_problem("Bad-Id")
    finally:
        problems.load_problem.cache_clear()
