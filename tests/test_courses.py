"""Courses: instructor problem sets, a learner kit without the answers, a Gradescope autograder zip.

The kit is released once and installed once per session into a fresh venv WITHOUT the system's
site-packages (where an editable install of the judge may live: through it `import reference` would
work and prove nothing). The venv gets the judge's dependencies through a `.pth` line naming the folder
that holds jax: a folder added that way is searched for modules, but its own `.pth` files (an editable
judge's finder among them) are not run. The autograder's venv gets them the same way, from a folder
outside its runtime (`outside_deps`): the sandbox must show what a .pth line adds.
"""

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import (
    KIT_IDS,
    ROOT,
    SUBMISSIONS,
    context,
    deps_site,
    in_own_words,
    judge,
    judge_command,
    pitfall_submission,
    run,
    scratch,
    strong_level,
)

from grader.sets.hidden import hidden_cases

AG_IDS = ("mha_cross", "cross_attention_mask")
SECRET = "s3cret"


def one_line_refusal(proc: subprocess.CompletedProcess, *words: str) -> None:
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr, proc.stderr
    for word in words:
        assert word in proc.stderr, proc.stderr


# ---------------------------------------------------------------- the learner kit


def kit_judge(kit_venv, *args: str) -> subprocess.CompletedProcess:
    venv, _, work = kit_venv
    return run([str(venv / "bin" / "judge"), *args], cwd=work)


def test_a_kit_is_one_wheel_a_readme_and_notebooks(kit):
    names = sorted(p.name for p in kit.iterdir())
    assert len(names) == 3 and names[0] == "README.md" and names[1].endswith(".whl"), names
    assert names[2] == "notebooks" and len(list((kit / "notebooks").iterdir())) == len(KIT_IDS)
    assert f"pip install {names[1]}" in (kit / "README.md").read_text()


def test_the_kit_has_only_the_released_problems(kit_venv):
    proc = kit_judge(kit_venv, "list")
    assert proc.returncode == 0, proc.stderr
    assert [line.split()[0] for line in proc.stdout.splitlines()] == sorted(KIT_IDS)


@pytest.mark.parametrize(
    "problem_id, make, words",
    [
        ("mha_cross", lambda d: SUBMISSIONS / "mha_cross" / "correct_keywords.py", []),
        ("mha_cross", lambda d: pitfall_submission("mha_cross", "swapped_inputs", d), ["x_q and x_kv swapped"]),
        ("cross_attention_block", lambda d: SUBMISSIONS / "cross_attention_block" / "correct_jax_float32.py", []),
        (
            "cross_attention_block",
            lambda d: pitfall_submission("cross_attention_block", "pre_ln", d),
            ["pre-LN", "LayerNorm"],
        ),
    ],
)
def test_the_kit_grades_like_the_full_install(kit_venv, tmp_path, problem_id, make, words):
    path = make(tmp_path)
    proc = kit_judge(kit_venv, "run", problem_id, "--file", str(path), "--json")
    doc = json.loads(proc.stdout)
    full_proc = judge("run", problem_id, "--file", str(path), "--json")
    full = json.loads(full_proc.stdout)
    assert proc.returncode == full_proc.returncode
    for key in ("status", "score", "max_score", "diagnosis"):
        assert doc[key] == full[key], (key, doc[key], full[key])
    assert [c["status"] for c in doc["cases"]] == [c["status"] for c in full["cases"]]
    if words:
        assert doc["status"] == "wrong_answer" and doc["score"] < doc["max_score"]
        for word in words:
            assert word in doc["diagnosis"], doc["diagnosis"]
    else:
        cases = len(context().problems.load(problem_id).cases)
        assert doc["status"] == "passed" and doc["score"] == doc["max_score"] == cases


def test_the_kit_cannot_import_the_references(kit_venv):
    venv, purelib, work = kit_venv
    py = str(venv / "bin" / "python")
    proc = run([py, "-c", "import reference"], cwd=work)
    assert proc.returncode != 0 and "No module named 'reference'" in proc.stderr, proc.stderr
    proc = run([py, "-c", "import grader, problems; print(grader.__file__); print(problems.__file__)"], cwd=work)
    assert all(line.startswith(str(purelib)) for line in proc.stdout.split()), proc.stdout + proc.stderr


def _secret_lines() -> set[str]:
    """Lines of every reference and mistake module that no public file holds as well (stubs share signatures,
    grader/authoring/scaffold.py's example pitfall shares a name)."""
    public = []
    for path in [*(ROOT / "problems").rglob("*"), *(ROOT / "grader").rglob("*.py")]:
        if path.is_file() and path.suffix in (".py", ".md", ".json"):
            public.append(path.read_text().replace("{{", "{").replace("}}", "}"))
    public_text = "\n".join(public)
    secret = set()
    for path in [*(ROOT / "reference").glob("*.py"), *(ROOT / "reference" / "pitfalls").glob("*.py")]:
        secret |= {s for line in path.read_text().splitlines() if len(s := line.strip()) >= 12 and s not in public_text}
    return secret


def _blobs(path: Path) -> list[bytes]:
    data = path.read_bytes()
    if zipfile.is_zipfile(path):  # the released .npz: read what is inside as well
        with zipfile.ZipFile(path) as z:
            return [data, *(z.read(n) for n in z.namelist())]
    return [data]


def _leaks(files: list[Path], secret: set[str]) -> list[tuple[str, str]]:
    found = []
    for path in files:
        for blob in _blobs(path):
            text = blob.decode("utf-8", "replace")
            found += [(str(path), s) for s in secret if s in text]
    return found


def test_no_file_the_kit_installs_holds_a_line_of_an_answer(kit_venv):
    _, purelib, _ = kit_venv
    record = next(purelib.glob("judge-*.dist-info")) / "RECORD"
    files = [purelib / line.split(",")[0] for line in record.read_text().splitlines() if line.strip()]
    files = [f for f in files if f.is_file()]
    assert any(f.name == "released.npz" for f in files) and any(f.suffix == ".pyc" for f in files)
    names = [str(f.relative_to(purelib)) for f in files]
    assert not [n for n in names if re.search(r"reference|pitfall|\.pkl|\.pickle", n)], names
    secret = _secret_lines()
    assert len(secret) > 200
    reference_files = list((ROOT / "reference").rglob("*.py"))
    assert _leaks(reference_files, secret), "the scan finds nothing even in the references: it proves nothing"
    assert _leaks(files, secret) == []


@pytest.mark.parametrize(
    "args, words",
    [
        (["batch", "class", "--out", "grades"], ["`judge batch`"]),
        (["gradescope"], ["`judge gradescope`"]),
        (["release", "out"], ["`judge release`"]),
        (["autograder", "out.zip"], ["`judge autograder`"]),
        (["new", "my_problem"], ["`judge new`"]),
        (["check"], ["`judge check`"]),
        (["run", "mha_cross", "--hidden-seed", "x"], ["`--hidden-seed`"]),
        (["--problems-dir", ".", "list"], ["`--problems-dir`"]),
    ],
)
def test_the_kit_refuses_instructor_commands_in_one_line(kit_venv, args, words):
    one_line_refusal(kit_judge(kit_venv, *args), "instructor's install", *words)


def test_a_release_is_reproducible(kit, tmp_path):
    env = {**os.environ, "JUDGE_CACHE_DIR": str(tmp_path / "fresh-cache")}  # the outputs are computed again
    proc = judge("release", str(tmp_path / "again"), "--problems", ",".join(KIT_IDS), timeout=900, env=env)
    assert proc.returncode == 0, proc.stderr
    first, second = next(kit.glob("*.whl")), next((tmp_path / "again").glob("*.whl"))
    assert first.read_bytes() == second.read_bytes()


def test_release_refuses_bad_input_and_leaves_nothing(tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("")
    one_line_refusal(judge("release", str(tmp_path / "full")), "not an empty folder")
    one_line_refusal(judge("release", str(tmp_path / "kit"), "--problems", "mha_cross,nope"), "unknown problem 'nope'")
    one_line_refusal(
        judge("--problems-dir", str(tmp_path / "missing"), "release", str(tmp_path / "kit")), "problem set not found"
    )
    one_line_refusal(judge("autograder", str(tmp_path / "ag.tar")), ".zip")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["full"]


# ---------------------------------------------------------------- an instructor's own set


@pytest.fixture
def course(tmp_path) -> Path:
    """A problem set outside the package, made the way an instructor makes one."""
    proc = judge("--problems-dir", str(tmp_path / "course"), "new", "double_it")
    assert proc.returncode == 0, proc.stderr
    in_own_words(tmp_path / "course", "double_it")
    return tmp_path / "course"


def test_new_writes_into_the_chosen_set_and_check_validates_it(course):
    assert (course / "problems" / "double_it" / "problem.json").is_file()
    assert (course / "reference" / "double_it.py").is_file()
    assert (course / "reference" / "pitfalls" / "double_it.py").is_file()
    assert not (ROOT / "problems" / "double_it").exists() and not (ROOT / "reference" / "double_it.py").exists()
    proc = judge("--problems-dir", str(course), "check")
    assert proc.returncode == 0 and re.search(r"\b1 problems? checked, 0 checks failed", proc.stdout), proc.stdout
    env = {**os.environ, "JUDGE_PROBLEMS": str(course)}  # the variable works as the option does
    proc = subprocess.run([*judge_command(), "list"], capture_output=True, text=True, env=env, timeout=60)
    assert proc.stdout.split() == ["double_it", "new", "-", "double", "it"], proc.stdout  # id, progress mark, title


def test_an_instructor_set_works_with_run_and_batch(course, tmp_path):
    wrong = tmp_path / "wrong.py"
    wrong.write_text("def double_it(x, scale):\n    return x\n")
    reference = course / "reference" / "double_it.py"
    proc = judge("--problems-dir", str(course), "run", "double_it", "--file", str(reference))
    assert proc.returncode == 0, proc.stdout
    proc = judge("--problems-dir", str(course), "run", "double_it", "--file", str(wrong))
    assert proc.returncode == 1 and "multiply by scale" in proc.stdout, proc.stdout
    for student, source in (("ada", course / "reference" / "double_it.py"), ("bob", wrong)):
        (tmp_path / "class" / student).mkdir(parents=True)
        shutil.copy(source, tmp_path / "class" / student / "double_it.py")
    proc = judge("--problems-dir", str(course), "batch", str(tmp_path / "class"), "--out", str(tmp_path / "grades"))
    assert proc.returncode == 0, proc.stderr
    rows = (tmp_path / "grades" / "grades.csv").read_text().splitlines()
    assert rows[1].startswith("ada,double_it,3,3,passed") and rows[2].startswith("bob,double_it,0,3,wrong_answer"), rows


def test_an_instructor_set_releases_and_builds_an_autograder(course, tmp_path):
    proc = judge("--problems-dir", str(course), "release", str(tmp_path / "kit"))
    assert proc.returncode == 0, proc.stderr
    with zipfile.ZipFile(next((tmp_path / "kit").glob("*.whl"))) as z:
        names = z.namelist()
    assert "problems/double_it/problem.json" in names and "problems/double_it/released.npz" in names
    assert not [n for n in names if n.startswith("reference")]
    proc = judge("--problems-dir", str(course), "autograder", str(tmp_path / "ag.zip"))
    assert proc.returncode == 0, proc.stderr
    with zipfile.ZipFile(tmp_path / "ag.zip") as z, z.open(next(n for n in z.namelist() if n.endswith(".whl"))) as w:
        inner = zipfile.ZipFile(w).namelist()
    assert "reference/double_it.py" in inner and "reference/pitfalls/double_it.py" in inner


def test_a_set_that_fails_check_is_not_released(course, tmp_path):
    pitfalls = course / "reference" / "pitfalls" / "double_it.py"
    source = pitfalls.read_text()  # the mistake becomes the reference: no case can catch it
    pitfalls.write_text(source.replace("np.asarray(x, np.float64)),", "np.asarray(x, np.float64) * scale),"))
    one_line_refusal(
        judge("--problems-dir", str(course), "release", str(tmp_path / "kit")),
        "fails `judge check double_it`",
        "pitfall no_scale",
    )
    one_line_refusal(judge("--problems-dir", str(course), "autograder", str(tmp_path / "ag.zip")), "fails `judge check")
    assert not (tmp_path / "kit").exists() and not (tmp_path / "ag.zip").exists()


def test_an_answer_left_in_a_problem_folder_is_not_released(course, tmp_path):
    shutil.copy(course / "reference" / "double_it.py", course / "problems" / "double_it" / "solution.py")
    one_line_refusal(
        judge("--problems-dir", str(course), "release", str(tmp_path / "kit")),
        "solution.py contains a line of the reference",
    )
    assert not (tmp_path / "kit").exists()


def test_the_sandbox_does_not_see_an_instructor_set(course, tmp_path):
    strong_level()
    spy = tmp_path / "double_it.py"
    spy.write_text(
        f"import os\n\ndef double_it(x, scale):\n"
        f"    if not os.path.exists({str(course / 'reference' / 'double_it.py')!r}):\n"
        f"        raise RuntimeError('the reference is not visible')\n    return x * scale\n"
    )
    proc = judge("--problems-dir", str(course), "run", "double_it", "--file", str(spy), "--sandbox", "bwrap")
    assert proc.returncode == 1 and "the reference is not visible" in proc.stdout, proc.stdout
    # The weak level does not hide files: the same spy passes there, so the check above can fail.
    proc = judge("--problems-dir", str(course), "run", "double_it", "--file", str(spy), "--sandbox", "process")
    assert proc.returncode == 0, proc.stdout


# ---------------------------------------------------------------- the Gradescope autograder


def _as_gradescope(ag: Path, *cmd: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run a command the way Gradescope does: as root, with this folder at /autograder."""
    bwrap = shutil.which("bwrap") or "bwrap"  # this one, whatever PATH the command gets
    return run(
        [bwrap, "--dev-bind", "/", "/", "--bind", str(ag), "/autograder", "--chdir", "/autograder", *cmd],
        env={"PATH": "/usr/bin:/bin", "HOME": "/autograder/home", "LANG": "C.UTF-8", **(env or {})},
    )


@pytest.fixture(scope="session")
def outside_deps(tmp_path_factory) -> str:
    """A folder holding the judge's dependencies that is none of the autograder venv's own runtime folders, as
    `JUDGE_SETUP_DEPS` names one: from a venv (the README's `python3 -m venv`), its site-packages; else a folder
    under /tmp (which the sandbox shows elsewhere) of links to this interpreter's libraries, the judge's own
    files left out."""
    site = deps_site()
    if not Path(site).is_relative_to(Path(sys.base_prefix).resolve()):
        return site
    farm = tmp_path_factory.mktemp("deps") / "site-packages"
    farm.mkdir()
    for entry in Path(site).iterdir():
        if not re.match(r"judge|__editable__|__pycache__|.*\.pth$", entry.name):
            (farm / entry.name).symlink_to(entry)
    return str(farm)


def unpack(built: Path, prefix: str) -> Path:
    """A scratch /autograder with the zip unpacked into source/ (modes kept, as Gradescope's unzip keeps them)."""
    ag = scratch(prefix)
    (ag / "home").mkdir()
    with zipfile.ZipFile(built) as z:
        z.extractall(ag / "source")
        for info in z.infolist():
            os.chmod(ag / "source" / info.filename, info.external_attr >> 16 & 0o777)
    return ag


def set_up(ag: Path, deps: str) -> subprocess.CompletedProcess:
    base_python = str(Path(sys.base_prefix) / "bin" / f"python{sys.version_info.major}.{sys.version_info.minor}")
    return _as_gradescope(
        ag, "bash", "/autograder/source/setup.sh", env={"JUDGE_SETUP_DEPS": deps, "JUDGE_PYTHON": base_python}
    )


@pytest.fixture(scope="session")
def autograder(tmp_path_factory, outside_deps):
    strong_level()
    built = tmp_path_factory.mktemp("autograder") / "ag.zip"
    proc = judge("autograder", str(built), "--problems", ",".join(AG_IDS), "--hidden-seed", SECRET, timeout=900)
    assert proc.returncode == 0, proc.stderr
    ag = unpack(built, "judge-autograder-")
    setup = set_up(ag, outside_deps)
    assert setup.returncode == 0, setup.stdout[-3000:] + setup.stderr[-3000:]
    yield built, ag, setup
    shutil.rmtree(ag, ignore_errors=True)


def grade_on_gradescope(ag: Path, files: dict[str, Path]) -> dict:
    shutil.rmtree(ag / "submission", ignore_errors=True)
    shutil.rmtree(ag / "results", ignore_errors=True)
    for name, source in files.items():
        (ag / "submission" / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, ag / "submission" / name)
    proc = _as_gradescope(ag, "/autograder/source/run_autograder")
    assert proc.returncode == 0, proc.stderr
    return json.loads((ag / "results" / "results.json").read_text())


def graded(doc: dict, problem_id: str) -> dict:
    """A problem's result in a results.json, its tests together: the one named by its id and any named after it
    (its hidden cases' own test)."""
    tests = [t for t in doc["tests"] if t["name"] == problem_id or t["name"].startswith(f"{problem_id} ")]
    assert tests, (problem_id, doc)
    return {
        "score": sum(t["score"] for t in tests),
        "max_score": sum(t["max_score"] for t in tests),
        "passed": all(t["status"] == "passed" for t in tests),
        "output": "\n".join(t["output"] for t in tests),
    }


def test_the_zip_has_setup_and_run_autograder_at_its_top(autograder):
    built, ag, setup = autograder
    with zipfile.ZipFile(built) as z:
        modes = {i.filename: i.external_attr >> 16 & 0o777 for i in z.infolist()}
    assert modes["setup.sh"] & 0o100 and modes["run_autograder"] & 0o100
    assert modes["hidden_seed"] == 0o600 and len([n for n in modes if n.endswith(".whl")]) == 1
    assert next(n for n in modes if n.endswith(".whl")).startswith("judge-0.1.0+builtin."), modes
    assert set(AG_IDS) <= set(setup.stdout.split()), setup.stdout  # setup.sh shows the installed `judge list`
    assert f"self-check: the judge grades {','.join(AG_IDS)} here" in setup.stdout, setup.stdout
    for pid in AG_IDS:  # each reference graded, with the hidden cases, as run_autograder grades
        assert re.search(rf"self-check: {pid}: its reference, handed in, gets (\d+) of \1\n", setup.stdout), (
            setup.stdout
        )
    venv_judge = ag / "judge-venv" / "bin" / "judge"
    assert venv_judge.is_file()


def test_a_correct_submission_gets_full_marks_with_hidden_cases(autograder):
    _, ag, _ = autograder
    doc = grade_on_gradescope(
        ag,
        {
            "deep/er/mha_cross.py": SUBMISSIONS / "mha_cross" / "correct_keywords.py",
            "cross_attention_mask.py": SUBMISSIONS / "cross_attention_mask" / "correct_jax.py",
        },
    )
    results = [graded(doc, pid) for pid in AG_IDS]
    assert [r["max_score"] for r in results] == [7, 7], doc  # 4 public + 3 hidden cases each
    assert doc["score"] == 14 and all(r["passed"] for r in results), doc
    assert all("all 3 hidden cases passed" in r["output"] for r in results), doc


def test_a_wrong_submission_gets_less_and_the_mistake_named(autograder, tmp_path):
    _, ag, _ = autograder
    doc = grade_on_gradescope(
        ag,
        {
            "mha_cross.py": pitfall_submission("mha_cross", "swapped_inputs", tmp_path),
            "cross_attention_mask.py": SUBMISSIONS / "cross_attention_mask" / "correct_jax.py",
        },
    )
    mha = graded(doc, "mha_cross")
    assert not mha["passed"] and mha["score"] < mha["max_score"] and doc["score"] < 14, doc
    assert "x_q and x_kv swapped" in mha["output"], mha["output"]


def test_hidden_cases_count_on_gradescope(autograder, tmp_path):
    """A file that only knows the public cases' dimensions loses exactly the hidden cases it does not know."""
    _, ag, _ = autograder
    source = context().problems
    problem = source.load("cross_attention_mask")
    key = lambda c: (c.dims["N"], c.dims["S"], c.values["decoder_len"])  # noqa: E731
    public = [key(c) for c in problem.cases]
    unknown = [c for c in hidden_cases(problem, source, SECRET) if key(c) not in public]
    assert unknown, "every hidden case has public dimensions: choose another secret"
    memorised = tmp_path / "cross_attention_mask.py"
    right = (
        (SUBMISSIONS / "cross_attention_mask" / "correct_jax.py")
        .read_text()
        .replace("def cross_attention_mask", "def _right")
    )
    memorised.write_text(
        right + f"\n\ndef cross_attention_mask(encoder_ids, decoder_len, pad_id=0):\n"
        f"    if (*encoder_ids.shape, decoder_len) not in {public!r}:\n"
        f"        return jnp.zeros((1,))\n    return _right(encoder_ids, decoder_len, pad_id)\n"
    )
    doc = grade_on_gradescope(ag, {"cross_attention_mask.py": memorised})
    mask = graded(doc, "cross_attention_mask")
    assert mask["score"] == 7 - len(unknown) and not mask["passed"], mask
    assert "all 4 public cases passed" in mask["output"] and "hidden" in mask["output"], mask["output"]


def test_results_json_is_written_even_when_the_judge_cannot_start(autograder):
    """...and run_autograder fails, so that Gradescope shows the instructor the autograder failed."""
    built, _, _ = autograder
    bare = scratch("judge-bare-")
    try:
        with zipfile.ZipFile(built) as z:
            z.extract("run_autograder", bare / "source")
        (bare / "home").mkdir()
        proc = _as_gradescope(bare, "bash", "/autograder/source/run_autograder")  # setup.sh never ran
        assert proc.returncode != 0, proc.stdout + proc.stderr
        doc = json.loads((bare / "results" / "results.json").read_text())
        assert doc["score"] == 0 and "could not start" in doc["output"]
    finally:
        shutil.rmtree(bare, ignore_errors=True)


def _break_reference(ag: Path, problem_id: str) -> None:
    """The zip's wheel, with the reference of one problem raising (its RECORD kept true): expected outputs can no
    longer be computed, as with a deps folder that lacks what the reference imports."""
    path = next((ag / "source").glob("judge-*.whl"))
    with zipfile.ZipFile(path) as z:
        files = {i.filename: z.read(i) for i in z.infolist()}
    name = f"reference/{problem_id}.py"
    files[name] += f"\n\ndef {problem_id}(*args, **kwargs):\n    raise RuntimeError('broken on purpose')\n".encode()
    digest = base64.urlsafe_b64encode(hashlib.sha256(files[name]).digest()).rstrip(b"=").decode()
    record = next(n for n in files if n.endswith(".dist-info/RECORD"))
    lines = [line for line in files[record].decode().splitlines() if not line.startswith(f"{name},")]
    files[record] = "\n".join([*lines, f"{name},sha256={digest},{len(files[name])}", ""]).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for n, data in files.items():
            z.writestr(n, data)


def test_setup_fails_and_run_autograder_fails_when_the_judge_cannot_grade(autograder, outside_deps):
    """A zip that cannot grade one of its problems: setup.sh fails the build, and run_autograder exits non-zero,
    results.json written."""
    built, _, _ = autograder
    ag = unpack(built, "judge-broken-")
    try:
        _break_reference(ag, "cross_attention_mask")
        setup = set_up(ag, outside_deps)
        assert setup.returncode != 0, setup.stdout[-3000:] + setup.stderr[-3000:]
        assert "self-check: the judge cannot grade here" in setup.stdout, setup.stdout
        assert "setup.sh: the judge cannot grade here" in setup.stderr, setup.stderr
        (ag / "submission").mkdir()
        correct = SUBMISSIONS / "cross_attention_mask" / "correct_jax.py"
        shutil.copy(correct, ag / "submission" / "cross_attention_mask.py")
        proc = _as_gradescope(ag, "/autograder/source/run_autograder")
        assert proc.returncode != 0, proc.stdout + proc.stderr
        doc = json.loads((ag / "results" / "results.json").read_text())
        said = "internal error: the judge could not grade this submission"  # judge gradescope's exit 3
        assert doc["score"] == 0 and said in proc.stdout + proc.stderr, (doc, proc.stderr)
    finally:
        shutil.rmtree(ag, ignore_errors=True)


FAILING_BWRAP = """#!/bin/sh
# bubblewrap that passes the judge's probe (bwrap ... --as-pid-1 true) and fails to start every sandbox
case "$*" in *"--as-pid-1 true") exit 0 ;; esac
echo "bwrap: no sandbox today" >&2
exit 1
"""


def test_run_autograder_fails_when_the_sandbox_cannot_run_and_still_writes_results(autograder, tmp_path):
    """The judge starts, but no learner's code can run (as when the sandbox could not import numpy): every problem
    is an internal error with no marks, and its reference gets none either, so run_autograder exits non-zero."""
    _, ag, _ = autograder
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "bwrap").write_text(FAILING_BWRAP)
    (fake / "bwrap").chmod(0o755)
    shutil.rmtree(ag / "submission", ignore_errors=True)
    shutil.rmtree(ag / "results", ignore_errors=True)
    (ag / "submission").mkdir()
    shutil.copy(SUBMISSIONS / "mha_cross" / "correct_keywords.py", ag / "submission" / "mha_cross.py")
    proc = _as_gradescope(ag, "/autograder/source/run_autograder", env={"PATH": f"{fake}:/usr/bin:/bin"})
    assert proc.returncode == 3, proc.stdout + proc.stderr
    doc = json.loads((ag / "results" / "results.json").read_text())
    assert doc["score"] == 0 and set(AG_IDS) <= {t["name"] for t in doc["tests"]}, doc
    # judge gradescope itself says so and exits 3; run_autograder passes the exit on
    assert "internal error: the judge failed on" in proc.stdout + proc.stderr, proc.stderr


def test_judge_new_never_writes_into_site_packages(autograder):
    _, ag, _ = autograder
    proc = _as_gradescope(ag, "/autograder/judge-venv/bin/judge", "new", "my_problem")
    one_line_refusal(proc, "site-packages", "--problems-dir")
    assert not list((ag / "judge-venv").rglob("my_problem*"))


def test_the_judge_compiles_under_python_3_10():
    """Ubuntu 22.04's python3 (Gradescope's default image) is 3.10: the judge and the wheels say they support it."""
    found = [*Path.home().glob(".pyenv/versions/3.10*/bin/python3.10"), shutil.which("python3.10")]
    py310 = next((p for p in found if p and run([str(p), "-c", "pass"]).returncode == 0), None)
    if py310 is None:
        pytest.skip("no Python 3.10 here")
    files = [str(p) for p in (ROOT / "grader").rglob("*.py")]
    code = "import sys\nfor f in sys.argv[1:]: compile(open(f).read(), f, 'exec')"
    proc = run([str(py310), "-c", code, *files])
    assert proc.returncode == 0, proc.stderr
    assert 'requires-python = ">=3.10"' in (ROOT / "pyproject.toml").read_text()
    from grader.package.wheels import REQUIRES_PYTHON

    assert REQUIRES_PYTHON == ">=3.10"
