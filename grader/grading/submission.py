"""Hand-in files: which file of a learner's folder is graded, and its bytes as grading reads them.

A notebook is stored and shipped without its outputs (grader/notebook.py turns its cells into the module).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from grader.model.problem import Result


def find_submission(folder: Path, problem_id: str, *, recursive: bool = False) -> tuple[Path, str]:
    """The file of a problem in a learner's folder, and a note naming the files not graded, if any.

    `<id>.py` and `<id>.ipynb` are both hand-ins. With `recursive` (Gradescope uploads) they are looked
    for at any depth. The rule: the shallowest file is graded, and at the same depth the .py file before
    the notebook (it is the plain file every command has always graded; a notebook next to it is usually
    where it was written). Returns `folder/<id>.py` when there is neither, so a missing file reads as before.
    """
    names = (f"{problem_id}.py", f"{problem_id}.ipynb")
    if recursive:
        found = [p for name in names for p in folder.rglob(name)]
    else:
        found = [folder / name for name in names if (folder / name).exists() or (folder / name).is_symlink()]
    if not found:
        return folder / names[0], ""
    found.sort(key=lambda p: (len(p.parts), p.suffix != ".py", str(p)))
    if len(found) == 1:
        return found[0], ""
    shown = [str(p.relative_to(folder)) for p in found]
    others = ", ".join(shown[1:4]) + (" and more" if len(shown) > 4 else "")
    return found[0], (
        f"[graded {shown[0]}; not graded: {others} (the shallowest file is graded, and a .py file before a notebook)]"
    )


NOTEBOOK_MAX_BYTES = 64 << 20  # outputs (plots) make notebooks large; they are dropped before grading


def read_handin(path: Path, max_source: int) -> tuple[bytes | None, str]:
    """A hand-in file's bytes as grading needs them (a notebook without its outputs), or why it is refused."""
    notebook = path.suffix == ".ipynb"
    limit = NOTEBOOK_MAX_BYTES if notebook else max_source
    if path.stat().st_size > limit:
        return None, f"{path.name} is larger than {limit >> 20} MiB"
    data = path.read_bytes()
    if notebook:
        data = strip_outputs(data)
        if len(data) > max_source:
            return None, f"{path.name} holds more than {max_source >> 20} MiB of cells"
    return data, ""


def with_note(result: Result, note: str) -> Result:
    """The result with the note at the end of its message (a Result is frozen: a copy)."""
    if not note:
        return result
    return result.model_copy(update={"message": f"{result.message} {note}".strip()})


def strip_outputs(data: bytes) -> bytes:
    """The notebook with only what grading reads (code cells, no outputs): smaller to store and
    to ship, and re-running the cells does not change it. Anything unreadable comes back unchanged, so
    that grading reports it."""
    try:
        doc = json.loads(data.decode("utf-8"))
        cells = [
            {"cell_type": "code", "source": c.get("source", "")} for c in doc["cells"] if c.get("cell_type") == "code"
        ]
        return json.dumps({"nbformat": doc["nbformat"], "cells": cells}, sort_keys=True).encode()
    except Exception:
        return data
