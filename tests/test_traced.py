"""A learner's call compiled whole with jax.jit (grader.traced) gives what the eager call gives, or is not used."""

import functools
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from grader.child import runner
from grader.child import traced
from conftest import HOSTILE, context, strong_level

from grader import grade
from grader.model.verdict import Status

X = np.arange(12, dtype=np.float32).reshape(3, 4) / 10


def attempt(fn, **kwargs):
    return traced.traced_call(jax, runner.call, fn, list(kwargs), kwargs)


def test_a_jnp_function_is_compiled_whole_and_gives_the_eager_value():
    def fn(x, n):
        return jax.nn.softmax(x * n, axis=-1)

    used, out, spoiled = attempt(fn, x=X, n=2)
    assert used and not spoiled and isinstance(out, jax.Array)
    np.testing.assert_allclose(np.asarray(out), np.asarray(fn(X, 2)), rtol=1e-6)


def test_numpy_code_is_left_to_the_eager_call_and_its_module_imported_again():
    used, out, spoiled = attempt(lambda x: np.exp(x), x=X)
    assert (used, out, spoiled) == (False, None, True)


def test_every_call_is_traced_afresh_so_side_effects_happen_once_per_case():
    calls = []

    def fn(x):
        calls.append(1)
        return x * len(calls)

    outs = [attempt(fn, x=X)[1] for _ in range(2)]  # the same shapes twice: a cached trace would skip the Python
    assert len(calls) == 2 and np.allclose(np.asarray(outs[1]), 2 * X)


@pytest.mark.parametrize(
    "say",
    [
        lambda x: print("max", x.max()),
        lambda x: os.write(1, b"raw\n"),
        lambda x: jax.debug.print("max {m}", m=x.max()),
    ],
    ids=["print", "descriptor", "jax.debug.print"],
)
def test_output_while_traced_stops_the_attempt_and_reaches_no_one(say, capfd):
    def fn(x):
        say(x)
        return x + 1

    used, _, spoiled = attempt(fn, x=X)
    assert not used and spoiled
    assert capfd.readouterr() == ("", "")  # the eager call prints the values instead


@pytest.mark.parametrize(
    "returned",
    [lambda x: (x, x), lambda x: {"out": x}, lambda x: None, lambda x: 0.5, lambda x: np.zeros(3)],
    ids=["tuple", "dict", "None", "float", "numpy constant"],
)
def test_anything_but_one_traced_array_is_left_to_the_eager_call(returned):
    assert attempt(returned, x=X)[0] is False


def test_a_tracer_kept_by_the_learners_module_spoils_it():
    @functools.lru_cache
    def ones(n):
        return jnp.ones((n,))

    used, _, spoiled = attempt(lambda x: x * ones(x.shape[-1]), x=X)
    assert not used and spoiled


def test_a_program_too_long_to_compile_quickly_runs_eagerly(monkeypatch):
    def loops(x):
        for _ in range(20):
            x = x * 1.01
        return x

    assert attempt(loops, x=X)[0]
    monkeypatch.setattr(traced, "MAX_TRACED_OPS", 10)
    assert attempt(loops, x=X)[0] is False


# ---------------------------------------------------------------- in the sandbox

SDPA = "scaled_dot_product_attention"
HEAD = "import functools\n\nimport jax\nimport jax.numpy as jnp\nimport numpy as np\n\n"
CORRECT = """
    scores = jnp.einsum("hqd,hkd->hqk", q, k) / jnp.sqrt(q.shape[-1])
    out = jnp.einsum("hqk,hkd->hqd", jax.nn.softmax(scores, axis=-1), v)
"""


def learner(tmp_path, body: str, before: str = "") -> str:
    path = tmp_path / f"{SDPA}.py"
    path.write_text(f"{HEAD}{before}\n\ndef {SDPA}(q, k, v):{body}")
    return str(path)


@pytest.mark.parametrize(
    "say",
    ['print("max", scores.max())', 'jax.debug.print("max {}", scores.max())', 'print("max", scores.max(), file=kept)'],
    ids=["print", "jax.debug.print", "a stream kept at import"],
)
def test_a_learner_debugging_with_print_sees_values_once_per_case(tmp_path, say):
    result = grade(SDPA, learner(tmp_path, f"{CORRECT}    {say}\n    return out\n", "import sys\nkept = sys.stdout"))
    assert result.status is Status.PASSED
    lines = result.stdout.splitlines()
    assert len(lines) == len(result.cases) and all(float(line.split()[1]) > 0 for line in lines), result.stdout


def test_a_cache_filled_by_an_attempt_that_failed_is_not_seen_by_the_eager_call(tmp_path):
    cache = "@functools.lru_cache\ndef inv_sqrt(d):\n    return 1 / jnp.sqrt(jnp.float32(d))\n"
    body = """
    scale = inv_sqrt(q.shape[-1])  # a tracer while traced, until NumPy refuses one
    s = np.einsum("hqd,hkd->hqk", q, k) * scale
    w = np.exp(s - s.max(-1, keepdims=True))
    return np.einsum("hqk,hkd->hqd", w / w.sum(-1, keepdims=True), v)
"""
    result = grade(SDPA, learner(tmp_path, body, cache))
    assert result.status is Status.PASSED, result.message  # without a second import: UnexpectedTracerError


def test_a_learner_counting_calls_gets_the_verdicts_of_eager_calls(tmp_path, monkeypatch):
    path = learner(
        tmp_path, CORRECT + "    calls.append(1)\n    return out if len(calls) % 2 else out + 1\n", "calls = []"
    )
    compiled = [c.status for c in grade(SDPA, path).cases]
    monkeypatch.setenv("JUDGE_EAGER", "1")
    assert compiled == [c.status for c in grade(SDPA, path).cases] == [Status.PASSED, Status.WRONG_ANSWER] * 2


def test_judge_eager_turns_compiling_off(tmp_path, monkeypatch):
    """A learner can tell a trace from a value after the first call (the one checked against an eager call);
    nothing else should differ."""
    body = CORRECT + "    seen.append(1)\n    return out + (isinstance(q, jax.core.Tracer) and len(seen) > 1)\n"
    path = learner(tmp_path, body, "seen = []")
    assert [c.status for c in grade(SDPA, path).cases][:2] == [Status.PASSED, Status.WRONG_ANSWER]
    monkeypatch.setenv("JUDGE_EAGER", "1")
    assert grade(SDPA, path).status is Status.PASSED


@pytest.mark.parametrize("level", ["bwrap", "process"])
def test_code_right_only_when_traced_is_graded_as_it_runs_eagerly(tmp_path, level):
    """Returning the right output for a tracer and zeros for arrays once passed 4/4: the first compiled output is
    checked against an eager call, and where they differ every case is graded eagerly."""
    path = tmp_path / "mha_cross.py"
    path.write_text((HOSTILE / "right_only_traced.py").read_text())
    with context(sandbox=strong_level() if level == "bwrap" else "process") as ctx:
        result = grade("mha_cross", path, context=ctx)
        assert result.status is Status.WRONG_ANSWER and result.score == 0, result.message
        assert result.mistake is not None and result.mistake.kind.value == "zeros"
        correct = tmp_path / "right" / "mha_cross.py"
        correct.parent.mkdir()
        correct.write_text((HOSTILE / "right_only_traced.py").read_text().replace("jnp.zeros_like(out)", "out"))
        assert grade("mha_cross", correct, context=ctx).status is Status.PASSED
