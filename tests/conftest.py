import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest

from grader.context import Context
from grader.sandbox.policy import bwrap_available
from grader.sets.answers import load_module
from grader.sets.store import ROOT as INSTALLED
from grader.sets.store import SourceSet

ROOT = Path(__file__).resolve().parent.parent
assert ROOT == INSTALLED  # the tests grade the checkout's own problems
SUBMISSIONS = ROOT / "tests" / "submissions"
HOSTILE = ROOT / "tests" / "hostile"
KIT_IDS = ("mha_cross", "cross_attention_block")  # the problems of the learner kit that `kit` releases


def pytest_addoption(parser):
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="tests/test_golden.py: rewrite the golden folders' expected.json and expected.txt from the judge's output",
    )


@pytest.hookimpl(tryfirst=True)  # before xdist's own, which reads the groups
def pytest_collection_modifyitems(items):
    """`pytest -n 2 --dist loadgroup` (pyproject.toml): the suite runs on two workers, a file's tests on one (they
    mostly grade the same problems, and each worker has a cache of its own: split, both would compute and compile
    the same outputs), and every test that needs the learner kit on the same one, so that the kit is released once
    (tests/test_golden.py grades some folders with it)."""
    for item in items:
        uses_kit = {"kit", "kit_venv"} & set(getattr(item, "fixturenames", ())) or item.path.name == "test_golden.py"
        item.add_marker(pytest.mark.xdist_group("kit" if uses_kit else item.path.name))


def strong_level() -> str:
    """The bwrap level; CI installs bubblewrap, so only a laptop may skip these tests."""
    if not bwrap_available():
        if os.environ.get("CI"):
            pytest.fail("bubblewrap is not usable in CI: the strong sandbox must be tested")
        pytest.skip("bubblewrap is not usable here")
    return "bwrap"


@pytest.fixture(scope="session", autouse=True)
def private_cache(tmp_path_factory):
    """Every test session computes expected outputs afresh, in its own cache."""
    os.environ["JUDGE_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="session", autouse=True)
def private_progress(tmp_path_factory):
    """`judge run` records progress: the tests' runs go to a folder of their own, not the user's."""
    os.environ["JUDGE_DATA_DIR"] = str(tmp_path_factory.mktemp("data"))


def context(root: Path | None = None, sandbox: str = "auto") -> Context:
    """The context a test grades in: the built-in set (or the set at `root`), the session's private cache."""
    built_in = Context.from_environment(sandbox=sandbox)
    return built_in if root is None else Context(SourceSet(root, built_in.cache), built_in.cache, sandbox)


@pytest.fixture
def scratch_set(tmp_path):
    """A set holding a copy of cross_attention_mask and its reference, to break on purpose: (its context, the
    problem's folder)."""
    for part in ("problems", "reference/pitfalls"):
        (tmp_path / part).mkdir(parents=True, exist_ok=True)
    shutil.copytree(ROOT / "problems" / "cross_attention_mask", tmp_path / "problems" / "cross_attention_mask")
    for rel in ("reference/cross_attention_mask.py", "reference/pitfalls/cross_attention_mask.py"):
        shutil.copyfile(ROOT / rel, tmp_path / rel)
    with context(tmp_path) as ctx:
        yield ctx, tmp_path / "problems" / "cross_attention_mask"


def in_own_words(course: Path, problem_id: str) -> None:
    """What an instructor does after `judge new`: the scaffold's stand-in texts replaced by their own (`judge
    check`, and so `release` and `autograder`, refuse a problem that still holds one)."""
    from grader.authoring.scaffold import PLACEHOLDERS

    folder = course / "problems" / problem_id
    for name in ("spec.md", "hints.json"):
        text = (folder / name).read_text()
        for placeholder in PLACEHOLDERS:
            text = text.replace(placeholder, "In the instructor's own words")
        (folder / name).write_text(text)


def judge_command() -> list[str]:
    """The console script installed with the interpreter running the tests (never another on PATH)."""
    script = Path(sys.executable).with_name("judge")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "grader"]


def judge(
    *args: str, cwd: Path | None = None, timeout: float = 300, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Run the real console script (in this environment, or in `env`)."""
    return subprocess.run(
        judge_command() + list(args), capture_output=True, text=True, timeout=timeout, cwd=cwd, env=env
    )


def judge_json(*args: str, **kw) -> tuple[int, dict]:
    """Run `judge ... --json` and check that stdout is exactly one JSON document."""
    proc = judge(*args, "--json", **kw)
    doc = json.loads(proc.stdout)  # raises on anything but exactly one document
    assert isinstance(doc, dict), proc.stdout[:500]
    return proc.returncode, doc


def pitfall_submission(problem_id: str, name: str, folder: Path) -> Path:
    """A learner file that makes exactly the pitfall's mistake, built from its declaration."""
    import inspect

    ctx = context()
    problem = ctx.problems.load(problem_id)
    ref = load_module(ctx.problems.reference_path(problem_id), ctx.cache)
    sig = inspect.signature(getattr(ref, problem.meta.function))
    call = ", ".join(sig.parameters)
    source = ctx.problems.pitfalls_path(problem_id).read_text()
    source += f"\n\ndef {problem.meta.function}{sig}:\n    return PITFALLS[{name!r}][1]({call})\n"
    path = folder / f"{problem_id}.py"
    path.write_text(source)
    return path


def descendants() -> dict[int, Path]:
    """This process's processes below it: the zygote, keepers, learners and all they started."""
    parents = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                parents[int(d.name)] = int((d / "stat").read_bytes().rsplit(b")", 1)[1].split()[1])
            except (OSError, IndexError):
                pass
    found, todo = {}, [os.getpid()]
    while todo:
        pid = todo.pop()
        for child, parent in parents.items():
            if parent == pid and child not in found:
                found[child] = Path(f"/proc/{child}")
                todo.append(child)
    return found


class Sampler:
    """The most a measure reached while something ran, sampled from outside the sandbox every `every` s; a
    measure that returns a tuple gets the most of each of its values."""

    def __init__(self, measure, every=0.02):
        self.measure, self.every, self.peak = measure, every, None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while True:
            value = self.measure()
            if self.peak is None:
                self.peak = value
            elif isinstance(value, tuple):
                self.peak = tuple(map(max, self.peak, value))
            else:
                self.peak = max(self.peak, value)
            if self._stop.wait(self.every):
                return

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


# ---------------------------------------------------------------- the learner kit, released once per session
# (tests/test_courses.py checks the kit and says how the venv is made; tests/test_golden.py grades with its `judge`)


def deps_site() -> str:
    import jax

    return str(Path(jax.__file__).resolve().parent.parent)


def scratch(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=prefix, dir="/var/tmp"))


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kw)


@pytest.fixture(scope="session")
def kit(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("release") / "kit"
    # From a fresh cache, as test_a_release_is_reproducible's second release: the session's cache holds outputs that
    # tests computed in their own process, where JAX may have started before the judge's XLA settings (their last
    # bits differ), and which tests ran first in this worker depends on how the suite was split.
    fresh = {**os.environ, "JUDGE_CACHE_DIR": str(tmp_path_factory.mktemp("release-cache"))}
    proc = judge("release", str(out), "--problems", ",".join(KIT_IDS), timeout=900, env=fresh)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


@pytest.fixture(scope="session")
def kit_venv(kit):
    home = scratch("judge-kit-")
    venv = home / "venv"
    run([sys.executable, "-m", "venv", str(venv)], check=True)
    purelib = run(
        [str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], check=True
    ).stdout.strip()
    Path(purelib, "offline-deps.pth").write_text(deps_site() + "\n")
    wheel = next(kit.glob("*.whl"))
    proc = run([str(venv / "bin" / "python"), "-m", "pip", "install", "--no-index", str(wheel)])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (home / "work").mkdir()
    yield venv, Path(purelib), home / "work"
    shutil.rmtree(home, ignore_errors=True)
