"""What a package of a set says of itself (its version), and what the autograder's scripts read of a results.json:
no judge started, no sandbox."""

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from packaging.version import Version

from grader.package import autograder, wheels

FILES = {"grader/__init__.py": b"", "problems/a/problem.json": b"{}"}


def test_a_version_names_the_course_the_date_and_the_contents():
    v = wheels.package_version("DL-101 (2025)", FILES, 1767225600)  # 2026-01-01 00:00:00 UTC
    assert v.startswith("0.1.0+dl1012025.20260101000000.g"), v
    assert str(Version(v)) == v  # already in PEP 440's normal form: pip and the file name agree
    assert wheels.package_version("DL-101 (2025)", FILES, 1767225600) == v  # the same files, the same version
    changed = wheels.package_version("DL-101 (2025)", {**FILES, "problems/b/problem.json": b"{}"}, 1767225600)
    assert changed != v  # different contents never share a version, whatever the dates
    assert Version(wheels.package_version("DL-101 (2025)", FILES, 1767225601)) > Version(v)  # later sorts after


@pytest.mark.parametrize("name, label", [("course", "course"), ("2025", "set2025"), ("007", "set007"), ("--", "set")])
def test_a_course_label_is_never_read_as_a_number(name, label):
    assert wheels.course_label(name) == label
    assert str(Version(f"0.1.0+{label}.1")) == f"0.1.0+{label}.1"


def test_a_package_is_dated_by_its_newest_file_not_by_the_clock(tmp_path):
    for name, when in (("old", 1767225600), ("new", 1767225700)):
        (tmp_path / name).write_text("")
        os.utime(tmp_path / name, (when, when))
    assert wheels.made_at([tmp_path / "old", tmp_path / "new"]) == 1767225700


def test_a_wheel_carries_its_version_in_its_name_and_metadata():
    version = wheels.package_version("course", FILES, 1767225600)
    name, data = wheels.wheel(FILES, "a kit", version)
    assert name == f"judge-{version}-py3-none-any.whl"
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        metadata = z.read(f"judge-{version}.dist-info/METADATA").decode()
    assert f"Version: {version}\n" in metadata


# ---------------------------------------------------------------- the autograder's scripts


def script(code: str, doc: dict | None, ids: str, tmp_path: Path) -> subprocess.CompletedProcess:
    path = tmp_path / "results.json"
    if doc is not None:
        path.write_text(json.dumps(doc))
    return subprocess.run(
        [sys.executable, "-I", "-", str(path), ids], input=code, capture_output=True, text=True, timeout=60
    )


def entry(name: str, score: int, max_score: int) -> dict:
    """One test of a results.json."""
    return {"name": name, "score": score, "max_score": max_score, "output": "words for people"}


COULD_NOT_GRADE = {"score": 0, "output": "The autograder could not grade this submission", "tests": []}


@pytest.mark.parametrize(
    "doc, ok",
    [
        ({"tests": [entry("a", 4, 4), entry("a (hidden cases)", 3, 3), entry("b", 4, 4)]}, True),
        ({"tests": [entry("a", 4, 4), entry("a (hidden cases)", 2, 3), entry("b", 4, 4)]}, True),  # a slow case
        ({"tests": [entry("a", 4, 4), entry("a (hidden cases)", 0, 3), entry("b", 4, 4)]}, False),  # no marks
        ({"tests": [entry("a", 4, 4)]}, False),  # b not graded
        (COULD_NOT_GRADE, False),
        (None, False),  # no results.json
    ],
)
def test_the_self_check_asks_marks_on_every_test_of_every_problem(doc, ok, tmp_path):
    proc = script(autograder.GRADED_PY, doc, "a,b", tmp_path)
    assert (proc.returncode == 0) == ok, proc.stdout + proc.stderr
    assert ("the judge grades a,b here" in proc.stdout) == ok, proc.stdout


def test_run_autograder_finds_the_problems_with_no_marks(tmp_path):
    doc = {"tests": [entry("a", 0, 4), entry("a (hidden cases)", 0, 3), entry("b", 1, 4), entry("c", 0, 4)]}
    proc = script(autograder.ZEROS_PY, doc, "a,b,c", tmp_path)
    assert proc.returncode == 0 and proc.stdout.strip() == "a,c", proc.stdout + proc.stderr
    proc = script(autograder.ZEROS_PY, COULD_NOT_GRADE, "a,b,c", tmp_path)
    assert proc.returncode == 1


def test_the_scripts_parse_as_bash():
    check = autograder.SELF_CHECK.format(graded=autograder.GRADED_PY)
    setup = autograder.SETUP_SH.format(venv="/v", wheel="w.whl", secret="s", ids="a,b", self_check=check)
    run = autograder.RUN_AUTOGRADER.format(
        venv="/v", ids="a,b", secret="s", self_check=check, zeros=autograder.ZEROS_PY
    )
    for text in (setup, run):
        proc = subprocess.run(["bash", "-n"], input=text, capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
