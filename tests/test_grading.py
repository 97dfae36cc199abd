"""Every problem, both ways: correct files written differently pass, every known mistake fails."""

import io

import numpy as np
import pytest
from conftest import ROOT, SUBMISSIONS, context, pitfall_submission

from grader import grade
from grader.model.cache import Cache
from grader.model.storage import seal
from grader.model.verdict import Status
from grader.sets.inputs import make_inputs
from grader.sets.store import SourceSet

CORRECT = sorted(SUBMISSIONS.glob("*/correct_*.py"))
BUILT_IN = context().problems  # for parametrizing, at collection: the environment's cache, as the judge's own
IDS = BUILT_IN.ids()
PITFALLS = [(pid, name) for pid in IDS for name in BUILT_IN.pitfall_messages(BUILT_IN.load(pid))]


def sentences(pid: str) -> dict[str, str]:
    """A problem's known mistakes and their sentences, from the built-in set in the session's cache."""
    problems = context().problems
    return problems.pitfall_messages(problems.load(pid))


def test_every_problem_has_two_correct_variants_and_pitfalls():
    for pid in IDS:
        assert len([p for p in CORRECT if p.parent.name == pid]) >= 2, pid
        assert len([n for p, n in PITFALLS if p == pid]) >= 2, pid


@pytest.mark.parametrize("pid", IDS)
def test_reference_passes_its_own_cases(pid):
    result = grade(pid, BUILT_IN.reference_path(pid))
    assert result.status is Status.PASSED, result.message
    assert result.score == result.max_score == len(BUILT_IN.load(pid).cases)


@pytest.mark.parametrize("path", CORRECT, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_correct_variant_passes(path):
    result = grade(path.parent.name, path)
    assert result.status is Status.PASSED, result.message
    assert not any(s in result.message for s in sentences(path.parent.name).values())
    assert all(c.max_abs_err is not None for c in result.cases)


@pytest.mark.parametrize("pid,name", PITFALLS, ids=lambda x: str(x))
def test_pitfall_fails_and_is_named(pid, name, tmp_path):
    result = grade(pid, pitfall_submission(pid, name, tmp_path))
    assert result.status is Status.WRONG_ANSWER, result.message
    sentence = sentences(pid)[name]
    assert result.diagnosis == sentence and result.message.endswith(sentence)
    assert not result.passed and result.score < result.max_score
    failed = [c for c in result.cases if c.status is Status.WRONG_ANSWER]
    assert failed and all(c.message for c in failed)


@pytest.mark.parametrize("pid", IDS)
def test_stub_is_graded_as_an_error_naming_not_implemented(pid):
    result = grade(pid, BUILT_IN.load(pid).stub_path)
    assert result.status is Status.ERROR
    assert all("NotImplementedError" in c.message for c in result.cases)
    assert "raise NotImplementedError" in result.cases[0].traceback


def test_uncast_floats_fail_with_the_learners_own_traceback(tmp_path):
    path = tmp_path / "mha_self_attention.py"
    path.write_text(
        "import flax.linen as nn\nimport jax\n\n\n"
        "def mha_self_attention(seed, x, num_heads, qkv_features):\n"
        "    attn = nn.MultiHeadDotProductAttention(num_heads=num_heads, qkv_features=qkv_features)\n"
        "    params = attn.init(jax.random.PRNGKey(seed), x)\n"
        "    return attn.apply(params, x).reshape(-1)\n"
    )
    result = grade("mha_self_attention", path)
    assert result.status is Status.ERROR
    tb = result.cases[0].traceback
    assert 'File "mha_self_attention.py", line 7, in mha_self_attention' in tb
    assert "site-packages/jax" not in tb.replace("(raised inside", "")  # no judge or library frames
    assert "grader" not in tb and "<string>" not in tb


def test_replay_records_seeds_versions_and_sandbox():
    pid = "cross_attention_mask"
    result = grade(pid, BUILT_IN.reference_path(pid))
    r = result.replay
    assert r.problem == pid and r.problem_version == 1
    assert r.seeds == [c.seed for c in BUILT_IN.load(pid).cases]
    assert {"python", "numpy", "jax", "flax"} <= set(r.versions) and r.sandbox in ("bwrap", "process")


def test_expected_outputs_are_cached_and_keyed_by_content(tmp_path):
    cache = Cache.under(tmp_path)
    problems = SourceSet(ROOT, cache)
    p = problems.load("cross_attention_mask")
    case = p.cases[0]
    x = make_inputs(p.meta, case)
    first = problems.expected_output(p, case, x)
    files = list(tmp_path.rglob("*.npy"))
    assert len(files) == 1
    other = case.model_copy(update={"values": {**case.values, "decoder_len": 2}})
    problems.expected_output(p, other, make_inputs(p.meta, other))
    assert len(list(tmp_path.rglob("*.npy"))) == 2  # a changed case is a new key

    buf = io.BytesIO()
    np.save(buf, np.full(first.shape, 7.0))
    files[0].write_bytes(seal(buf.getvalue(), cache.key_file))  # sealed with the judge's key: read back
    assert (problems.expected_output(p, case, x) == 7.0).all()
    np.save(files[0], np.full(first.shape, 7.0))  # not sealed (a learner's write): recomputed, never trusted
    assert (problems.expected_output(p, case, x) == first).all()


def test_unknown_mistakes_are_located(tmp_path):
    path = tmp_path / "block.py"
    path.write_text(
        (SUBMISSIONS / "cross_attention_block" / "correct_numpy_loops.py").read_text()
        + "\n_ok = cross_attention_block\n\n\ndef cross_attention_block(*args):\n"
        "    out = _ok(*args)\n    out[-1] += 1.0\n    return out\n"
    )
    result = grade("cross_attention_block", path)
    assert result.status is Status.WRONG_ANSWER
    assert "wrong values all lie at index" in result.message and "of axis 0" in result.message
