"""`judge new`: scaffold a problem folder, its reference and its pitfalls, as a working example."""

from __future__ import annotations

import json
import re
import shutil
import site
from pathlib import Path

from grader.model.errors import UnknownProblem, UsageError
from grader.sets.store import ROOT, ProblemSet, is_kit

META = {
    "version": 1,
    "args": [{"name": "x", "kind": "normal", "shape": ["N", "D"]}, {"name": "scale", "kind": "int"}],
    "tolerance": {"rtol": 1e-4, "atol": 1e-5},
    "limits": {"time_s": 10, "import_s": 30, "memory_mb": 2048},
    "exact_shape": True,
    "space": {"dims": {"N": [1, 2, 3], "D": [2, 4, 8]}, "values": {"scale": [2, 3, 5]}},
}
CASES = {
    "cases": [
        {"name": "small", "seed": 11, "dims": {"N": 2, "D": 3}, "values": {"scale": 2}},
        {"name": "wider", "seed": 22, "dims": {"N": 3, "D": 8}, "values": {"scale": 3}},
        {"name": "one row", "seed": 33, "dims": {"N": 1, "D": 5}, "values": {"scale": 5}},
    ]
}
# The first words of the scaffold's stand-in texts: `judge check` fails a problem that still holds one.
PLACEHOLDERS = ("Replace this text with the task", "Replace these with two to four hints")
SPEC = """# {title}

Replace this text with the task, in your own words: what the function computes, each argument
and its shape, what it returns, and the mistakes learners make. `judge check {id}` makes sure
it names `{id}` and every argument.

## Your task

Write `{id}(x, scale)`: return `x * scale`.

| argument | what it is |
|---|---|
| `x` | array `(N, D)` |
| `scale` | int |

**Returns** an array of shape `(N, D)`.
"""
STUB = '''import numpy as np


def {id}(x, scale):
    """x times scale.

    Args:
        x: (N, D) array.
        scale: int.

    Returns:
        (N, D) array.
    """
    raise NotImplementedError
'''
REFERENCE = """import numpy as np


def {id}(x, scale):
    return np.asarray(x, np.float64) * scale
"""
PITFALLS = """import numpy as np

PITFALLS = {{
    "no_scale": ("Your output matches x itself: multiply by scale.", lambda x, scale: np.asarray(x, np.float64)),
}}
"""
HINTS = {
    "hints": [
        "Replace these with two to four hints, from a nudge to nearly the answer (`judge hint` shows them in order).",
        "The output has the shape of x: multiply every value of x by scale.",
    ]
}


def in_site_packages(path: Path) -> bool:
    """Whether the judge's own files are installed (not a checkout): `judge new` must not write there."""
    dirs = [*site.getsitepackages(), site.getusersitepackages()]
    return any(Path(d).resolve() == path.resolve() for d in dirs if d)


def new_problem(target: ProblemSet, problem_id: str, title: str | None = None) -> list[str]:
    """Write the files of a new problem into the set; return their paths. Never overwrites."""
    if not re.fullmatch(r"[a-z][a-z0-9_]*", problem_id):
        raise UsageError(f"bad problem id {problem_id!r}: use lower case letters, digits and _, starting with a letter")
    if target.kit:
        raise UsageError("`judge new` needs the instructor's install of the judge; this is a learner kit")
    if target.root == ROOT and in_site_packages(ROOT):
        raise UsageError(
            "the built-in problems are installed in site-packages; write into a set of your own: "
            f"`judge --problems-dir DIR new {problem_id}`"
        )
    folder = target.problems_dir / problem_id
    files = {
        folder / "problem.json": json.dumps(
            {"id": problem_id, "title": title or problem_id.replace("_", " "), "function": problem_id, **META}, indent=2
        )
        + "\n",
        folder / "cases.json": json.dumps(CASES, indent=1) + "\n",
        folder / "spec.md": SPEC.format(id=problem_id, title=title or problem_id),
        folder / f"{problem_id}.py": STUB.format(id=problem_id),
        folder / "hints.json": json.dumps(HINTS, indent=2) + "\n",
        target.reference_path(problem_id): REFERENCE.format(id=problem_id),
        target.pitfalls_path(problem_id): PITFALLS.format(),
    }
    existing = [str(p) for p in files if p.exists()]
    if existing:
        raise UsageError(f"problem {problem_id!r} already exists: {', '.join(existing)}")
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return [str(p) for p in files]


def copy_builtin(target: ProblemSet, problem_id: str) -> list[str]:
    """Copy a built-in problem (its folder, reference and known mistakes) into a set of one's own; return the
    files written. Never overwrites."""
    if is_kit(ROOT):
        raise UsageError(
            "`judge new --from-builtin` needs the instructor's install of the judge; this is a learner kit"
        )
    if target.root == ROOT:
        raise UsageError(
            f"{problem_id!r} is in the built-in set already; copy it into a set of your own: "
            f"`judge --problems-dir DIR new {problem_id} --from-builtin`"
        )
    folder = ROOT / "problems" / problem_id
    if not (folder / "problem.json").is_file():
        builtin = sorted(p.parent.name for p in (ROOT / "problems").glob("*/problem.json"))
        raise UnknownProblem(problem_id, builtin)
    files = {
        target.problems_dir / problem_id / p.relative_to(folder): p
        for p in sorted(folder.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }
    files[target.reference_path(problem_id)] = ROOT / "reference" / f"{problem_id}.py"
    files[target.pitfalls_path(problem_id)] = ROOT / "reference" / "pitfalls" / f"{problem_id}.py"
    existing = [str(p) for p in files if p.exists()]
    if existing:
        raise UsageError(f"problem {problem_id!r} already exists: {', '.join(existing)}")
    for path, source in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, path)
    return [str(p) for p in files]
