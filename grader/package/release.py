"""`judge release`: a learner kit, one wheel with the chosen problems and no answers in it.

The wheel (grader/package/wheels.py: fixed order and dates, so the same set gives the same wheel) has the
engine (`grader`), the problem folders' public files and, per problem, the expected outputs of its public
cases and each known mistake's outputs on them (`released.npz`, plain arrays), with the mistakes' names and
sentences (`released.json`); no reference or mistake code in any form. Beside the wheel, a practice notebook per
problem (grader/practice/notebook_make.py), checked like the wheel's files to hold nothing of the answers.
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

from grader.context import Context
from grader.model.errors import UsageError
from grader.model.problem import Problem
from grader.package.contents import (
    course_name,
    packaged_ids,
    problem_files,
    refuse_notebook_leaks,
    require_checked,
    stamp,
)
from grader.package.wheels import SHOWN, engine_files, package_version, utc, wheel, zip_bytes
from grader.practice.notebook_make import practice_notebook
from grader.sets.answers import COMBINE
from grader.sets.inputs import make_inputs
from grader.sets.store import KIT_DATA, KIT_INFO, KIT_MARKER, ProblemSet, case_key


def _npy(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(arr), allow_pickle=False)
    return buf.getvalue()


def kit_data(source: ProblemSet, problem: Problem) -> tuple[bytes, bytes]:
    """`released.npz` and `released.json` of a problem: its public cases' expected and mistakes' outputs."""
    arrays: dict[str, np.ndarray] = {}
    sentences = source.pitfall_messages(problem)
    combinations = source.pitfall_combinations(problem)
    names = [*sentences, *(COMBINE.join(c) for c in combinations)]
    cases = []
    for case in problem.cases:
        key = case_key(case)
        inputs = make_inputs(problem.meta, case)
        arrays[f"expected/{key}"] = source.expected_output(problem, case, inputs)
        for name in names:
            out = source.pitfall_output(problem, name, case, inputs)
            if out is not None:
                arrays[f"pitfall/{name}/{key}"] = out
        cases.append({"name": case.name, "key": key})
    files = {f"{k}.npy": _npy(v) for k, v in arrays.items()}
    info = {
        "problem": problem.id,
        "version": problem.meta.version,
        "cases": cases,
        "pitfalls": [{"name": n, "sentence": s} for n, s in sentences.items()],
        "combinations": [list(c) for c in combinations],
    }
    return zip_bytes(files, zipfile.ZIP_DEFLATED), (json.dumps(info, indent=1) + "\n").encode()


def kit_wheel(source: ProblemSet, ids: list[str]) -> tuple[str, bytes]:
    files = {**engine_files(), "problems/__init__.py": b""}
    for pid in ids:
        problem = source.load(pid)
        files.update(problem_files(source, problem))
        data, info = kit_data(source, problem)
        files[f"problems/{pid}/{KIT_DATA}"] = data
        files[f"problems/{pid}/{KIT_INFO}"] = info
    course, when = stamp(source, ids)
    version = package_version(course, files, when)
    kit = {"problems": ids, "course": course, "date": utc(when), "version": version}
    files[f"problems/{KIT_MARKER}"] = (json.dumps(kit) + "\n").encode()
    summary = f"judge, a learner kit of {course} ({utc(when, SHOWN)}): practice problems, no answers"
    return wheel(files, summary, version)


STUDENT_README = """# Practice problems: {course}

Install once, in a fresh virtual environment of its own (Python 3.10 or newer, on Linux: its sandbox needs Linux):

```sh
python3 -m venv judge-env && . judge-env/bin/activate
pip install {wheel}
```

This kit is version `{version}`: the course, then the date of the newest file it was made
from (UTC). When your instructor hands out a newer kit, `pip install` it in the same environment: it
replaces this one and keeps your own files; `pip show judge` says which kit you have. One course per
environment: a kit of another course replaces this one (pip says which it uninstalls), so give each
course an environment of its own.

Then, for each problem:

```sh
judge list              # the problems
judge show ID           # the task
judge init ID           # writes the stub ./ID.py to fill in
judge run ID            # grades ./ID.py on the public cases, says where an answer is wrong
```

Or practise in a notebook: `notebooks/ID.ipynb` has the task, the stub, a cell that checks your
function on the public cases and a cell that shows hints. Open it in Jupyter started from this
environment, or upload it to Colab together with the wheel (its first code cell installs it).
`judge init ID --notebook` writes the same notebook.

On Linux, `sudo apt-get install bubblewrap` lets the judge run your code in a stronger sandbox.
Your instructor may grade on more cases than these.
"""


def _fresh_out_dir(out_dir: Path) -> None:
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise UsageError(f"{out_dir} exists and is not an empty folder; choose a new one")
    if not out_dir.parent.is_dir():
        raise UsageError(f"no such folder: {out_dir.parent}")


def kit_notebooks(source: ProblemSet, ids: list[str], wheel: str) -> dict[str, str]:
    """A practice notebook per problem (`notebooks/<id>.ipynb`), whose setup cell installs `wheel`; checked to hold
    no line of the answers and no known mistake's sentence."""
    notebooks = {}
    for pid in ids:
        problem = source.load(pid)
        name = f"notebooks/{pid}.ipynb"
        notebooks[name] = practice_notebook(problem, wheel=wheel)
        refuse_notebook_leaks(source, problem, name, notebooks[name])
    return notebooks


def release(context: Context, out_dir: Path, ids: list[str] | None = None) -> Path:
    """Write a learner kit: OUT_DIR holds exactly one wheel, a README and notebooks/ with a practice notebook per
    problem; return the wheel's path."""
    out_dir = Path(out_dir)
    _fresh_out_dir(out_dir)
    ids = packaged_ids(context, ids)
    require_checked(context, ids)
    name, data = kit_wheel(context.problems, ids)
    notebooks = kit_notebooks(context.problems, ids, name)
    tmp = Path(tempfile.mkdtemp(prefix=".judge-release-", dir=out_dir.parent))
    try:  # written aside, then moved into place: an interrupted release leaves nothing half-written
        (tmp / name).write_bytes(data)
        (tmp / "notebooks").mkdir()
        for path, text in notebooks.items():
            (tmp / path).write_text(text, encoding="utf-8")
        version = name.split("-")[1]  # judge-<version>-py3-none-any.whl; a version holds no "-"
        (tmp / "README.md").write_text(
            STUDENT_README.format(wheel=name, course=course_name(context.problems), version=version)
        )
        umask = os.umask(0)
        os.umask(umask)
        tmp.chmod(0o777 & ~umask)  # mkdtemp's folder is private; a kit is not
        if out_dir.exists():
            out_dir.rmdir()
        os.rename(tmp, out_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out_dir / name
