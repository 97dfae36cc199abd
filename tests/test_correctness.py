"""Grading correctness: the output's shape is part of the contract, hidden cases catch every known mistake,
Gradescope grades the file it should, and no learner folder name collides with the batch's outputs."""

import json
import re

import pytest
from conftest import SUBMISSIONS, context, judge, pitfall_submission

from grader import grade
from grader.authoring.check import check_problem, hidden_coverage, tolerance_margin
from grader.model.errors import ProblemError
from grader.model.verdict import Status
from grader.sets.hidden import draw_hidden, hidden_cases
from grader.sets.inputs import make_inputs
from grader.sets.mistakes import undetected_mistakes

BUILT_IN = context().problems  # ids and loading only: expected outputs need the session's cache (context())
IDS = BUILT_IN.ids()

# The Flax docstring's example, returned as the module gives it: shape (T_q, D_in), not flattened.
UNFLATTENED = """
import flax.linen as nn
import jax


def mha_cross(seed, x_q, x_kv, num_heads, qkv_features):
    layer = nn.MultiHeadDotProductAttention(num_heads=int(num_heads), qkv_features=int(qkv_features))
    variables = layer.init(jax.random.PRNGKey(int(seed)), x_q, x_kv)
    return layer.apply(variables, x_q, x_kv)
"""


def test_an_unflattened_output_fails_and_says_how_to_fix_it(tmp_path):
    path = tmp_path / "mha_cross.py"
    path.write_text(UNFLATTENED)
    result = grade("mha_cross", path)
    assert result.status is Status.WRONG_ANSWER and result.score == 0
    case = result.cases[0]
    t_q, d_in = BUILT_IN.load("mha_cross").cases[0].dims["T_q"], BUILT_IN.load("mha_cross").cases[0].dims["D_in"]
    assert case.message == (
        f"expected a 1-D array of {t_q * d_in} values; you returned shape ({t_q}, {d_in}) "
        "(the values themselves are right): add .reshape(-1)"
    )


@pytest.mark.parametrize("pid", IDS)
def test_every_problem_pins_its_output_shape_in_spec_and_judge(pid):
    problem = BUILT_IN.load(pid)
    assert problem.meta.exact_shape
    returns = [line for line in problem.spec_path.read_text().splitlines() if line.startswith("**Returns**")]
    assert returns and re.search(r"shape|1-D", returns[0]), f"{pid}: the spec's **Returns** line must give the shape"


# ---------------------------------------------------------------- hidden cases


@pytest.mark.parametrize("pid", IDS)
def test_every_hidden_case_catches_every_known_mistake(pid):
    problems = context().problems
    problem = problems.load(pid)
    for secret in ("s3cret",):  # judge check --secrets in test_check draws others
        cases = hidden_cases(problem, problems, secret)
        assert len(cases) == 3 and all(c.hidden for c in cases)
        for case in cases:
            assert undetected_mistakes(problem, problems, case) == [], (pid, secret, case)


def test_hidden_cases_are_deterministic_given_the_secret():
    problems = context().problems
    problem = problems.load("cross_attention_decode")
    first = draw_hidden(problem, problems, "s3cret", 3)
    assert first == draw_hidden(problem, problems, "s3cret", 3)
    assert first != draw_hidden(problem, problems, "other", 3)


def test_a_layer_norm_eps_mistake_earns_no_hidden_credit(tmp_path):
    """It passed 120 of 120 hidden cases when the space shrank only the decoder input."""
    path = pitfall_submission("cross_attention_block", "eps_1e-6", tmp_path)
    result = grade("cross_attention_block", path, hidden_seed="s3cret")
    hidden = [c for c in result.cases if c.hidden]
    assert len(hidden) == 3 and all(c.status is Status.WRONG_ANSWER for c in hidden)
    assert "eps=1e-6" in result.diagnosis


def test_a_space_where_a_mistake_cannot_be_caught_is_refused(scratch_set):
    ctx, folder = scratch_set
    meta = json.loads((folder / "problem.json").read_text())
    meta["space"]["values"]["pad_id"] = [0]  # ignoring pad_id then gives the reference's output
    (folder / "problem.json").write_text(json.dumps(meta))
    problem = ctx.problems.load("cross_attention_mask")
    with pytest.raises(ProblemError, match="pad_id_ignored"):
        draw_hidden(problem, ctx.problems, "s3cret", 3)
    checks = {name: (ok, detail) for name, ok, detail in hidden_coverage(problem, ctx.problems, secrets=2)}
    assert checks["hidden cases tell every known mistake apart"][0] is False


def test_check_reports_hidden_coverage_per_mistake():
    problems = context().problems
    problem = problems.load("cross_attention_mask")
    report = hidden_coverage(problem, problems, secrets=4)
    named = [*problems.pitfall_messages(problem), "inverted+pad_id_ignored"]  # and the combination it names
    assert {name for name, _, _ in report} == {f"hidden cases catch {n}" for n in named}
    assert all(ok and detail.startswith("12/12 hidden cases of 4 secrets") for _, ok, detail in report)


def test_check_measures_the_tolerance_margin():
    ctx = context()
    problems = ctx.problems
    problem = problems.load("cross_attention_decode")
    inputs = [make_inputs(problem.meta, c) for c in problem.cases]
    expected = [problems.expected_output(problem, c, x) for c, x in zip(problem.cases, inputs)]
    name, ok, detail = tolerance_margin(ctx, problem, inputs, expected)
    assert ok, detail
    used, closest, margin = re.search(
        r"use up to ([\d.e+-]+) of it; the closest mistake \((\w+)\) misses it "
        r"([\d.e+-]+)x; margin",
        detail,
    ).groups()
    assert 0 < float(used) < 0.2 and float(margin) > 10 and closest in problems.pitfall_messages(problem)


def test_a_tolerance_wide_enough_to_pass_a_mistake_fails_check(scratch_set):
    ctx, folder = scratch_set
    meta = json.loads((folder / "problem.json").read_text())
    meta["tolerance"] = {"rtol": 0, "atol": 2.0}  # a 0/1 mask: every mistake is within 2
    (folder / "problem.json").write_text(json.dumps(meta))
    checks = {name: ok for name, ok, _ in check_problem(ctx, "cross_attention_mask", secrets=0)}
    assert checks["tolerance separates correct float forms from known mistakes"] is False


# ---------------------------------------------------------------- gradescope and batch


def test_gradescope_grades_the_shallowest_file_names_it_and_warns(tmp_path):
    sub = tmp_path / "submission"
    (sub / "old" / "deeper").mkdir(parents=True)
    (sub / "cross_attention_mask.py").write_text((SUBMISSIONS / "cross_attention_mask" / "correct_jax.py").read_text())
    (sub / "old" / "deeper" / "cross_attention_mask.py").write_text(
        "def cross_attention_mask(*a, **k):\n    return 0\n"
    )
    results = tmp_path / "results.json"
    proc = judge(
        "gradescope", "--submission-dir", str(sub), "--results", str(results), "--problems", "cross_attention_mask"
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(results.read_text())
    assert doc["tests"][0]["status"] == "passed"
    assert "cross_attention_mask: graded cross_attention_mask.py" in doc["output"]
    assert "not graded: old/deeper/cross_attention_mask.py" in doc["output"]
    assert "warning: cross_attention_mask: graded cross_attention_mask.py; not graded" in proc.stderr


def test_gradescope_refuses_an_unknown_problem_before_grading(tmp_path):
    results = tmp_path / "results.json"
    proc = judge(
        "gradescope",
        "--submission-dir",
        str(tmp_path),
        "--results",
        str(results),
        "--problems",
        "cross_attention_mask,mha_cros",
    )
    assert proc.returncode == 2 and "unknown problem 'mha_cros'" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and not results.exists()


def test_a_learner_folder_named_like_an_output_is_refused_in_one_line(tmp_path):
    cls = tmp_path / "class"
    (cls / "report.html").mkdir(parents=True)
    (cls / "alice").mkdir()
    proc = judge("batch", str(cls), "--out", str(tmp_path / "out"), "--problems", "cross_attention_mask")
    assert proc.returncode == 2 and "learner folder 'report.html'" in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_hidden_learner_folders_are_named_not_dropped_silently(tmp_path):
    cls = tmp_path / "class"
    (cls / ".results").mkdir(parents=True)
    (cls / ".results" / "cross_attention_mask.py").write_text("x = 1\n")
    (cls / "alice").mkdir()
    (cls / "alice" / "cross_attention_mask.py").write_text(
        (SUBMISSIONS / "cross_attention_mask" / "correct_jax.py").read_text()
    )
    out = tmp_path / "out"
    proc = judge("batch", str(cls), "--out", str(out), "--problems", "cross_attention_mask")
    assert proc.returncode == 0, proc.stderr
    assert "not grading hidden folders: .results" in proc.stderr
    assert (out / "alice" / "results.json").is_file() and not (out / ".results" / "results.json").exists()
