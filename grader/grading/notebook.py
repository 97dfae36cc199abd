"""Notebook hand-ins: an .ipynb becomes the Python module the sandbox imports.

The rule for what runs (documented in docs/USING.md, "From a notebook"): the code cells are read in
notebook order, as "Restart & Run All" would run them; IPython lines (`%magic`, `!shell`, `x = !cmd`,
`obj?`) are left out, and so are cells under a cell magic other than %%time, %%timeit and %%capture.
Of the top-level statements that remain, only those the graded function needs are kept: the statement
that binds the function's name, and, transitively, every statement that binds a name a kept statement
uses (imports, helper functions, globals) or changes such a name in place (`cfg["h"] = 2`,
`layers.append(...)`); and every `jax.config.update(...)` (it changes the numerics). Everything else -- demo
calls, prints, plots, tests, training loops whose results the function does not read -- is left out, so
it neither costs time nor can fail the import. Cells that are not valid Python are left out too.

Parsing here never runs learner code: it reads JSON and Python syntax only. A notebook it cannot read at all
raises Unreadable with the facts of why; what it leaves out is said in the module's NotebookNote.
"""

from __future__ import annotations

import ast
import json
import re
import symtable
from dataclasses import dataclass, field

from grader.model.errors import Unreadable
from grader.model.verdict import NotebookNote, SourceProblem

MAX_CELLS = 2000
MAX_STATEMENTS = 5000  # top-level, all cells together: far more than any notebook, few enough to read fast
PYTHON_CELL_MAGICS = {"time", "timeit", "capture"}  # their body is Python that Jupyter runs
# `%magic`, `!cmd`, `?obj`, `obj?`, `x = !cmd`; a target starts with a non-space so that no line backtracks
_IPYTHON_LINE = re.compile(r"^\s*(?:[!%?]|[\w.]+\?\??\s*$|[\w.\[\]()*,][\w\s,.\[\]()*]*=\s*[!%])")


def code_cells(data: bytes, name: str) -> list[str]:
    """The code cells' sources of an nbformat-4 notebook, in order; Unreadable when it is not one."""
    try:
        doc = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as e:
        raise Unreadable.source(SourceProblem.NOTEBOOK_NOT_UTF8, name, text=e.reason) from None
    except json.JSONDecodeError as e:
        raise Unreadable.source(SourceProblem.NOTEBOOK_JSON, name, line=e.lineno, column=e.colno, text=e.msg) from None
    except (RecursionError, MemoryError):
        raise Unreadable.source(SourceProblem.NOTEBOOK_NESTED, name) from None
    if not isinstance(doc, dict) or "cells" not in doc and "worksheets" not in doc:
        raise Unreadable.source(SourceProblem.NOTEBOOK_NO_CELLS, name)
    version = doc.get("nbformat")
    if version != 4:
        raise Unreadable.source(SourceProblem.NOTEBOOK_FORMAT, name, text=repr(version))
    cells = doc.get("cells")
    if not isinstance(cells, list) or len(cells) > MAX_CELLS:
        raise Unreadable.source(SourceProblem.NOTEBOOK_CELLS, name, limit=MAX_CELLS)
    sources = []
    for i, cell in enumerate(cells):
        if not isinstance(cell, dict):
            raise Unreadable.source(SourceProblem.NOTEBOOK_CELL, name, cell=i + 1)
        if cell.get("cell_type") != "code":
            continue  # markdown and raw cells
        src = cell.get("source", "")
        if isinstance(src, list) and all(isinstance(s, str) for s in src):
            src = "".join(src)
        if not isinstance(src, str):
            raise Unreadable.source(SourceProblem.NOTEBOOK_CELL_SOURCE, name, cell=i + 1)
        sources.append(src)
    return sources


def _without_ipython(src: str, cell: int, note: NotebookNote) -> str | None:
    """The cell with its IPython lines made `pass` (so blocks stay valid); None for a non-Python cell magic."""
    lines = src.split("\n")
    first = next((ln.strip() for ln in lines if ln.strip()), "")
    if first.startswith("%%"):
        magic = first[2:].split()[0] if first[2:].split() else ""
        note.ipython_lines.append((cell, first))
        if magic not in PYTHON_CELL_MAGICS:
            return None
        at = next(i for i, ln in enumerate(lines) if ln.strip())
        lines[at] = ""
    out = []
    for line in lines:
        if _IPYTHON_LINE.match(line):
            note.ipython_lines.append((cell, line.strip()))
            line = line[: len(line) - len(line.lstrip())] + "pass"
        out.append(line)
    return "\n".join(out)


@dataclass
class _Unit:
    """Top-level statements that share lines (`a = 1; b = 2`): kept or dropped together."""

    cell: int
    first: int
    last: int
    nodes: list[ast.stmt]
    binds: set[str] = field(default_factory=set)
    uses: set[str] = field(default_factory=set)
    imports: set[str] = field(default_factory=set)
    calls_on: str | None = None  # an expression statement `root.method(...)`: changes root in place
    always: bool = False
    star: bool = False  # `from m import *`: binds names nobody can list
    text: str = ""


def _root(node: ast.AST) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _attrs(node: ast.AST) -> list[str]:
    """`jax.config.update` -> ["config", "update"]: the attribute names of a chain, outermost last."""
    names = []
    while isinstance(node, ast.Attribute):
        names.append(node.attr)
        node = node.value
    return names[::-1]


def _globals_used(table: symtable.SymbolTable) -> set[str]:
    names = set()
    for child in table.get_children():
        names |= {s.get_name() for s in child.get_symbols() if s.is_global() and s.is_referenced()}
        names |= _globals_used(child)
    return names


def _analyse(unit: _Unit, text: str) -> None:
    table = symtable.symtable(text, "<cell>", "exec")
    for s in table.get_symbols():
        if s.is_imported():
            unit.imports.add(s.get_name())
        if s.is_assigned() or s.is_imported() or s.is_namespace():
            unit.binds.add(s.get_name())
        if s.is_referenced():
            unit.uses.add(s.get_name())
    unit.uses |= _globals_used(table)
    for node in unit.nodes:
        if isinstance(node, ast.ImportFrom):
            unit.star |= any(a.name == "*" for a in node.names)
            unit.always |= unit.star or node.module == "__future__"
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        for t in targets:
            if isinstance(t, (ast.Attribute, ast.Subscript)) and (root := _root(t)):
                unit.binds.add(root)  # `cfg["heads"] = 4` changes cfg
        if (
            isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Attribute)
            and _root(node.value.func)
        ):
            if _attrs(node.value.func)[-2:] == ["config", "update"] or (
                _attrs(node.value.func) == ["update"] and _root(node.value.func) == "config"
            ):
                unit.always = True  # jax.config.update(...), config.update(...): numerics of what follows
            else:
                unit.calls_on = _root(node.value.func)


def _units(src: str, cell: int, note: NotebookNote, room: int) -> list[_Unit]:
    try:
        tree = ast.parse(src)
    except SyntaxError as e:
        note.skipped_cells.append((cell, "python", str(e.msg), e.lineno))
        return []
    except (ValueError, RecursionError, MemoryError) as e:
        note.skipped_cells.append((cell, "python", type(e).__name__, None))
        return []
    if len(tree.body) > room:
        raise Unreadable.source(SourceProblem.NOTEBOOK_TOO_LONG, note.file, limit=MAX_STATEMENTS)
    lines = src.split("\n")
    units: list[_Unit] = []
    for node in tree.body:
        first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        if units and first <= units[-1].last:
            units[-1].nodes.append(node)
            units[-1].last = max(units[-1].last, node.end_lineno or first)
        else:
            units.append(_Unit(cell, first, node.end_lineno or first, [node]))
    kept = []
    for unit in units:
        text = "\n".join(lines[unit.first - 1 : unit.last])
        try:
            _analyse(unit, text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):  # e.g. `return` outside a function
            note.dropped.append(cell)
            continue
        unit.text = text
        kept.append(unit)
        for node in unit.nodes:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                note.defined.append(node.name)
    return kept


def _needed(units: list[_Unit], function: str) -> list[bool]:
    """Which units to keep: those binding a needed name, starting from the function; linear in the notebook."""
    imported = set().union(*(u.imports for u in units)) if units else set()
    binders: dict[str, list[int]] = {}
    for i, u in enumerate(units):
        for n in u.binds:
            binders.setdefault(n, []).append(i)
        if u.calls_on is not None and u.calls_on not in imported:  # `layers.append(...)`, not `plt.plot(...)`
            binders.setdefault(u.calls_on, []).append(i)
    keep, needed, todo = [False] * len(units), set(), [function]

    def take(i: int) -> None:
        if not keep[i]:
            keep[i] = True
            todo.extend(units[i].uses)

    for i, u in enumerate(units):
        if u.always:
            take(i)
    while todo:
        n = todo.pop()
        if n not in needed:
            needed.add(n)
            for i in binders.get(n, ()):
                take(i)
    return keep


def notebook_module(data: bytes, name: str, function: str) -> tuple[str, NotebookNote]:
    """The Python module graded for a notebook, by the rule in this module's docstring, and what of the notebook
    it kept. Raises Unreadable for a notebook that cannot be read at all."""
    sources = code_cells(data, name)
    # What is left out is appended to the note's lists as the cells are read; has_function is set at the end.
    note = NotebookNote(file=name, function=function, code_cells=len(sources))
    units: list[_Unit] = []
    for cell, src in enumerate(sources, start=1):
        python = _without_ipython(src, cell, note)
        if python is None:
            note.skipped_cells.append((cell, "magic", "", None))
            continue
        units.extend(_units(python, cell, note, MAX_STATEMENTS - len(units)))
    keep = _needed(units, function)
    has_function = any(keep[i] and function in u.binds for i, u in enumerate(units)) or any(
        keep[i] and u.star for i, u in enumerate(units)
    )
    out, last_cell = [f"# The code cells of {name} that {function} needs (see grader/grading/notebook.py)."], 0
    lines = 1  # in the module so far
    for i, u in enumerate(units):
        if not keep[i]:
            if not all(isinstance(n, ast.Pass) for n in u.nodes):  # an IPython line, already counted
                note.dropped.append(u.cell)
            continue
        if u.cell != last_cell:
            out.append(f"\n# --- cell {u.cell} ---")
            lines += 2
            last_cell = u.cell
        note.starts.append((lines + 1, u.cell, u.first))  # so tracebacks name the cell and its line
        out.append(u.text)
        lines += u.text.count("\n") + 1
    definitions = [u.cell for u in units if function in u.binds]
    update = {"has_function": has_function, "definitions": list(dict.fromkeys(definitions))}
    return "\n".join(out) + "\n", note.model_copy(update=update)
