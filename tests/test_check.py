"""`judge check` over every problem, and on problems broken on purpose."""

import json

from conftest import judge

from grader import problems
from grader.check import check_problem


def test_every_problem_passes_judge_check():
    proc = judge("check", timeout=900)
    assert proc.returncode == 0, proc.stdout
    assert f"{len(problems.problem_ids())} problems checked, 0 checks failed" in proc.stdout
    assert proc.stdout.count("pitfall") >= 25


def test_check_fails_when_no_case_catches_a_pitfall(scratch_problem):
    cases_path = scratch_problem / "cases.json"
    cases = json.loads(cases_path.read_text())
    cases["cases"] = [c for c in cases["cases"] if c["values"].get("pad_id", 0) == 0]  # pad_id never varies
    cases_path.write_text(json.dumps(cases))
    checks = {name: ok for name, ok, _ in check_problem("cross_attention_mask")}
    assert checks["pitfall pad_id_ignored fails a case"] is False
    assert checks["pitfall causal fails a case"] is True and checks["reference passes every case"] is True


def test_check_reports_a_broken_stub(scratch_problem):
    (scratch_problem / "cross_attention_mask.py").write_text("def cross_attention_mask(encoder_ids, decoder_len):\n    return 0\n")
    checks = {name: ok for name, ok, _ in check_problem("cross_attention_mask")}
    assert checks["stub has the declared signature"] is False and checks["stub raises NotImplementedError"] is False
