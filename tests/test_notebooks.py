""".ipynb hand-ins (judge run, batch, gradescope) and check_function inside a notebook's own process."""

import csv
import json
import os
import threading
from pathlib import Path
from typing import NamedTuple

import pytest
from conftest import SUBMISSIONS, context, judge, judge_json, pitfall_submission, strong_level

from grader.grading.submission import Submission
from grader.model.verdict import Fault, FaultKind, NotebookNote
from grader.render import wording

nbformat = pytest.importorskip("nbformat")  # the `test` extra: notebooks built the way Jupyter writes them

MHA = "mha_cross"
SWAP = "x_q and x_kv swapped"
CORRECT = (SUBMISSIONS / MHA / "correct_keywords.py").read_text()
SLEEPS = 12  # seconds of demo loop: longer than the import limit the tests give, so running it would fail


def learner_notebook(code: str) -> str:
    """A notebook as learners write them: prose, installs, magics, the function, a demo and a slow loop."""
    v4 = nbformat.v4
    nb = v4.new_notebook()
    nb.cells = [
        v4.new_markdown_cell("# Cross-attention\nImplement `mha_cross` below."),
        v4.new_code_cell("!pip install -q flax\n%matplotlib inline\nimport time\nimport numpy as np"),
        v4.new_code_cell(code),
        v4.new_code_cell(
            "x = np.ones((3, 4), np.float32)\nout = mha_cross(0, x, x, num_heads=2, qkv_features=8)\nprint(out.shape)"
        ),
        v4.new_code_cell(f"for step in range({SLEEPS}):\n    time.sleep(1)\n    print('step', step)"),
    ]
    return nbformat.writes(nb)


def swapped_code(tmp_path: Path) -> str:
    return pitfall_submission(MHA, "swapped_inputs", tmp_path).read_text()


# ---------------------------------------------------------------- reading notebooks (no sandbox)


class Converted(NamedTuple):
    source: str  # the module graded
    note: NotebookNote  # what of the notebook it kept; wording.notebook_note says it

    @property
    def said(self) -> str:
        return wording.notebook_note(self.note)


def convert(cells: list, function: str = "f") -> Converted:
    """A notebook f.ipynb of these cells, made into the module graded for `function`."""
    from grader.grading.notebook import notebook_module

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) if isinstance(c, str) else c for c in cells]
    return Converted(*notebook_module(nbformat.writes(nb).encode(), "f.ipynb", function))


def test_the_function_and_what_it_needs_are_kept_and_the_rest_is_left_out():
    conv = convert(
        [
            "!pip install flax\n%matplotlib inline\nimport jax\nimport matplotlib.pyplot as plt\nimport numpy as np",
            "jax.config.update('jax_enable_x64', True)\nSCALE = 2.0\ncfg = {}\ncfg['bias'] = 1.0\nlayers = []\n"
            "layers.append(3)\ndef helper(x):\n    return x * SCALE\n\ndef f(x):\n    out = helper(x)\n"
            "    return jax.numpy.asarray(out + cfg['bias'] + len(layers))",
            "out = f(np.ones(3))\nplt.plot(out)\nfor i in range(3):\n    print(i)",
            "%%bash\necho hello",
            "%%time\ndef unused():\n    pass",
            "def broken(:\n    pass",
        ]
    )
    kept = conv.source
    for line in (
        "import jax",
        "jax.config.update('jax_enable_x64', True)",
        "SCALE = 2.0",
        "cfg['bias'] = 1.0",
        "layers.append(3)",
        "def helper(x):",
        "def f(x):",
    ):
        assert line in kept, line
    for line in (
        "pip",
        "matplotlib",
        "import numpy",
        "out = f(",
        "plt.plot",
        "for i in",
        "echo",
        "def unused",
        "def broken",
    ):
        assert line not in kept, line
    compile(kept, "f.py", "exec")  # what the sandbox imports is valid Python
    note = conv.said
    assert "`!pip install flax` (cell 1)" in note and "`%matplotlib inline` (cell 1)" in note
    assert "cell 4 (a cell magic whose body is not Python)" in note and "cell 6 (not valid Python" in note
    assert "top-level statements f does not need" in note


def test_a_statement_that_binds_a_needed_global_is_kept_with_what_it_uses():
    conv = convert(
        [
            "from jax import config\nconfig.update('jax_enable_x64', True)\n"
            "import numpy as np\nrng = np.random.default_rng(0)\nW = rng.normal(size=(3, 3))\n"
            "unused = rng.normal()\nx = 1; y = 2",
            "def f(v):\n    return v @ W + y",
        ]
    )
    assert "W = rng.normal(size=(3, 3))" in conv.source and "rng = np.random.default_rng(0)" in conv.source
    assert "x = 1; y = 2" in conv.source  # statements sharing a line go together
    assert "from jax import config\nconfig.update('jax_enable_x64', True)" in conv.source
    assert "unused" not in conv.source


def test_the_last_definition_wins_as_in_restart_and_run_all():
    conv = convert(["def f(x):\n    return 1", "f(2)", "def f(x):\n    return 2"])
    namespace = {}
    exec(conv.source, namespace)
    assert namespace["f"](0) == 2 and "f(2)" not in conv.source


def test_a_notebook_without_the_function_says_what_it_defines():
    conv = convert(["def g(x):\n    return x"], function="f")
    assert not conv.note.has_function
    assert "no code cell defines f (it defines g)" in conv.said
    conv = convert(["def mha_corss(x):\n    return x", "def other(y):\n    return y"], function=MHA)
    assert f"no code cell defines {MHA} (did you mean mha_corss?)" in conv.said


@pytest.mark.parametrize(
    "data, says",
    [
        (b'{"cells": [', "is not a notebook: invalid JSON at line 1"),
        (b"[1, 2]", 'is not a notebook: no "cells"'),
        (json.dumps({"nbformat": 3, "worksheets": []}).encode(), "is nbformat 3; the judge reads nbformat 4"),
        (json.dumps({"nbformat": 4, "cells": [{"cell_type": "code", "source": 7}]}).encode(), "cell 1 has a source"),
        (json.dumps({"nbformat": 4, "cells": "x"}).encode(), '"cells" is not a list'),
        (b"\xff\xfe{}", "is not UTF-8 text"),
        (b"[" * 100_000 + b"]" * 100_000, "is not a notebook"),
        (
            json.dumps({"nbformat": 4, "cells": [{"cell_type": "code", "source": "a = 1\n" * 60}] * 100}).encode(),
            "more than 5000 top-level statements",
        ),  # so that reading one never costs the judge much
    ],
)
def test_an_unreadable_notebook_is_one_clear_line(data, says):
    from grader.grading.submission import Submission
    from grader.model.errors import Unreadable

    with pytest.raises(Unreadable) as e:
        Submission("mha_cross.ipynb", data, ".ipynb").source(MHA)
    said = wording.fault(e.value.fault, e.value.notebook)  # the sentence the learner's result carries
    assert says in said and "\n" not in said


def test_outputs_are_dropped_before_grading_and_a_py_file_comes_first(tmp_path):
    from grader.batch.tasks import read_task
    from grader.grading.submission import find_submission

    nb = nbformat.reads(learner_notebook(CORRECT), as_version=4)
    nb.cells[3].outputs = [nbformat.v4.new_output("display_data", {"image/png": "A" * (3 << 20)})]
    folder = tmp_path / "zoe"
    folder.mkdir()
    (folder / f"{MHA}.ipynb").write_text(nbformat.writes(nb))
    path, choice = find_submission(folder, MHA)
    hand_in = read_task(tmp_path, "zoe", MHA).submission
    assert path.name == f"{MHA}.ipynb" and choice is None and hand_in.choice is None
    assert hand_in.suffix == ".ipynb" and hand_in.refused is None and hand_in.data is not None
    assert len(hand_in.data) < 10_000 and b"AAAA" not in hand_in.data  # a 3 MiB plot is not a 1 MiB refusal
    (folder / f"{MHA}.py").write_text(CORRECT)
    path, choice = find_submission(folder, MHA)
    assert path.name == f"{MHA}.py" and f"graded {MHA}.py; not graded: {MHA}.ipynb" in wording.choice_note(choice)
    (tmp_path / "deep" / "er").mkdir(parents=True)
    (tmp_path / "deep" / "er" / f"{MHA}.py").write_text("x")
    (tmp_path / "deep" / f"{MHA}.ipynb").write_text("{}")
    path, choice = find_submission(tmp_path / "deep", MHA, recursive=True)
    assert path == tmp_path / "deep" / f"{MHA}.ipynb" and f"not graded: er/{MHA}.py" in wording.choice_note(choice)


def test_an_upload_folder_named_like_the_problem_does_not_hide_the_file_below(tmp_path):
    """An empty folder `mha_cross.py/` at the top of an upload and the answer in hw/: the answer is graded."""
    from grader.grading.submission import find_submission

    (tmp_path / f"{MHA}.py").mkdir()
    (tmp_path / "hw").mkdir()
    (tmp_path / "hw" / f"{MHA}.py").write_text(CORRECT)
    path, choice = find_submission(tmp_path, MHA, recursive=True)
    assert path == tmp_path / "hw" / f"{MHA}.py" and choice is None


def test_a_notebook_of_millions_of_cells_is_refused_without_making_the_judge_large(tmp_path):
    """63 MiB of empty cells once took 1.7 GB of the judge's own memory to parse, before the cell count was checked
    (a Gradescope container may have 1.5 GB). A large notebook is read in a process whose memory is bounded."""
    import subprocess
    import sys

    huge = tmp_path / f"{MHA}.ipynb"
    with huge.open("wb") as f:
        f.write(b'{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [')
        f.write(b"{}," * 21_000_000 + b"{}]}")  # 60 MiB: under the 64 MiB a notebook may have
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from grader.grading.submission import Submission\n"
        "hand_in = Submission.read(Path(sys.argv[1]))\n"
        "said = hand_in.refused.error if hand_in.refused else 'read'\n"
        # VmHWM, not ru_maxrss: the latter is kept across exec, from the (large) test process that forked this one
        "peak = next(line for line in open('/proc/self/status') if line.startswith('VmHWM')).split()[1]\n"
        "print(said, peak)\n"
    )
    done = subprocess.run([sys.executable, "-c", code, str(huge)], capture_output=True, text=True, timeout=300)
    refusal, rss_kb = done.stdout.split()
    assert refusal == "notebook_too_complex", done.stdout + done.stderr
    assert int(rss_kb) < 300 << 10  # the judge's own process; the bounded reader had at most 512 MiB
    said = wording.fault(Fault(kind=FaultKind.REFUSED, error=refusal, file=huge.name, limit=512))
    assert "could not be read in 512 MiB" in said and "clear its outputs" in said


def test_a_large_notebook_of_ordinary_size_is_still_graded(tmp_path):
    nb = nbformat.reads(learner_notebook(CORRECT), as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell("x" * (6 << 20)))  # a long note: read by the bounded reader
    path = tmp_path / f"{MHA}.ipynb"
    path.write_text(nbformat.writes(nb))
    hand_in = Submission.read(path)
    assert hand_in.refused is None and hand_in.data is not None and len(hand_in.data) < 100_000
    source, note = hand_in.source(MHA)
    assert "def mha_cross" in source


# ---------------------------------------------------------------- judge run --file x.ipynb (sandboxed)


def test_judge_run_grades_a_notebook_without_running_its_demo_cells(tmp_path):
    level = strong_level()
    nb = tmp_path / f"{MHA}.ipynb"
    nb.write_text(learner_notebook(CORRECT))
    code, doc = judge_json("run", MHA, "--file", str(nb), "--sandbox", level, "--import-limit", "8")
    assert (code, doc["status"], doc["score"]) == (0, "passed", doc["max_score"]), doc["message"]
    assert "`!pip install -q flax` (cell 1)" in doc["message"] and "`%matplotlib inline` (cell 1)" in doc["message"]
    assert "step" not in doc["stdout"] and "(3, 4)" not in doc["stdout"]  # neither the loop nor the demo ran


def test_judge_run_names_the_swap_in_a_notebook(tmp_path):
    level = strong_level()
    nb = tmp_path / f"{MHA}.ipynb"
    nb.write_text(learner_notebook(swapped_code(tmp_path)))
    code, doc = judge_json("run", MHA, "--file", str(nb), "--sandbox", level, "--import-limit", "8")
    assert (code, doc["status"]) == (1, "wrong_answer"), doc["message"]
    assert SWAP in doc["diagnosis"] and SWAP in doc["message"]


def test_judge_run_on_an_unreadable_notebook_is_an_error_line_not_a_traceback(tmp_path):
    nb = tmp_path / f"{MHA}.ipynb"
    nb.write_text('{"nbformat": 4, "cells": [')
    code, doc = judge_json("run", MHA, "--file", str(nb), "--sandbox", "process")
    assert (code, doc["status"], doc["score"]) == (1, "error", 0)
    assert doc["message"].startswith(f"{MHA}.ipynb is not a notebook: invalid JSON")
    proc = judge("run", MHA, "--sandbox", "process", cwd=tmp_path)  # ./mha_cross.ipynb when there is no .py
    assert "Traceback" not in proc.stdout + proc.stderr and "is not a notebook" in proc.stdout


# ---------------------------------------------------------------- batch and gradescope


def test_batch_and_gradescope_grade_notebooks_and_files_alike(tmp_path):
    level = strong_level()
    cls = tmp_path / "class"
    handins = {
        "alice": {".py": CORRECT},
        "bob": {".ipynb": learner_notebook(CORRECT)},
        "carol": {".ipynb": learner_notebook(swapped_code(tmp_path))},
        "dave": {".py": swapped_code(tmp_path), ".ipynb": learner_notebook(CORRECT)},
        "erin": {".ipynb": "not json"},
    }
    for student, files in handins.items():
        (cls / student).mkdir(parents=True)
        for suffix, text in files.items():
            (cls / student / f"{MHA}{suffix}").write_text(text)
    out = tmp_path / "out"
    proc = judge("batch", str(cls), "--out", str(out), "--problems", MHA, "--sandbox", level, "--workers", "2")
    assert proc.returncode == 0, proc.stderr
    with open(out / "grades.csv", newline="") as f:
        grades = {r["student"]: r for r in csv.DictReader(f)}
    full = grades["alice"]["max_score"]
    assert (grades["alice"]["status"], grades["alice"]["score"]) == ("passed", full)
    assert (grades["bob"]["status"], grades["bob"]["score"]) == ("passed", full)
    assert grades["carol"]["status"] == "wrong_answer" and SWAP in grades["carol"]["message"], grades["carol"]
    assert grades["dave"]["status"] == "wrong_answer" and SWAP in grades["dave"]["message"], grades["dave"]
    assert f"graded {MHA}.py; not graded: {MHA}.ipynb" in grades["dave"]["message"]
    assert grades["erin"]["status"] == "error" and "is not a notebook" in grades["erin"]["message"]
    stored = json.loads((out / ".results" / "bob" / f"{MHA}.json").read_text())["result"]
    assert stored["submission"] == f"bob/{MHA}.ipynb"

    sub = tmp_path / "submission" / "hw1"  # Gradescope: the notebook a few folders down
    sub.mkdir(parents=True)
    (sub / f"{MHA}.ipynb").write_text(learner_notebook(swapped_code(tmp_path)))
    results = tmp_path / "results.json"
    proc = judge(
        "gradescope",
        "--submission-dir",
        str(tmp_path / "submission"),
        "--results",
        str(results),
        "--problems",
        MHA,
        "--sandbox",
        level,
    )
    doc = json.loads(results.read_text())
    assert proc.returncode == 0 and doc["tests"][0]["score"] == int(grades["carol"]["score"])
    assert SWAP in doc["tests"][0]["output"]


# ---------------------------------------------------------------- check_function, in this process


def right(seed, x_q, x_kv, num_heads, qkv_features):
    import flax.linen as nn
    import jax

    attn = nn.MultiHeadDotProductAttention(num_heads=int(num_heads), qkv_features=int(qkv_features))
    return attn.apply(attn.init(jax.random.PRNGKey(int(seed)), x_q, x_kv), x_q, x_kv).reshape(-1)


def swapped(seed, x_q, x_kv, num_heads, qkv_features):
    return right(seed, x_kv, x_q, num_heads, qkv_features)


def test_check_function_passes_a_right_function_and_names_a_swap():
    from grader import Result, check_function

    ok = check_function(MHA, right)
    assert isinstance(ok, Result) and ok.passed and ok.score == ok.max_score == len(ok.cases) > 0
    assert all(not c.hidden for c in ok.cases)
    assert "PASSED" in str(ok) and "passed" in ok._repr_html_()
    bad = check_function(MHA, swapped)
    assert bad.status.value == "wrong_answer" and SWAP in bad.diagnosis
    assert SWAP in bad._repr_html_() and "Likely mistake" in str(bad)


def test_check_function_gives_statuses_not_exceptions():
    import time

    from grader import check_function

    def raises(*args):
        raise ValueError("shapes do not match")

    def loops(*args):
        while True:
            time.sleep(0.05)

    raised = check_function(MHA, raises)
    assert raised.status.value == "error" and "ValueError: shapes do not match" in raised.message
    assert "in raises" in raised.cases[0].traceback
    text = check_function(MHA, lambda *a: "an answer")
    assert text.status.value == "error" and "returned str; expected an array of numbers" in text.message
    slow = check_function(MHA, loops, time_limit=1)
    assert slow.status.value == "timeout" and all(c.status.value == "timeout" for c in slow.cases)

    def shouts(*args):
        raise ValueError("<script>alert(1)</script>")

    page = check_function(MHA, shouts)._repr_html_()
    assert "<script>" not in page and "&lt;script&gt;alert(1)" in page  # learner text is escaped


def test_check_function_outside_the_main_thread_has_no_limit_but_still_grades():
    from grader import check_function

    got = []
    worker = threading.Thread(target=lambda: got.append(check_function(MHA, right)))
    worker.start()
    worker.join(300)
    assert got and got[0].passed


def test_check_function_and_grade_refuse_bad_arguments_in_one_line():
    from grader import UsageError, check_function, grade

    with pytest.raises(UsageError, match="needs the function itself"):
        check_function(MHA, "mha_cross.py")
    with pytest.raises(UsageError, match="unknown problem"):
        check_function("nope", right)
    with pytest.raises(UsageError, match=r"check_function\('mha_cross', fn\)"):
        grade(MHA, right)


KERNEL = """import json, os, sys
import jax, jax.monitoring, jax.numpy as jnp
from grader import check_function
hits = []
jax.monitoring.register_event_listener(lambda event, **_: hits.append(event == "/jax/compilation_cache/cache_hits"))

def scaled_dot_product_attention(q, k, v):
    jnp.cumsum(jnp.arange(7.0))  # a program the reference never compiles
    scores = jnp.einsum("hqd,hkd->hqk", q, k) / jnp.sqrt(q.shape[-1])
    return jnp.einsum("hqk,hkd->hqd", jax.nn.softmax(scores, axis=-1), v)

if sys.argv[1] == "own":
    jax.config.update("jax_compilation_cache_dir", os.path.join(os.environ["JUDGE_CACHE_DIR"], "mine"))
check_function("scaled_dot_product_attention", lambda *a: None)  # the expected outputs, computed here
shared = os.path.join(os.environ["JUDGE_CACHE_DIR"], "v3", "xla")
listing = lambda: set(os.listdir(shared)) if os.path.isdir(shared) else set()
before = listing()
hits.clear()
result = check_function("scaled_dot_product_attention", scaled_dot_product_attention)
print(json.dumps({"passed": result.passed, "hits": sum(hits), "shared_new": sorted(listing() - before),
                  "dir": jax.config.jax_compilation_cache_dir}))
"""


def test_a_fresh_kernel_loads_what_an_earlier_kernel_compiled_and_never_writes_the_shared_cache(tmp_path):
    """A learner restarts their kernel often, and each fresh kernel's first check compiled every program again
    (mha_cross: 7.0 s of 7.6). check_function now has JAX keep the kernel's programs in a folder of the kernel's
    own: the sandbox trusts the shared compilation cache, and learner code runs in the kernel."""
    import subprocess
    import sys

    def kernel(mode: str) -> dict:
        env = {**os.environ, "JUDGE_CACHE_DIR": str(tmp_path / "cache")}
        done = subprocess.run(
            [sys.executable, "-c", KERNEL, mode], capture_output=True, text=True, timeout=300, env=env
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout.splitlines()[-1])

    first = kernel("judge's")
    assert first["passed"] and first["hits"] == 0
    assert first["dir"] == str(tmp_path / "cache" / "v3" / "kernel") and os.listdir(first["dir"])
    assert first["shared_new"] == []  # the references' process set the shared folder; the learner's code did not
    again = kernel("judge's")
    assert again["passed"] and again["hits"] > 0 and again["shared_new"] == []
    own = kernel("own")  # a cache the learner chose stays theirs
    assert own["passed"] and own["dir"] == str(tmp_path / "cache" / "mine") and own["shared_new"] == []


# ---------------------------------------------------------------- check_function in a real kernel


def test_check_function_renders_in_a_real_kernel(tmp_path):
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    v4 = nbformat.v4
    nb = v4.new_notebook()
    nb.cells = [
        v4.new_code_cell("from grader import check_function\n" + CORRECT),
        v4.new_code_cell("check_function('mha_cross', mha_cross)"),
        v4.new_code_cell(
            "def swapped(seed, x_q, x_kv, num_heads, qkv_features):\n"
            "    return mha_cross(seed, x_kv, x_q, num_heads=num_heads, qkv_features=qkv_features)\n"
            "check_function('mha_cross', swapped)"
        ),
        v4.new_code_cell("r = check_function('mha_cross', swapped)\nprint(r.passed, r.score, r.max_score)"),
    ]
    nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    right_out, wrong_out = nb.cells[1].outputs[0], nb.cells[2].outputs[0]
    assert right_out.output_type == wrong_out.output_type == "execute_result"
    right_html, wrong_html = right_out.data["text/html"], wrong_out.data["text/html"]
    n = len(context().problems.load(MHA).cases)
    assert f"mha_cross: PASSED {n}/{n}" in right_html and "wrong answer" not in right_html
    assert f"WRONG ANSWER 0/{n}" in wrong_html and SWAP in wrong_html and "Likely mistake" in wrong_html
    assert f"PASSED {n}/{n}" in right_out.data["text/plain"]  # the terminal text where HTML is not shown
    assert nb.cells[3].outputs[0].text.strip() == f"False 0 {n}"


# ---------------------------------------------------------------- practice notebooks: judge init --notebook, a kit's

MASK = "cross_attention_mask"  # numpy only: a kernel grades it in well under its time limit even on a busy machine


def cell_texts(path: Path) -> list[str]:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    return [c.source for c in nb.cells]


def practice_code(problem_id: str, *, wheel: str | None = None) -> list[str]:
    """The code cells of a practice notebook, in order: setup, stub, check, hint."""
    from grader.practice.notebook_make import practice_notebook

    nb = nbformat.reads(practice_notebook(context().problems.load(problem_id), wheel=wheel), as_version=4)
    return [c.source for c in nb.cells if c.cell_type == "code"]


def test_init_notebook_writes_the_task_the_stub_and_a_check_and_never_overwrites(tmp_path):
    problem = context().problems.load(MASK)
    proc = judge("init", MASK, "--notebook", cwd=tmp_path)
    assert proc.returncode == 0 and f"{MASK}.ipynb" in proc.stdout, proc.stdout + proc.stderr
    path = tmp_path / f"{MASK}.ipynb"
    cells, raw = cell_texts(path), path.read_text()
    stub = problem.stub_path.read_text()
    assert stub in cells and f"check_function({MASK!r}, {MASK})" in cells
    spec = problem.spec_path.read_text()
    assert all(line in raw for line in ("Your task", "padding")) and spec.splitlines()[0] in cells[2]
    from grader.practice.hints import load_hints

    hints = load_hints(context().problems, MASK)
    assert not [h for h in hints if json.dumps(h)[1:-1] in raw or h in "\n".join(cells)]  # shown only when run
    assert not (tmp_path / f"{MASK}.py").exists()  # the notebook only; `judge init` alone still writes the stub
    path.write_text("my work")
    proc = judge("init", MASK, "--notebook", cwd=tmp_path)
    assert proc.returncode == 2 and "already exists" in proc.stderr and path.read_text() == "my work"
    assert judge("init", MASK, cwd=tmp_path).returncode == 0 and (tmp_path / f"{MASK}.py").read_text() == stub


@pytest.mark.parametrize("solved", [True, False], ids=["solution", "stub left in"])
def test_a_practice_notebook_runs_top_to_bottom_in_a_real_kernel(tmp_path, monkeypatch, solved):
    """As a learner runs it: every cell, none raising. The check cell grades the function; left as the stub, it
    says the stub is still there; the hint cell shows the first hint (in its output, never in the notebook)."""
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    monkeypatch.setenv("JUDGE_DATA_DIR", str(tmp_path / "data"))  # the kernel's progress: hints seen from none
    assert judge("init", MASK, "--notebook", cwd=tmp_path).returncode == 0
    nb = nbformat.read(tmp_path / f"{MASK}.ipynb", as_version=4)
    stub = context().problems.load(MASK).stub_path.read_text()
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code[1].source == stub
    if solved:
        code[1].source = (SUBMISSIONS / MASK / "correct_loops_bool.py").read_text()
    nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()  # raises CellExecutionError if any cell raised
    assert code[0].outputs == []  # the judge imports: the setup cell says nothing
    checked = code[2].outputs[0]
    assert checked.output_type == "execute_result"
    n = len(context().problems.load(MASK).cases)
    if solved:
        assert f"PASSED {n}/{n}" in checked.data["text/plain"] and f"{MASK}: PASSED" in checked.data["text/html"]
    else:
        said = checked.data["text/plain"]
        assert f"ERROR 0/{n}" in said and "raise NotImplementedError" in said and "Traceback" not in said
    from grader.practice.hints import load_hints

    first = load_hints(context().problems, MASK)[0]
    hinted = "".join(o.get("text", "") for o in code[3].outputs)
    assert "Hint 1 of" in hinted and first in hinted


@pytest.mark.parametrize("wheel", [None, "judge-0.1.0+course.20260101000000.gabc-py3-none-any.whl"])
def test_without_the_judge_the_notebook_says_how_to_install_it_not_a_traceback(tmp_path, wheel):
    """A Python without the judge (no site-packages, no PYTHONPATH): the setup cell, then the check and hint cells,
    print how to install it and raise nothing; a kit's notebook names its wheel."""
    import subprocess
    import sys

    setup, _, check, hint = practice_code(MASK, wheel=wheel)
    script = "\n".join([setup, f"{MASK} = None", check, hint])
    proc = subprocess.run(
        [sys.executable, "-I", "-S", "-c", script], capture_output=True, text=True, cwd=tmp_path, timeout=60
    )
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    assert proc.stdout.count("The judge is not installed in this notebook's Python") == 3, proc.stdout
    assert (wheel or "%pip install -e path/to/clone") in proc.stdout


def test_a_course_notebook_names_its_set_for_the_kernel(scratch_set, tmp_path):
    from grader import api

    ctx, folder = scratch_set
    path = api.init_notebook(ctx, MASK, tmp_path)
    setup = cell_texts(path)[1]
    assert f"os.environ.setdefault('JUDGE_PROBLEMS', {str(folder.parents[1])!r})" in setup


def test_a_release_refuses_a_notebook_that_would_hold_an_answer():
    from grader.model.errors import UsageError
    from grader.package.contents import refuse_notebook_leaks
    from grader.practice.notebook_make import practice_notebook

    source = context().problems
    problem = source.load(MHA)
    refuse_notebook_leaks(source, problem, "ok.ipynb", practice_notebook(problem))  # as made: nothing to refuse
    answer = source.reference_path(MHA).read_text()
    sentence = next(iter(source.pitfall_messages(problem).values()))
    for planted in (answer, f"Note: {sentence}"):
        nb = json.loads(practice_notebook(problem))
        nb["cells"][-1]["source"] = planted.splitlines(True)
        with pytest.raises(UsageError, match="would contain a line of the reference or its mistakes"):
            refuse_notebook_leaks(source, problem, "leak.ipynb", json.dumps(nb))


def test_a_kit_has_a_practice_notebook_per_problem_with_no_answer_in_it(kit):
    """Running one from the kit alone (its wheel in a fresh venv, then the kernel) is left to the kit tests."""
    from conftest import KIT_IDS, ROOT

    from grader.practice.hints import load_hints

    source = context().problems
    wheel = next(kit.glob("*.whl")).name
    assert sorted(p.name for p in (kit / "notebooks").iterdir()) == sorted(f"{pid}.ipynb" for pid in KIT_IDS)
    assert "notebooks/ID.ipynb" in (kit / "README.md").read_text()
    for pid in KIT_IDS:
        path = kit / "notebooks" / f"{pid}.ipynb"
        cells = cell_texts(path)
        text = "\n".join(cells)
        assert f"WHEEL = {wheel!r}" in cells[1] and f"check_function({pid!r}, " in text
        public = "\n".join(p.read_text() for p in (ROOT / "problems" / pid).iterdir() if p.is_file())
        answers = [ROOT / "reference" / f"{pid}.py", ROOT / "reference" / "pitfalls" / f"{pid}.py"]
        secret = {s for a in answers for line in a.read_text().splitlines() if len(s := line.strip()) >= 12}
        assert not [s for s in secret if s not in public and s in text]
        problem = source.load(pid)
        assert not [s for s in source.pitfall_messages(problem).values() if s in text]
        assert not [h for h in load_hints(source, pid) if h in text]
