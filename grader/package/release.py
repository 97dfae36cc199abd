"""`judge release` (a learner kit: one wheel, no answers in it) and `judge autograder` (a Gradescope zip).

Both package the active problem set's chosen problems with the engine (`grader`) into a wheel written
byte by byte by grader/wheels.py (fixed order and dates: the same set gives the same wheel):

- a kit has the problem folders' public files and, per problem, the expected outputs of its public cases
  and each known mistake's outputs on them (`released.npz`, plain arrays), with the mistakes' names and
  sentences (`released.json`); no reference or mistake code in any form;
- an autograder's wheel has the problems with their references and mistakes, as the built-in set.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from grader.sets import store as problem_set
from grader.sets import problems
from grader.model.errors import ProblemError, UnknownProblem, UsageError
from grader.package.wheels import REQUIRES_PYTHON as REQUIRES_PYTHON  # tests read it from here
from grader.package.wheels import engine_files, wheel, zip_bytes

NOT_SHIPPED = {"__pycache__", problem_set.KIT_DATA, problem_set.KIT_INFO, problem_set.KIT_MARKER}
VENV = "/autograder/judge-venv"
SECRET_FILE = "hidden_seed"


# ---------------------------------------------------------------- choosing and checking problems


def chosen_ids(ids: list[str] | None) -> list[str]:
    """The problems to package: all of the active set's by default; an unknown id is a usage error."""
    source = problem_set.active()
    if source.kit:
        raise UsageError("this is a learner kit: releasing needs the instructor's install of the judge")
    valid = source.problem_ids()
    if not valid:
        raise UsageError(f"the problem set {source.problems_dir.parent} has no problems")
    for pid in ids or []:
        if pid not in valid:
            raise UnknownProblem(pid, valid)
    return list(dict.fromkeys(ids)) if ids else valid


def require_checked(ids: list[str], sandbox: str, hidden_seed: str | None = None) -> None:
    """Refuse a set whose problems fail `judge check` (or whose hidden cases cannot be drawn).

    The hidden-case survey over many secrets is left out (secrets=0): a kit has no hidden cases, and the
    autograder's own secret is drawn below, where every hidden case must catch every known mistake.
    """
    from grader.authoring.check import check_problem

    for pid in ids:
        for name, ok, detail in check_problem(pid, sandbox=sandbox, secrets=0):
            if not ok:
                raise UsageError(
                    f"problem {pid!r} fails `judge check {pid}`: {name}" + (f" ({detail})" if detail else "")
                )
        if hidden_seed:
            try:
                problems.hidden_cases(problems.load_problem(pid), hidden_seed)
            except ProblemError as e:
                raise UsageError(f"problem {pid!r} cannot have hidden cases: {e}") from None


def public_files(folder: Path) -> list[Path]:
    """Every file of a problem folder that learners may see: all of it but caches and the kit's own data."""
    out = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if any(part in NOT_SHIPPED or part.startswith(".") for part in rel.parts) or path.suffix == ".pyc":
            continue
        if path.is_symlink():
            raise UsageError(f"{path} is a symbolic link: a problem folder ships plain files only")
        if path.is_file():
            out.append(path)
    return out


def _secret_lines(problem: problems.Problem) -> set[str]:
    """Lines of the reference and mistake modules that say something (the stub's own lines are public)."""
    public = {line.strip() for line in problem.stub_path.read_text().splitlines()}
    lines = set()
    for path in (problem.reference_path, problems.pitfalls_path(problem)):
        if path.is_file():
            lines |= {s for line in path.read_text().splitlines() if len(s := line.strip()) >= 20 and s not in public}
    return lines


def _refuse_leaks(problem: problems.Problem, files: list[Path]) -> None:
    secret = _secret_lines(problem)
    for path in files:
        text = path.read_bytes().decode("utf-8", "replace")
        for line in text.splitlines():
            if line.strip() in secret:
                raise UsageError(
                    f"{path} contains a line of the reference or its mistakes ({line.strip()[:60]!r}); "
                    "answers belong in reference/, not in the problem folder"
                )


# ---------------------------------------------------------------- what a kit precomputes


def _npy(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(arr), allow_pickle=False)
    return buf.getvalue()


def kit_data(problem: problems.Problem) -> tuple[bytes, bytes]:
    """`released.npz` and `released.json` of a problem: its public cases' expected and mistakes' outputs."""
    arrays: dict[str, np.ndarray] = {}
    sentences = problems.pitfall_messages(problem)
    cases = []
    for case in problem.cases:
        key = problem_set.case_key(case)
        inputs = problems.make_inputs(problem.meta, case)
        arrays[f"expected/{key}"] = problems.expected_output(problem, case, inputs)
        for name in sentences:
            out = problems.pitfall_output(problem, name, case, inputs)
            if out is not None:
                arrays[f"pitfall/{name}/{key}"] = out
        cases.append({"name": case.name, "key": key})
    files = {f"{k}.npy": _npy(v) for k, v in arrays.items()}
    info = {
        "problem": problem.id,
        "version": problem.meta.version,
        "cases": cases,
        "pitfalls": [{"name": n, "sentence": s} for n, s in sentences.items()],
    }
    return zip_bytes(files, zipfile.ZIP_DEFLATED), (json.dumps(info, indent=1) + "\n").encode()


# ---------------------------------------------------------------- the wheels of a kit and of an autograder


def _problem_files(problem: problems.Problem) -> dict[str, bytes]:
    shipped = public_files(problem.folder)
    _refuse_leaks(problem, shipped)
    return {f"problems/{problem.id}/{p.relative_to(problem.folder).as_posix()}": p.read_bytes() for p in shipped}


def kit_wheel(ids: list[str]) -> tuple[str, bytes]:
    files = {
        **engine_files(),
        "problems/__init__.py": b"",
        f"problems/{problem_set.KIT_MARKER}": (json.dumps({"problems": ids}) + "\n").encode(),
    }
    for pid in ids:
        problem = problems.load_problem(pid)
        files.update(_problem_files(problem))
        data, info = kit_data(problem)
        files[f"problems/{pid}/{problem_set.KIT_DATA}"] = data
        files[f"problems/{pid}/{problem_set.KIT_INFO}"] = info
    return wheel(files, "judge, a learner kit: practice problems without their answers")


def full_wheel(ids: list[str]) -> tuple[str, bytes]:
    files = {
        **engine_files(),
        "problems/__init__.py": b"",
        "reference/__init__.py": b"",
        "reference/pitfalls/__init__.py": b"",
    }
    for pid in ids:
        problem = problems.load_problem(pid)
        files.update(_problem_files(problem))
        files[f"reference/{pid}.py"] = problem.reference_path.read_bytes()
        pitfalls = problems.pitfalls_path(problem)
        if pitfalls.is_file():
            files[f"reference/pitfalls/{pid}.py"] = pitfalls.read_bytes()
    return wheel(files, "judge, with a course's problems and their references (instructors only)")


# ---------------------------------------------------------------- the commands


STUDENT_README = """# Practice problems

Install once, in a fresh virtual environment (Python 3.10 or newer, Linux or macOS):

```sh
python3 -m venv judge-env && . judge-env/bin/activate
pip install {wheel}
```

Then, for each problem:

```sh
judge list              # the problems
judge show ID           # the task
judge init ID           # writes the stub ./ID.py to fill in
judge run ID            # grades ./ID.py on the public cases, says where an answer is wrong
```

On Linux, `sudo apt-get install bubblewrap` lets the judge run your code in a stronger sandbox.
Your instructor may grade on more cases than these.
"""


def _fresh_out_dir(out_dir: Path) -> None:
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise UsageError(f"{out_dir} exists and is not an empty folder; choose a new one")
    if not out_dir.parent.is_dir():
        raise UsageError(f"no such folder: {out_dir.parent}")


def release(out_dir: Path, ids: list[str] | None = None, *, sandbox: str = "auto") -> Path:
    """Write a learner kit: OUT_DIR holds exactly one wheel and a README; return the wheel's path."""
    out_dir = Path(out_dir)
    _fresh_out_dir(out_dir)
    ids = chosen_ids(ids)
    require_checked(ids, sandbox)
    name, data = kit_wheel(ids)
    tmp = Path(tempfile.mkdtemp(prefix=".judge-release-", dir=out_dir.parent))
    try:  # written aside, then moved into place: an interrupted release leaves nothing half-written
        (tmp / name).write_bytes(data)
        (tmp / "README.md").write_text(STUDENT_README.format(wheel=name))
        umask = os.umask(0)
        os.umask(umask)
        tmp.chmod(0o777 & ~umask)  # mkdtemp's folder is private; a kit is not
        if out_dir.exists():
            out_dir.rmdir()
        os.rename(tmp, out_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out_dir / name


SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, in /autograder/source, while it builds the image.
# It installs bubblewrap and the judge with its course problems from the wheel next to it.
# JUDGE_SETUP_DEPS=DIR (for testing the zip offline): no apt-get and no download; the judge's
# dependencies come from DIR, a site-packages folder that already holds them.
set -euo pipefail
cd "$(dirname "$0")"
VENV={venv}
if [ -z "${{JUDGE_SETUP_DEPS:-}}" ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y --no-install-recommends bubblewrap python3 python3-pip python3-venv
    python3 -m venv "$VENV"
    "$VENV/bin/python" -m pip install --upgrade pip
    "$VENV/bin/python" -m pip install ./{wheel}
else
    "${{JUDGE_PYTHON:-python3}}" -m venv "$VENV"
    SITE="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
    echo "$JUDGE_SETUP_DEPS" > "$SITE/offline-deps.pth"  # not judge*.pth: the sandbox hides those
    "$VENV/bin/python" -m pip install --no-index ./{wheel}
fi
[ ! -f {secret} ] || chmod 600 {secret}
"$VENV/bin/judge" list
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for each submission (files in /autograder/submission, any depth).
# It always leaves /autograder/results/results.json, even when the judge cannot start.
RESULTS=/autograder/results/results.json
SECRET=/autograder/source/{secret}
if [ -f "$SECRET" ]; then
    JUDGE_HIDDEN_SEED="$(cat "$SECRET")"
    export JUDGE_HIDDEN_SEED
fi
{venv}/bin/judge gradescope --problems {ids} --submission-dir /autograder/submission --results "$RESULTS"
if [ ! -s "$RESULTS" ]; then
    mkdir -p "$(dirname "$RESULTS")"
    echo '{{"score": 0, "output": "The autograder could not start; tell your instructor.", "tests": []}}' >"$RESULTS"
fi
"""


def autograder(
    out_zip: Path, ids: list[str] | None = None, *, hidden_seed: str | None = None, sandbox: str = "auto"
) -> Path:
    """Write a Gradescope autograder zip: setup.sh and run_autograder at its top, the judge's wheel beside them."""
    out_zip = Path(out_zip)
    if out_zip.suffix != ".zip":
        raise UsageError(f"{out_zip}: the autograder must be a .zip file")
    if out_zip.exists():
        raise UsageError(f"{out_zip} exists; not overwriting it")
    if not out_zip.parent.is_dir():
        raise UsageError(f"no such folder: {out_zip.parent}")
    ids = chosen_ids(ids)
    require_checked(ids, sandbox, hidden_seed)
    name, data = full_wheel(ids)
    files = {
        "setup.sh": SETUP_SH.format(venv=VENV, wheel=name, secret=SECRET_FILE).encode(),
        "run_autograder": RUN_AUTOGRADER.format(venv=VENV, ids=",".join(ids), secret=SECRET_FILE).encode(),
        name: data,
    }
    modes = {"setup.sh": 0o755, "run_autograder": 0o755}
    if hidden_seed:
        files[SECRET_FILE] = hidden_seed.encode()
        modes[SECRET_FILE] = 0o600
    tmp = out_zip.with_name(f".{out_zip.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(zip_bytes(files, zipfile.ZIP_DEFLATED, modes))
        os.replace(tmp, out_zip)
    finally:
        tmp.unlink(missing_ok=True)
    return out_zip
