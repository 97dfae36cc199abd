"""Rendering a Result for people (a rich table) and for machines (one JSON document)."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from grader.models import Result, Status

STYLE = {Status.PASSED: "green", Status.WRONG_ANSWER: "red", Status.INTERNAL_ERROR: "magenta"}


def to_json(result: Result) -> str:
    return result.model_dump_json(indent=2)


def _num(v: float | None) -> str:
    return "" if v is None else f"{v:.3g}"


def render(result: Result, console: Console) -> None:
    """The per-case table, the learner's traceback and output where there is one, and a verdict line."""
    table = Table(title=f"{result.problem}: {result.submission}", title_justify="left")
    for col in ("#", "case", "status", "shape", "max abs err", "max rel err", "first mismatch", "got", "expected"):
        table.add_column(col, overflow="fold")
    for c in result.cases:
        name = c.name + (" (hidden)" if c.hidden else "")
        shape = "" if c.shape is None else str(tuple(c.shape))
        if c.expected_shape is not None and c.shape != c.expected_shape:
            shape += f" want {tuple(c.expected_shape)}"
        style = STYLE.get(c.status, "yellow")
        table.add_row(str(c.index), escape(name), f"[{style}]{c.status.label}[/]", shape, _num(c.max_abs_err),
                      _num(c.max_rel_err), "" if c.mismatch_index is None else str(tuple(c.mismatch_index)),
                      _num(c.got), _num(c.expected))
    console.print(table)
    for c in result.cases:
        if c.status is not Status.PASSED and c.message:
            console.print(f"[bold]case {c.index}[/]: {escape(c.message)}")
            if c.traceback:
                console.print(escape(c.traceback.rstrip()), style="dim")
            break  # the first failure is the one to fix first
    if result.traceback and result.status is not Status.INTERNAL_ERROR:
        console.print(escape(result.traceback.rstrip()), style="dim")
    for name in ("stdout", "stderr"):
        text = getattr(result, name)
        if text.strip():
            console.print(f"[bold]your {name}[/] (first part):")
            console.print(escape(text.rstrip()[:2000]), style="dim")
    style = STYLE.get(result.status, "yellow")
    console.print(f"[bold {style}]{result.status.label.upper()}[/] {result.score}/{result.max_score}: "
                  f"{escape(result.message)}  [dim]({result.time_s:.2f} s, sandbox: "
                  f"{result.replay.sandbox if result.replay else 'none'})[/]")
