"""Rendering Results: for learners (terminal lines, Gradescope), for machines (JSON), for instructors (CSV).

Everything that comes from learner code (names, messages, tracebacks, output) is shown with its control
characters made visible (grader.textsafe) and is never read as rich markup.
"""

from __future__ import annotations

import csv
import io
import json
import re
import textwrap
from pathlib import Path

from rich.console import Console
from rich.text import Text

from grader.feedback import split_stderr
from grader.models import CaseResult, Result, Status
from grader.textsafe import clip, visible, visible_line

STYLE = {Status.PASSED: "green", Status.WRONG_ANSWER: "red", Status.INTERNAL_ERROR: "magenta"}
JAX_FOOTER = re.compile(r"\n?-{10,}\n*For simplicity, JAX has removed its internal frames[^\n]*"
                        r"(\n[^\n]*JAX_TRACEBACK_FILTERING=off[^\n]*)?\n?(-{10,}\n?)?")


def to_json(result: Result) -> str:
    return result.model_dump_json(indent=2)


def not_run(case: CaseResult) -> bool:
    return case.message.startswith("not run:")


def case_label(case: CaseResult) -> str:
    """A case's status as shown: "not run" for the cases after the one a time limit or crash stopped."""
    return "not run" if not_run(case) else case.status.label


def case_name(case: CaseResult) -> str:
    return case.name if case.name.startswith("hidden") or not case.hidden else f"{case.name} (hidden)"


def file_level(result: Result) -> bool:
    """The file could not be run case by case (a load error, an import timeout), or every case failed alike."""
    cases = result.cases
    return bool(cases) and all(c.status not in (Status.PASSED, Status.WRONG_ANSWER) for c in cases) and \
        len({(c.status, c.message, c.traceback) for c in cases}) == 1


def clean_traceback(text: str) -> str:
    """The learner's traceback without JAX's "removed its internal frames" footer."""
    return JAX_FOOTER.sub("\n", text).strip()


def details(message: str, traceback: str) -> list[str]:
    """A failure's message and traceback, the error line once (the traceback ends with it)."""
    tb = clean_traceback(traceback)
    tail = [line.strip() for line in tb.splitlines()[-3:]]
    keep = not (tb and message and message.splitlines()[0].strip() in tail)
    return [x for x in ((message if keep else ""), tb) if x]


def render(result: Result, console: Console) -> None:
    """One line per case as pytest -v prints them, details under the first failing case, a hint, a verdict.

    Lines are wrapped between words to the console's width, never inside a word or a number.
    """
    width = console.width

    def say(text: str, indent: int = 0, style: str = "") -> None:
        _block(console, wrap(visible(text), width, indent), style)

    uniform = file_level(result)
    loaded = True
    if uniform:
        first = result.cases[0]
        loaded = bool(result.traceback) or first.status is not Status.ERROR or not first.traceback
        what = "could not be loaded" if loaded else f"failed the same way in all {len(result.cases)} cases"
        say(f"{Path(result.submission).name} {what}:", 0, "bold")
        tb = "" if first.message.startswith("still has the starter") else (first.traceback or result.traceback)
        for part in details(first.message, tb):
            say(part, 4, "dim" if part.startswith("Traceback") else "")
    else:
        _case_lines(result, console)
    for name in ("stdout", "stderr"):
        text, library = (split_stderr(result.stderr) if name == "stderr" else (result.stdout, ""))
        for label, part in ((f"your {name}", text), ("JAX/XLA's own messages (not from your code)", library)):
            if part.strip():
                n = part.rstrip("\n").count("\n") + 1
                say(f"{label} ({n} line{'s' if n > 1 else ''}):", 0, "bold")
                say(clip(part.rstrip("\n"), 2000, 20), 4, "dim")
    if result.diagnosis:
        say(result.diagnosis if result.diagnosis.startswith("Hint:") else f"Likely mistake: {result.diagnosis}")
    if uniform:
        verdict = f"none of the {result.max_score} cases could run" if loaded else \
            f"0 of {result.max_score} cases passed"
    elif any(c.status is not Status.PASSED for c in result.cases):
        verdict = f"{result.score} of {result.max_score} cases passed"
    else:
        verdict = result.message
    head = f"{result.status.label.upper()} {result.score}/{result.max_score}"
    lines = wrap(f"{head}: {visible(verdict)} ({result.time_s:.2f} s)", width, 0).split("\n")
    first_line = Text(lines[0])
    first_line.stylize(f"bold {STYLE.get(result.status, 'yellow')}", 0, len(head))
    _line(console, first_line)
    _block(console, "\n".join(lines[1:]))


def wrap(text: str, width: int, indent: int) -> str:
    """`text` indented and wrapped between words to `width` columns (a word longer than a line stays whole)."""
    out = []
    for line in text.split("\n"):
        lead = len(line) - len(line.lstrip(" "))
        pad = " " * (indent + lead)
        out += textwrap.wrap(line.lstrip(" "), max(20, width - 1), initial_indent=pad,
                             subsequent_indent=pad + ("  " if lead else ""), break_long_words=False,
                             break_on_hyphens=False) or [""]
    return "\n".join(out)


def _line(console: Console, text: Text) -> None:
    """One line as it is: `wrap` did the wrapping, and rich would pad it with spaces or cut it."""
    console.print(text, no_wrap=True, crop=False, overflow="ignore", soft_wrap=True)


def _block(console: Console, text: str, style: str = "") -> None:
    for line in text.split("\n") if text else []:
        _line(console, Text(line, style=style))


def _case_lines(result: Result, console: Console) -> None:
    """`  0  name of the case   passed`: the status column right after the longest name that fits."""
    cases = result.cases
    if not cases:
        return
    iw = max(len(str(c.index)) for c in cases)
    sw = max(len(case_label(c)) for c in cases)
    names = {c.index: visible(case_name(c)) for c in cases}
    nw = max(8, min(max(map(len, names.values())), console.width - iw - sw - 7))
    first_bad = next((c for c in cases if c.status is not Status.PASSED), None)
    for c in cases:
        style = "dim" if not_run(c) else STYLE.get(c.status, "yellow")
        lines = textwrap.wrap(names[c.index], nw, break_long_words=False, break_on_hyphens=False) or [""]
        row = Text(f"  {c.index:>{iw}}  {lines[0]:<{nw}}  ")
        row.append(case_label(c), style=style)
        _line(console, row)
        for more in lines[1:]:
            _line(console, Text(f"  {'':>{iw}}  {more}"))
        if c is first_bad:
            text = "\n".join(details(c.message, c.traceback))
            if c.expected_shape is not None and c.shape is not None and c.shape != c.expected_shape:
                text += f"\nyour shape {tuple(c.shape)}, expected {tuple(c.expected_shape)}"
            _block(console, wrap(visible(text), console.width, iw + 6))


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
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)


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
