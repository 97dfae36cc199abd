"""Rendering a Result for people (a rich table) and for machines (one JSON document)."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from grader.models import Result, Status
from grader.storage import atomic_write

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
    if result.diagnosis:
        console.print(f"[bold]Likely mistake:[/] {escape(result.diagnosis)}")
    style = STYLE.get(result.status, "yellow")
    failed_case = any(c.status is not Status.PASSED and c.message for c in result.cases)
    verdict = f"{result.score} of {result.max_score} cases passed" if failed_case else result.message
    console.print(f"[bold {style}]{result.status.label.upper()}[/] {result.score}/{result.max_score}: "
                  f"{escape(verdict)}  [dim]({result.time_s:.2f} s, sandbox: "
                  f"{result.replay.sandbox if result.replay else 'none'})[/]")


# ---------------------------------------------------------------- class reports

CSV_COLUMNS = ["student", "problem", "score", "max_score", "status", "message"]


def case_lines(result: Result, *, show_hidden: bool) -> list[str]:
    """One line per case for learners; hidden cases show only their status unless asked."""
    lines = []
    for c in result.cases:
        if c.hidden and not show_hidden:
            lines.append(f"{c.name}: {c.status.label}")
        else:
            detail = f": {c.message}" if c.message and c.status is not Status.PASSED else ""
            lines.append(f"case {c.index} ({c.name}, seed {c.seed}){' [hidden]' if c.hidden else ''}: "
                         f"{c.status.label}{detail}")
    return lines


def learner_message(result: Result, *, show_hidden: bool) -> str:
    """The result's message, without a hidden case's details unless asked."""
    if show_hidden or not any(c.hidden for c in result.cases):
        return result.message
    first = next((c for c in result.cases if c.status is result.status), None)
    if first is not None and first.hidden:
        return result.message.split("; a hidden case:")[0] + f"; a hidden case failed ({result.status.label})"
    return result.message


def gradescope_doc(results: list[Result], *, show_hidden: bool) -> dict:
    """The Gradescope autograder results.json: one test per problem, scored by cases passed."""
    tests = []
    for r in results:
        output = "\n".join([learner_message(r, show_hidden=show_hidden), "", *case_lines(r, show_hidden=show_hidden)])
        if r.traceback and r.status is not Status.INTERNAL_ERROR:
            output += "\n\n" + r.traceback
        tests.append({"name": r.problem, "score": r.score, "max_score": r.max_score,
                      "status": "passed" if r.passed else "failed", "output": output, "visibility": "visible"})
    return {"score": sum(r.score for r in results), "execution_time": round(sum(r.time_s for r in results), 3),
            "output": f"{sum(r.passed for r in results)} of {len(results)} problems passed", "tests": tests}


def _write_atomic(path: Path, text: str) -> None:
    atomic_write(path, text.encode())


def write_class_reports(out_dir: Path, students: list[str], problem_ids: list[str],
                        results: dict[tuple[str, str], Result], *, show_hidden: bool) -> None:
    long, wide = io.StringIO(), io.StringIO()
    w = csv.writer(long, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    ww = csv.writer(wide, lineterminator="\n")
    ww.writerow(["student", *problem_ids, "total", "max_total"])
    for s in students:
        row = [results[(s, p)] for p in problem_ids]
        for r in row:
            w.writerow([s, r.problem, r.score, r.max_score, r.status.value, learner_message(r, show_hidden=show_hidden)])
        ww.writerow([s, *[r.score for r in row], sum(r.score for r in row), sum(r.max_score for r in row)])
        _write_atomic(out_dir / s / "results.json", json.dumps(gradescope_doc(row, show_hidden=show_hidden), indent=2))
    _write_atomic(out_dir / "grades.csv", long.getvalue())
    _write_atomic(out_dir / "grades_wide.csv", wide.getvalue())
    _write_atomic(out_dir / "report.html", class_html(students, problem_ids, results))


def _reason(r: Result) -> str:
    """A failure reason with its numbers taken out, so that alike failures group together."""
    text = r.message.split("; ", 1)[-1] if "cases passed" in r.message else r.message
    text = text.split(": ", 1)[-1] if text.startswith(("case ", "a hidden case")) else text
    return re.sub(r"-?\d+(\.\d+)?(e[-+]?\d+)?", "#", text)[:160]


def class_html(students: list[str], problem_ids: list[str], results: dict[tuple[str, str], Result]) -> str:
    """A self-contained page: pass rates per problem and per case, a score histogram, common failures."""
    h = html.escape
    n = len(students)
    parts = ["<!doctype html><meta charset=utf-8><title>Class report</title><style>"
             "body{font:14px system-ui,sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse;margin:1em 0}"
             "td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}.bar{background:#4a7;height:1em}"
             "td.num{text-align:right}</style>",
             f"<h1>Class report</h1><p>{n} learners, {len(problem_ids)} problems.</p><h2>Problems</h2>",
             "<table><tr><th>problem</th><th>passed</th><th>handed in</th><th>pass rate</th><th></th></tr>"]
    for p in problem_ids:
        rs = [results[(s, p)] for s in students]
        passed = sum(r.passed for r in rs)
        handed = sum(r.status is not Status.MISSING for r in rs)
        rate = passed / n if n else 0
        parts.append(f"<tr><td>{h(p)}</td><td class=num>{passed}</td><td class=num>{handed}</td>"
                     f"<td class=num>{rate:.0%}</td><td><div class=bar style='width:{rate * 20:.1f}em'></div></td></tr>")
    parts.append("</table><h2>Cases</h2><table><tr><th>problem</th><th>case</th><th>pass rate</th><th></th></tr>")
    for p in problem_ids:
        rs = [results[(s, p)] for s in students]
        for i, c in enumerate(rs[0].cases if rs else []):
            ok = sum(1 for r in rs if i < len(r.cases) and r.cases[i].status is Status.PASSED)
            rate = ok / n if n else 0
            parts.append(f"<tr><td>{h(p)}</td><td>{h(c.name)}{' (hidden)' if c.hidden else ''}</td>"
                         f"<td class=num>{rate:.0%}</td><td><div class=bar style='width:{rate * 20:.1f}em'></div></td></tr>")
    parts.append("</table><h2>Total scores</h2><table><tr><th>score</th><th>learners</th><th></th></tr>")
    totals = Counter(sum(results[(s, p)].score for p in problem_ids) for s in students)
    top = max(totals.values(), default=1)
    for score in sorted(totals):
        parts.append(f"<tr><td class=num>{score}</td><td class=num>{totals[score]}</td>"
                     f"<td><div class=bar style='width:{totals[score] / top * 20:.1f}em'></div></td></tr>")
    parts.append("</table><h2>Most common failures</h2><table><tr><th>problem</th><th>status</th><th>reason</th>"
                 "<th>learners</th></tr>")
    reasons = Counter((r.problem, r.status.label, _reason(r)) for r in results.values()
                      if not r.passed and r.status is not Status.MISSING)
    for (p, status, reason), count in reasons.most_common(15):
        parts.append(f"<tr><td>{h(p)}</td><td>{h(status)}</td><td>{h(reason)}</td><td class=num>{count}</td></tr>")
    parts.append("</table>")
    return "\n".join(parts)
