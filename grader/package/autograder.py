"""`judge autograder`: a Gradescope autograder zip: setup.sh and run_autograder at its top, and a wheel of the
judge with the chosen problems and their references and mistakes, as the built-in set (instructors only).

Both scripts check that grading works, not only that the judge starts: setup.sh grades each problem's
reference, handed in as a learner's file, as run_autograder grades (the sandbox, the hidden cases), and fails
the build unless each gets marks on each of its tests; run_autograder exits non-zero when the judge failed (it
exited non-zero, left no results, or a problem got no marks and its reference, graded the same way, gets none
either), after leaving results.json, so that Gradescope shows the instructor the failure. Both read the
results' numbers only, never the feedback's words.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

from grader.context import Context
from grader.model.errors import UsageError
from grader.package.contents import packaged_ids, stamp, problem_files, require_checked
from grader.package.wheels import SHOWN, engine_files, package_version, utc, wheel, zip_bytes
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
    course, when = stamp(source, ids)
    summary = f"judge, with {course}'s problems and their references ({utc(when, SHOWN)}; instructors only)"
    return wheel(files, summary, package_version(course, files, when))


# What a results.json says in numbers (never in its feedback's words, which are for people), read with the
# standard library alone: each problem's first test is named by its id (its hidden cases may have their own).

# Whether the references graded into a results.json (argv[1]) show that grading works: a test at least per
# problem (argv[2]: the ids, comma-separated), and marks on every test. A test short of full marks is told (a
# case past its time limit on a busy machine, say) but fails nothing: no marks at all, or no test, is what a
# judge that cannot grade gives.
GRADED_PY = """import json, sys
path, ids = sys.argv[1], sys.argv[2].split(",")
try:
    tests = json.load(open(path))["tests"]
except (OSError, ValueError, KeyError, TypeError) as e:
    sys.exit(f"self-check: the judge left no results ({e!r})")
missing = sorted(set(ids) - {t["name"] for t in tests})
ok = not missing
if missing:
    print(f"self-check: no result for {', '.join(missing)}", file=sys.stderr)
for t in tests:
    said = f"self-check: {t['name']}: its reference, handed in, gets {t['score']} of {t['max_score']}"
    if t["max_score"] > 0 and t["score"] == t["max_score"]:
        print(said)
        continue
    ok = ok and t["score"] > 0
    print(said + ":", t["output"], sep="\\n", file=sys.stderr)
print(f"self-check: the judge grades {','.join(ids)} here" if ok else "self-check: the judge cannot grade here")
sys.exit(0 if ok else 1)
"""

# The problems (argv[2]) whose test in a results.json (argv[1]) has no marks, comma-separated; exit 1 when a
# problem has no test, as when the judge could not grade at all.
ZEROS_PY = """import json, sys
path, ids = sys.argv[1], sys.argv[2].split(",")
tests = {t["name"]: t for t in json.load(open(path))["tests"]}
if not set(tests) >= set(ids):
    sys.exit(1)
print(",".join(pid for pid in ids if tests[pid]["score"] == 0))
"""

SELF_CHECK = """# self_check IDS: grades each problem's reference, handed in as a learner's file, as run_autograder
# grades (the sandbox, the hidden cases), at whatever sandbox level works here; true when each gets marks.
self_check() {{
    local dir site status
    dir="$(mktemp -d)"
    site="$("$VENV/bin/python" -I -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" || return 1
    mkdir "$dir/submission"
    for id in ${{1//,/ }}; do
        cp "$site/reference/$id.py" "$dir/submission/$id.py" || return 1
    done
    "$VENV/bin/judge" gradescope --problems "$1" --submission-dir "$dir/submission" \\
        --results "$dir/results.json" --allow-weak-sandbox
    status=$?
    "$VENV/bin/python" -I - "$dir/results.json" "$1" <<'EOF' || status=1
{graded}EOF
    rm -rf "$dir"
    return "$status"
}}
"""

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, in /autograder/source, while it builds the image.
# It installs bubblewrap and the judge with its course problems from the wheel next to it, then checks that
# grading works here: each problem's reference, graded as run_autograder grades, must get marks.
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
{self_check}
if [ -f {secret} ]; then
    JUDGE_HIDDEN_SEED="$(cat {secret})"
    export JUDGE_HIDDEN_SEED
fi
if ! self_check {ids}; then
    echo "setup.sh: the judge cannot grade here (above: what it said); every student would get no marks" >&2
    exit 1
fi
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for each submission (files in /autograder/submission, any depth).
# It always leaves /autograder/results/results.json, even when the judge cannot start, and exits non-zero
# when the judge could not grade (Gradescope then shows the instructor that the autograder failed): when
# `judge gradescope` fails or leaves no results, or when a problem got no marks and its own reference,
# graded the same way, gets none either (the judge's failure, not the learner's).
VENV={venv}
RESULTS=/autograder/results/results.json
SECRET=/autograder/source/{secret}
if [ -f "$SECRET" ]; then
    JUDGE_HIDDEN_SEED="$(cat "$SECRET")"
    export JUDGE_HIDDEN_SEED
fi
{self_check}
"$VENV/bin/judge" gradescope --problems {ids} --submission-dir /autograder/submission --results "$RESULTS"
STATUS=$?
if [ ! -s "$RESULTS" ]; then
    mkdir -p "$(dirname "$RESULTS")"
    echo '{{"score": 0, "output": "The autograder could not start; tell your instructor.", "tests": []}}' >"$RESULTS"
    [ "$STATUS" -ne 0 ] || STATUS=3
fi
if [ "$STATUS" -eq 0 ]; then
    if ! ZEROS="$("$VENV/bin/python" -I - "$RESULTS" {ids} <<'EOF'
{zeros}EOF
)"; then
        echo "run_autograder: the judge did not grade every problem" >&2
        STATUS=3
    elif [ -n "$ZEROS" ] && ! self_check "$ZEROS"; then
        echo "run_autograder: no marks for $ZEROS, and the judge cannot grade a reference of those either" >&2
        STATUS=3
    fi
fi
exit "$STATUS"
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
    listed, check = ",".join(ids), SELF_CHECK.format(graded=GRADED_PY)
    files = {
        "setup.sh": SETUP_SH.format(venv=VENV, wheel=name, secret=SECRET_FILE, ids=listed, self_check=check).encode(),
        "run_autograder": RUN_AUTOGRADER.format(
            venv=VENV, ids=listed, secret=SECRET_FILE, self_check=check, zeros=ZEROS_PY
        ).encode(),
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
