"""`judge autograder`: a Gradescope autograder zip: setup.sh and run_autograder at its top, and a wheel of the
judge with the chosen problems and their references and mistakes, as the built-in set (instructors only)."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

from grader.context import Context
from grader.model.errors import UsageError
from grader.package.contents import packaged_ids, problem_files, require_checked
from grader.package.wheels import engine_files, wheel, zip_bytes
from grader.sets.store import ProblemSet

VENV = "/autograder/judge-venv"
SECRET_FILE = "hidden_seed"


def full_wheel(source: ProblemSet, ids: list[str]) -> tuple[str, bytes]:
    files = {
        **engine_files(),
        "problems/__init__.py": b"",
        "reference/__init__.py": b"",
        "reference/pitfalls/__init__.py": b"",
    }
    for pid in ids:
        problem = source.load(pid)
        files.update(problem_files(source, problem))
        files[f"reference/{pid}.py"] = source.reference_path(pid).read_bytes()
        pitfalls = source.pitfalls_path(pid)
        if pitfalls.is_file():
            files[f"reference/pitfalls/{pid}.py"] = pitfalls.read_bytes()
    return wheel(files, "judge, with a course's problems and their references (instructors only)")


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
    context: Context, out_zip: Path, ids: list[str] | None = None, *, hidden_seed: str | None = None
) -> Path:
    """Write a Gradescope autograder zip: setup.sh and run_autograder at its top, the judge's wheel beside them."""
    out_zip = Path(out_zip)
    if out_zip.suffix != ".zip":
        raise UsageError(f"{out_zip}: the autograder must be a .zip file")
    if out_zip.exists():
        raise UsageError(f"{out_zip} exists; not overwriting it")
    if not out_zip.parent.is_dir():
        raise UsageError(f"no such folder: {out_zip.parent}")
    ids = packaged_ids(context, ids)
    require_checked(context, ids, hidden_seed)
    name, data = full_wheel(context.problems, ids)
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
