"""check_function in a real Jupyter kernel (nbclient on ipykernel), as a learner meets it: a fresh kernel, the
first check, a busy CPU; a compiled loop that never ends; cells named as Jupyter names them."""

import json
import multiprocessing
import os
import time
from pathlib import Path

import pytest
from conftest import ROOT, SUBMISSIONS, judge, pitfall_submission

from grader import check_function

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

MHA = "mha_cross"
CORRECT = (SUBMISSIONS / MHA / "correct_keywords.py").read_text()


def run_cells(cells: list[str], folder: Path, timeout: int = 600) -> list[str]:
    """Run the cells in a fresh kernel; each cell's text outputs (the text/plain of results), errors included."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    client = nbclient.NotebookClient(
        nb, timeout=timeout, kernel_name="python3", allow_errors=True, resources={"metadata": {"path": str(folder)}}
    )
    client.execute()
    texts = []
    for cell in nb.cells:
        parts = []
        for o in cell.outputs:
            if o.output_type == "stream":
                parts.append(o.text)
            elif o.output_type == "error":
                parts.append(f"{o.ename}: {o.evalue}\n" + "\n".join(o.traceback))
            else:
                parts.append(o.get("data", {}).get("text/plain", ""))
        texts.append("".join(parts))
    return texts


def _spin() -> None:
    while True:
        pass


@pytest.fixture
def busy_cpus():
    """A busy loop on every core this process (and so the kernel it starts) may run on, as on a shared CPU."""
    cores = sorted(os.sched_getaffinity(0))
    procs = [multiprocessing.get_context("spawn").Process(target=_spin, daemon=True) for _ in cores]
    for p in procs:
        p.start()
    for p, core in zip(procs, cores, strict=True):
        os.sched_setaffinity(p.pid, {core})
    yield len(cores)
    for p in procs:
        p.kill()
        p.join()


def code_of(name: str, tmp_path: Path) -> str:
    return CORRECT if name == "correct" else pitfall_submission(MHA, name, tmp_path).read_text()


@pytest.mark.parametrize(
    "name,says",
    [
        ("correct", "PASSED 4/4"),
        ("swapped_inputs", "x_q and x_kv swapped"),
        ("fixed_seed", "PRNGKey(0)"),
    ],
)
def test_the_first_check_in_a_fresh_kernel_on_a_busy_cpu_is_not_a_timeout(name, says, tmp_path, busy_cpus):
    check_function(MHA, lambda *a: None)  # the expected outputs on disk: the kernel compiles only the learner's code
    code = code_of(name, tmp_path)
    cells = [
        code,
        "import time\nfrom grader import check_function\nt = time.perf_counter()\n"
        "r = check_function('mha_cross', mha_cross)\nwall = time.perf_counter() - t\nprint(r)",
        "print(r.status.value, r.time_s, r.compile_s, round(wall, 2))",
    ]
    out = run_cells(cells, tmp_path)
    status, own, compiling, wall = out[2].split()
    assert "timeout" not in out[1] and says in out[1], out[1]
    assert status == ("passed" if name == "correct" else "wrong_answer")
    # JAX's compiling is said apart and not counted: the time is the learner's own calls
    assert float(compiling) > 0 and float(own) + float(compiling) <= float(wall) + 0.5
    assert "JAX compiling" in out[1] and "not counted" in out[1]


def test_a_compiled_endless_loop_ends_by_the_limit_and_the_kernel_still_answers(tmp_path):
    check_function(MHA, lambda *a: None)  # the expected outputs on disk: the time measured is the check's own
    cells = [
        "import time\nimport jax, jax.numpy as jnp\nfrom jax import lax\nfrom grader import check_function",
        "def mha_cross(seed, x_q, x_kv, num_heads, qkv_features):\n"
        "    n = lax.while_loop(lambda c: c >= 0, lambda c: c + (c > 1 << 30).astype(c.dtype), jnp.int32(1))\n"
        "    return x_q.reshape(-1) + n",
        "t = time.perf_counter()\nr = check_function('mha_cross', mha_cross, time_limit=3)\n"
        "took = time.perf_counter() - t\nprint(r)",
        "print(r.status.value, round(took, 1), r.cases[0].fault.running)",
        "print('still here', jnp.arange(3).sum())",
    ]
    out = run_cells(cells, tmp_path, timeout=120)
    assert len(out[3].split()) == 3, out
    status, took, running = out[3].split()
    assert status == "timeout" and float(took) < 3 + 5 and running == "True"
    said = " ".join(out[2].split())
    assert "could not be stopped" in said and "restart the kernel" in said
    assert "Cell In[2], line 2" in said and "lax.while_loop" in said  # the learner's line, in Jupyter's words
    assert out[4].strip() == "still here 3"


def test_cells_are_named_as_jupyter_names_them_and_a_mistyped_id_is_one_line(tmp_path):
    cells = [
        "from grader import check_function\nimport numpy as np",
        "def mha_cross(seed, x_q, x_kv, num_heads, qkv_features):\n    y = x_q @ x_kv\n    return y.reshape(-1)",
        "print(check_function('mha_cross', mha_cross))",
        "def mha_cross(seed, x_q, x_kv, num_heads, qkv_features):\n    total = 0\n    while True:\n        total += 1",
        "print(check_function('mha_cross', mha_cross, time_limit=1))",
        "check_function('mha_crosss', mha_cross)",
    ]
    out = run_cells(cells, tmp_path, timeout=120)
    assert "Cell In[2], line 2, in mha_cross" in out[2] and "y = x_q @ x_kv" in out[2], out[2]
    assert "ipykernel_" not in out[2]  # no temporary file the learner never saw
    assert "your code was at Cell In[4], line 3 (`while True:`)" in " ".join(out[4].split())
    assert "did you mean 'mha_cross'?" in out[5]
    assert "grader/" not in out[5] and "File " not in out[5]  # one line, no traceback through the judge


def test_a_notebook_hand_in_names_cells_and_says_which_definition_was_graded(tmp_path):
    v4 = nbformat.v4
    nb = v4.new_notebook()
    nb.cells = [
        v4.new_markdown_cell("# Cross-attention"),
        v4.new_code_cell("import numpy as np\n%matplotlib inline"),
        v4.new_code_cell(CORRECT),
        v4.new_code_cell("print('a demo')"),
        v4.new_code_cell(
            "def mha_cross(seed, x_q, x_kv, num_heads, qkv_features):\n    # an old scratch copy\n"
            "    y = x_q @ x_kv\n    return y.reshape(-1)"
        ),
    ]
    path = tmp_path / "mha_cross.ipynb"
    path.write_text(nbformat.writes(nb))
    started = time.perf_counter()
    proc = judge("run", MHA, "--file", str(path), cwd=tmp_path)
    text = " ".join(proc.stdout.split())
    assert proc.returncode == 1 and time.perf_counter() - started < 120
    assert "Cell In[4], line 3, in mha_cross" in text and 'File "mha_cross.py"' not in text
    assert "mha_cross is defined in 2 cells (In[2], In[4]): the last, In[4], was graded" in text
    assert "left out" in text  # the note on what of the notebook was graded, on a failing verdict too


def notebook_of(*cells: str) -> str:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    return nbformat.writes(nb)


def test_batch_gradescope_and_the_report_name_the_cell(tmp_path):
    head = "def mha_cross(seed, x_q, x_kv, num_heads, qkv_features):\n"
    learner = tmp_path / "class" / "ada"
    learner.mkdir(parents=True)
    (learner / "mha_cross.ipynb").write_text(notebook_of("import numpy as np", head + "    raise NotImplementedError"))
    proc = judge("batch", str(tmp_path / "class"), "--out", str(tmp_path / "out"), "--problems", MHA)
    assert proc.returncode in (0, 1), proc.stderr
    stub = "still has the starter `raise NotImplementedError` (Cell In[2], line 2)"
    assert stub in (tmp_path / "out" / "report.html").read_text()
    assert stub in (tmp_path / "out" / "grades.csv").read_text()
    (learner / "mha_cross.ipynb").write_text(
        notebook_of("import numpy as np", head + "    y = x_q @ x_kv\n    return y")
    )
    results = tmp_path / "results.json"
    proc = judge("gradescope", "--submission-dir", str(learner), "--results", str(results), "--problems", MHA)
    assert "Cell In[2], line 2, in mha_cross" in results.read_text(), proc.stderr


def test_a_kits_practice_notebook_runs_top_to_bottom_from_the_kit_alone(kit, kit_venv, tmp_path, monkeypatch):
    """The kit's notebook, its stub replaced by a correct function, in a kernel of the kit's venv (which has the
    kit's wheel and the libraries, not the judge's checkout): the check passes on the first call."""
    venv, _, work = kit_venv
    spec = tmp_path / "kernels" / "kit"
    spec.mkdir(parents=True)
    argv = [str(venv / "bin" / "python"), "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "kit", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    nb = nbformat.read(kit / "notebooks" / f"{MHA}.ipynb", as_version=4)
    stub = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and "NotImplementedError" in c.source)
    nb.cells[stub].source = CORRECT
    nb.cells.append(nbformat.v4.new_code_cell("import grader, sys\nprint(grader.__file__)"))
    nbclient.NotebookClient(
        nb, timeout=600, kernel_name="kit", resources={"metadata": {"path": str(work)}}
    ).execute()  # raises on any cell's error
    outputs = [
        "".join(o.get("text", "") + o.get("data", {}).get("text/plain", "") for o in c.get("outputs", []))
        for c in nb.cells
    ]
    assert any("PASSED 4/4" in text for text in outputs), outputs
    assert str(venv) in outputs[-1] and str(ROOT) not in outputs[-1]  # the kit's judge, not the checkout's
    assert f"({MHA})" in outputs[-2] and "run this cell again for the next one" in outputs[-2]  # the first hint


def test_a_notebook_importing_google_colab_beside_what_it_needs_gets_the_cause(tmp_path):
    path = tmp_path / "mha_cross.ipynb"
    uses_np = "def mha_cross(seed, x_q, x_kv, num_heads, qkv_features):\n    return np.zeros(3)"
    path.write_text(notebook_of("import numpy as np; from google.colab import drive", uses_np))
    text = " ".join(judge("run", MHA, "--file", str(path), cwd=tmp_path).stdout.split())
    assert "No module named 'google.colab'" in text
    assert "Likely cause: google.colab exists only in Colab" in text
