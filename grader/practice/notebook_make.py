"""A practice notebook (`judge init ID --notebook`, and one per problem in a kit): the task, the stub, a check.

Cells, in order: what to do; a setup cell that imports the judge (installing the kit's wheel where it lies beside
the notebook, else saying how to install it: never a traceback); the spec, one Markdown cell per `## ` section;
the stub, as `judge init` writes it; `check_function(ID, fn)`; and a hint cell, whose hints appear only when it
is run. Nothing of the reference or the known mistakes: only the problem folder's public files are read (a
release checks the result again, grader/package/contents.py). nbformat 4.5, written as Jupyter writes it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from grader.model.problem import Problem
from grader.render import commands


def spec_sections(spec: str) -> list[str]:
    """The spec cut before each `## ` heading (not inside a fenced block), one Markdown cell each."""
    sections: list[list[str]] = [[]]
    fenced = False
    for line in spec.splitlines(keepends=True):
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        if line.startswith("## ") and not fenced and any(s.strip() for s in sections[-1]):
            sections.append([])
        sections[-1].append(line)
    return ["".join(s).strip("\n") for s in sections if "".join(s).strip()]


def setup_code(wheel: str | None, problems_dir: Path | None) -> str:
    """The setup cell: import the judge; else install the kit's wheel found beside the notebook; else say how."""
    imports = ["import os"] if problems_dir is not None else []
    imports += ["import importlib", "import subprocess", "import sys", "from pathlib import Path"] if wheel else []
    lines = [f"# {commands.notebook_setup_comment()}", *imports, ""]
    if problems_dir is not None:  # a course's own set, as `judge --problems-dir` named it
        lines += [f"os.environ.setdefault('JUDGE_PROBLEMS', {str(problems_dir)!r})"]
    lines += [f"WHEEL = {wheel!r}"] if wheel else []
    lines += [f"NOT_INSTALLED = {commands.notebook_not_installed(wheel)!r}", ""]
    lines += ["try:", "    from grader import check_function, hint_text", "except ImportError:"]
    if wheel:
        lines += [
            "    for wheel in (Path(WHEEL), Path('..') / WHEEL):",
            f"        if wheel.is_file():  # {commands.notebook_wheel_comment()}",
            "            print(f'pip install {wheel} ...')",
            "            subprocess.run([sys.executable, '-m', 'pip', 'install', '-q', str(wheel)], check=False)",
            "            importlib.invalidate_caches()",
            "            break",
        ]
    lines += [
        "    try:",
        "        from grader import check_function, hint_text",
        "    except ImportError:",
        "",
        "        def check_function(*args, **kwargs):",
        "            print(NOT_INSTALLED)",
        "",
        "        def hint_text(*args, **kwargs):",
        "            return NOT_INSTALLED",
        "",
        "        print(NOT_INSTALLED)",
    ]
    return "\n".join(lines) + "\n"


def _cell(kind: str, text: str, index: int) -> dict[str, Any]:
    cell: dict[str, Any] = {"cell_type": kind, "id": f"cell-{index}", "metadata": {}, "source": text.splitlines(True)}
    if kind == "code":
        cell |= {"execution_count": None, "outputs": []}
    return cell


def practice_notebook(problem: Problem, *, wheel: str | None = None, problems_dir: Path | None = None) -> str:
    """The notebook's JSON text. `wheel`: the kit's wheel file name, which the setup cell installs where it finds it
    beside the notebook; `problems_dir`: a set other than the installed one, for the kernel to grade against."""
    fn = problem.meta.function
    cells = [
        ("markdown", commands.notebook_intro(problem.id, fn)),
        ("code", setup_code(wheel, problems_dir)),
        *(("markdown", section) for section in spec_sections(problem.spec_path.read_text())),
        ("markdown", commands.notebook_your_code(fn)),
        ("code", problem.stub_path.read_text()),
        ("markdown", commands.notebook_check()),
        ("code", f"check_function({problem.id!r}, {fn})"),
        ("markdown", commands.notebook_hint()),
        ("code", f"print(hint_text({problem.id!r}))"),
    ]
    notebook = {
        "cells": [_cell(kind, text, i) for i, (kind, text) in enumerate(cells)],
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
