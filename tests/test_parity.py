"""One grading pipeline: `check_function` in a notebook and `judge run` on a file give the same status, score and
sentences for the same code (the file's and the namespace's names aside).

check_function calls the function here, in this process; judge run imports the file in the sandbox. Both runners
report facts through the learner's side of the child (grader/child/runner.py) and one case loop words them.
"""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest
from conftest import ROOT, context, pitfall_submission, strong_level

from grader import api
from grader.model.problem import Limits
from grader.model.verdict import Result

MHA = "mha_cross"
CORRECT = ROOT / "tests" / "submissions" / MHA / "correct_keywords.py"
HEAD = "import jax\nimport numpy as np\nfrom flax import linen as nn\n\n\n"
BODY = (
    "    attn = nn.MultiHeadDotProductAttention(num_heads=num_heads, qkv_features=qkv_features)\n"
    "    params = attn.init(jax.random.PRNGKey(seed), x_q, x_kv)\n"
)
SOURCES = {
    "none": HEAD + "def mha_cross(seed, x_q, x_kv, num_heads, qkv_features):\n" + BODY,
    "misnamed": HEAD
    + "def mha_cros(seed, x_q, x_kv, num_heads, qkv_features):\n"
    + BODY
    + "    return attn.apply(params, x_q, x_kv).reshape(-1)\n",
    "raises": HEAD
    + "def mha_cross(seed, x_q, x_kv, num_heads, qkv_features):\n    return np.ones((2, 3)) @ np.ones((4, 5))\n",
    "shape": HEAD
    + "def mha_cross(seed, x_q, x_kv, num_heads, qkv_features):\n"
    + BODY
    + "    return attn.apply(params, x_q, x_kv)\n",
    # A loop the sandbox cannot prove endless (it adds arrays): a kernel has no such proof, and stops at the limit.
    "loop": HEAD + "def mha_cross(seed, x_q, x_kv, num_heads, qkv_features):\n    while True: x_q = x_q + 0\n",
}
LIMITS = {"loop": Limits(time_s=2)}


def files(folder: Path) -> dict[str, Path]:
    out = {"correct": CORRECT, "stub": ROOT / "problems" / MHA / f"{MHA}.py"}
    (folder / "swapped").mkdir()
    out["swapped"] = pitfall_submission(MHA, "swapped_inputs", folder / "swapped")
    for name, text in SOURCES.items():
        (folder / name).mkdir()
        out[name] = folder / name / f"{MHA}.py"
        out[name].write_text(text)
    return out


def what_learners_read(result: Result, names: tuple[str, ...]) -> tuple:
    """Status, score and every sentence, with the file's (or namespace's) own name taken out."""

    def plain(text: str) -> str:
        for name in names:
            text = text.replace(name, "<file>")
        return text

    cases = [(c.status, c.score, c.not_run, plain(c.message)) for c in result.cases]
    return result.status, result.score, result.max_score, plain(result.message), plain(result.diagnosis), cases


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    folder = tmp_path_factory.mktemp("parity")
    graded = {}
    with context(sandbox=strong_level()) as ctx:
        for name, path in files(folder).items():
            limits = LIMITS.get(name)
            in_sandbox = api.grade(MHA, path, limits=limits, context=ctx)
            namespace = runpy.run_path(str(path))  # as a notebook's cell defines it
            namespace.update(check_function=api.check_function, ctx=ctx, time_limit=limits.time_s if limits else None)
            exec("found = check_function('mha_cross', time_limit=time_limit, context=ctx)", namespace)
            graded[name] = (in_sandbox, namespace["found"])
    return graded


@pytest.mark.parametrize("name", ["correct", "swapped", "none", "stub", "misnamed", "raises", "shape", "loop"])
def test_check_function_and_judge_run_say_the_same(both, name):
    in_sandbox, here = both[name]
    names = (f"{MHA}.py", "your notebook", f"function {MHA}")
    assert what_learners_read(here, names) == what_learners_read(in_sandbox, names)


def test_the_verdicts_are_the_ones_each_case_calls_for(both):
    status = {name: (r.status.value, r.score) for name, (r, _) in both.items()}
    assert status == {
        "correct": ("passed", 4),
        "swapped": ("wrong_answer", 0),
        "none": ("error", 0),
        "stub": ("error", 0),
        "misnamed": ("error", 0),
        "raises": ("error", 0),
        "shape": ("wrong_answer", 0),
        "loop": ("timeout", 0),
    }
    sandbox, here = both["loop"]
    assert [c.not_run for c in here.cases] == [False, True, True, True]
    assert "your code was at line 7 (`while True: x_q = x_q + 0`)" in here.message == sandbox.message
    assert "did you forget `return`?" in both["none"][1].message
    assert "rename it to `mha_cross`" in both["misnamed"][1].message
