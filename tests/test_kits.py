"""Kits in a learner's venv: a newer kit of a course updates it in place, another course's kit replaces it.

Every kit is the `judge` distribution (the `judge` command, the `grader` and `problems` packages exist once
per venv), versioned `0.1.0+<course>.<date>.g<digest>`: pip installs any kit whose version differs from the
one installed, so a changed kit is never "already installed". Two courses cannot share a venv, since both
would own the same files: the second course's kit replaces the first cleanly (pip says it uninstalls the
first, by a version that names its course), never leaving a mix of both. The venvs take the judge's
dependencies through a `.pth` line, as tests/test_courses.py's kit venv does, and pip from there.
"""

import json
import os
import shutil
import sys
from pathlib import Path

import pytest
from conftest import deps_site, in_own_words, judge, run, scratch
from packaging.version import Version


# A learner's venv sees nothing of the tester's environment that picks modules (PYTHONPATH).
KIT_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


def released(tmp: Path, course: str, ids: list[str], kit: str) -> Path:
    """A kit of the set `tmp/course` holding `ids` (made with `judge new` where missing): its wheel."""
    for pid in ids:
        if not (tmp / course / "problems" / pid).is_dir():
            proc = judge("--problems-dir", str(tmp / course), "new", pid)
            assert proc.returncode == 0, proc.stderr
            in_own_words(tmp / course, pid)
    proc = judge("--problems-dir", str(tmp / course), "release", str(tmp / kit), timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return next((tmp / kit).glob("*.whl"))


@pytest.fixture(scope="module")
def kits(tmp_path_factory):
    """Course alpha's first kit (double_it), its next (double_it and halve_it), and course beta's (triple_it)."""
    tmp = tmp_path_factory.mktemp("kits")
    first = released(tmp, "alpha", ["double_it"], "alpha-1")
    second = released(tmp, "alpha", ["double_it", "halve_it"], "alpha-2")
    other = released(tmp, "beta", ["triple_it"], "beta-1")
    return {"first": first, "second": second, "other": other, "sets": tmp}


@pytest.fixture
def venv():
    """A fresh venv without pip of its own: pip and the judge's dependencies come through a .pth line."""
    home = scratch("judge-kits-")
    run([sys.executable, "-m", "venv", "--without-pip", str(home / "venv")], check=True)
    python = home / "venv" / "bin" / "python"
    purelib = run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], check=True)
    Path(purelib.stdout.strip(), "offline-deps.pth").write_text(deps_site() + "\n")
    (home / "work").mkdir()
    yield home
    shutil.rmtree(home, ignore_errors=True)


def pip_install(home: Path, wheel: Path):
    proc = run([str(home / "venv" / "bin" / "python"), "-m", "pip", "install", "--no-index", str(wheel)], env=KIT_ENV)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "already installed" not in proc.stdout + proc.stderr, proc.stdout
    return proc


def installed(home: Path) -> tuple[list[str], str, dict]:
    """What the venv's `judge list` shows, the installed kit's version, and its kit.json."""
    proc = run([str(home / "venv" / "bin" / "judge"), "list"], cwd=home / "work", env=KIT_ENV)
    assert proc.returncode == 0, proc.stderr
    code = "import importlib.metadata as m, problems, pathlib, sys; print(m.version('judge'));"
    code += "print(pathlib.Path(problems.__file__).with_name('kit.json').read_text())"
    meta = run([str(home / "venv" / "bin" / "python"), "-c", code], cwd=home / "work", env=KIT_ENV)
    assert meta.returncode == 0, meta.stderr
    version, kit = meta.stdout.split("\n", 1)
    return [line.split()[0] for line in proc.stdout.splitlines()], version, json.loads(kit)


def version_of(wheel: Path) -> str:
    return wheel.name.split("-")[1]


def test_a_kit_says_its_course_and_date_in_its_version(kits):
    first, second, other = (version_of(kits[k]) for k in ("first", "second", "other"))
    assert first.startswith("0.1.0+alpha.") and other.startswith("0.1.0+beta."), (first, other)
    date = first.split(".")[3]
    assert len(date) == 14 and date.isdigit(), first  # yyyymmddhhmmss
    assert Version(second) > Version(first), (first, second)  # made later: sorts after, as pip reads it
    readme = (kits["first"].parent / "README.md").read_text()
    assert first in readme and "alpha" in readme, readme


def test_a_newer_kit_of_a_course_updates_it_in_place(kits, venv):
    pip_install(venv, kits["first"])
    ids, version, kit = installed(venv)
    assert ids == ["double_it"] and version == version_of(kits["first"]), (ids, version)
    proc = pip_install(venv, kits["second"])
    assert f"Successfully uninstalled judge-{version_of(kits['first'])}" in proc.stdout, proc.stdout
    ids, version, kit = installed(venv)
    assert ids == ["double_it", "halve_it"], ids
    assert version == version_of(kits["second"]) and kit["version"] == version and kit["course"] == "alpha", kit
    assert kit["problems"] == ["double_it", "halve_it"], kit


def test_another_courses_kit_replaces_the_first_and_leaves_nothing_of_it(kits, venv):
    pip_install(venv, kits["first"])
    proc = pip_install(venv, kits["other"])
    assert f"Successfully uninstalled judge-{version_of(kits['first'])}" in proc.stdout, proc.stdout
    ids, version, kit = installed(venv)
    assert ids == ["triple_it"] and kit["course"] == "beta" and version == version_of(kits["other"]), (ids, kit)
    purelib = next((venv / "venv" / "lib").glob("python*/site-packages"))
    assert not (purelib / "problems" / "double_it").exists()
    assert [p.name for p in purelib.glob("judge-*.dist-info")] == [f"judge-{version}.dist-info"]
    reference = kits["sets"] / "beta" / "reference" / "triple_it.py"  # the kit that replaced grades
    judge_run = [str(venv / "venv" / "bin" / "judge"), "run", "triple_it", "--file", str(reference)]
    proc = run(judge_run, cwd=venv / "work", env=KIT_ENV)
    assert proc.returncode == 0, proc.stdout + proc.stderr
