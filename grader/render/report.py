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

from grader.render.disclosure import case_name as case_name  # re-exported: they were defined here
from grader.render.disclosure import learner_message as learner_message
from grader.grading.feedback import split_stderr
from grader.model.problem import CaseResult, Result, Status
from grader.model.storage import atomic_write
from grader.render.textsafe import clip, visible, visible_line

STYLE = {Status.PASSED: "green", Status.WRONG_ANSWER: "red", Status.INTERNAL_ERROR: "magenta"}
JAX_FOOTER = re.compile(
    r"\n?-{10,}\n*For simplicity, JAX has removed its internal frames[^\n]*"
    r"(\n[^\n]*JAX_TRACEBACK_FILTERING=off[^\n]*)?\n?(-{10,}\n?)?"
)


def to_json(result: Result) -> str:
    return result.model_dump_json(indent=2)


def not_run(case: CaseResult) -> bool:
    return case.message.startswith("not run:")


def case_label(case: CaseResult) -> str:
    """A case's status as shown: "not run" for the cases after the one a time limit or crash stopped."""
    return "not run" if not_run(case) else case.status.label


def file_level(result: Result) -> bool:
    """The file could not be run case by case (a load error, an import timeout), or every case failed alike."""
    cases = result.cases
    return (
        bool(cases)
        and all(c.status not in (Status.PASSED, Status.WRONG_ANSWER) for c in cases)
        and len({(c.status, c.message, c.traceback) for c in cases}) == 1
    )


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
        message = first.message or result.message
        tb = "" if message.startswith("still has the starter") else (first.traceback or result.traceback)
        for part in details(message, tb):
            say(part, 4, "dim" if part.startswith("Traceback") else "")
    else:
        _case_lines(result, console)
    for name in ("stdout", "stderr"):
        text, library = split_stderr(result.stderr) if name == "stderr" else (result.stdout, "")
        for label, part in ((f"your {name}", text), ("JAX/XLA's own messages (not from your code)", library)):
            if part.strip():
                say(f"{label}:", 0, "bold")
                say(_output(part), 4, "dim")
    if result.diagnosis:
        hint = result.diagnosis if result.diagnosis.startswith("Hint:") else f"Likely mistake: {result.diagnosis}"
        _headed(console, wrap(visible(hint), width, 0), hint.index(":") + 1, "bold")
    if uniform:
        verdict = (
            f"none of the {result.max_score} cases could run" if loaded else f"0 of {result.max_score} cases passed"
        )
    elif any(c.status is not Status.PASSED for c in result.cases):
        verdict = f"{result.score} of {result.max_score} cases passed"
    else:
        verdict = result.message
    head = f"{result.status.label.upper()} {result.score}/{result.max_score}"
    _headed(
        console,
        wrap(f"{head}: {visible(verdict)} ({result.time_s:.2f} s)", width, 0),
        len(head),
        f"bold {STYLE.get(result.status, 'yellow')}",
    )


def _headed(console: Console, text: str, head: int, style: str) -> None:
    """Wrapped lines whose first `head` characters are styled (a verdict, a "Hint:")."""
    first, _, rest = text.partition("\n")
    line = Text(first)
    line.stylize(style, 0, head)
    _line(console, line)
    _block(console, rest)


CUT_NOTE = re.compile(r"\n?\[\.\.\. output cut: [\d,]+ more bytes not shown \(([\d,]+) bytes in all\)\]\s*$")


def _output(text: str) -> str:
    """A captured stream for the screen: its first lines, cut at a line end, with how much was left out."""
    m = CUT_NOTE.search(text)
    body = text[: m.start()] if m else text
    shown = clip(body.rstrip("\n"), 1000, 20)
    if m:  # the sandbox kept only the start: say how much there was in all
        shown = shown.split("\n[... ")[0] + f"\n[... the rest not shown: {m.group(1)} bytes in all]"
    return shown


def wrap(text: str, width: int, indent: int) -> str:
    """`text` indented and wrapped between words to `width` columns; only a word longer than a line is cut."""
    out = []
    for line in text.split("\n"):
        lead = len(line) - len(line.lstrip(" "))
        pad = " " * (indent + lead)
        out += textwrap.wrap(
            line.lstrip(" "),
            max(20, width - 1),
            initial_indent=pad,
            subsequent_indent=pad + ("  " if lead else ""),
            break_long_words=True,
            break_on_hyphens=False,
        ) or [""]
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


def case_lines(result: Result, *, show_hidden: bool, failing_only: bool = False) -> list[str]:
    """One line per case for learners; hidden cases show only their status unless asked."""
    lines = []
    for c in result.cases:
        if failing_only and c.status is Status.PASSED:
            continue
        if c.hidden and not show_hidden:
            lines.append(f"{c.name}: {case_label(c)}")
        else:
            detail = f": {c.message}" if c.message and c.status is not Status.PASSED and not not_run(c) else ""
            lines.append(
                f"case {c.index} ({c.name}, seed {c.seed}){' [hidden]' if c.hidden else ''}: {case_label(c)}{detail}"
            )
    return lines


def gradescope_output(result: Result, *, show_hidden: bool) -> str:
    """A learner's feedback on one problem: a file-level failure once; else the verdict and the failing cases."""
    if file_level(result):
        first = result.cases[0]
        message = first.message or result.message
        tb = "" if message.startswith("still has the starter") else (first.traceback or result.traceback)
        text = "\n\n".join(p for p in (f"{result.status.label}: {message}", clean_traceback(tb)) if p)
    else:
        failing = case_lines(result, show_hidden=show_hidden, failing_only=True)
        text = counts(result)
        mentioned = {
            int(n)
            for group in re.findall(r"\bcases? ((?:\d+(?:, )?)+)", result.diagnosis)
            for n in re.findall(r"\d+", group)
        }
        if not show_hidden and any(c.hidden and c.index in mentioned for c in result.cases):
            pass  # a hint about a hidden case would give its details away
        elif result.diagnosis:
            named = not result.diagnosis.startswith("Hint:")
            text += "\n" + (f"Likely mistake: {result.diagnosis}" if named else result.diagnosis)
        if failing:
            text += "\n\nfailing cases:\n" + "\n".join(failing)
        failed = next((c for c in result.cases if c.status is not Status.PASSED), None)
        if failed is not None and failed.traceback and (show_hidden or not failed.hidden):
            text += "\n\n" + clean_traceback(failed.traceback)
    return visible(text)


def counts(result: Result) -> str:
    """ "3 of 4 public cases passed; all 3 hidden cases passed": public and hidden apart."""
    parts = []
    for kind, group in (
        ("public", [c for c in result.cases if not c.hidden]),
        ("hidden", [c for c in result.cases if c.hidden]),
    ):
        if group:
            ok = sum(c.status is Status.PASSED for c in group)
            parts.append(
                f"all {len(group)} {kind} cases passed"
                if ok == len(group)
                else f"{ok} of {len(group)} {kind} cases passed"
            )
    return "; ".join(parts)


def gradescope_doc(results: list[Result], *, show_hidden: bool) -> dict:
    """The Gradescope autograder results.json: one test per problem, scored by cases passed."""
    tests = [
        {
            "name": r.problem,
            "score": r.score,
            "max_score": r.max_score,
            "status": "passed" if r.passed else "failed",
            "output": gradescope_output(r, show_hidden=show_hidden),
            "visibility": "visible",
        }
        for r in results
    ]
    return {
        "score": sum(r.score for r in results),
        "execution_time": round(sum(r.time_s for r in results), 3),
        "output": f"{sum(r.passed for r in results)} of {len(results)} problems passed",
        "tests": tests,
    }


def _write_atomic(path: Path, text: str) -> None:
    atomic_write(path, text.encode())


def csv_cell(text: str) -> str:
    """A text cell: control characters visible, and never read as a formula by a spreadsheet."""
    text = visible_line(text)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def write_class_reports(
    out_dir: Path,
    students: list[str],
    problem_ids: list[str],
    results: dict[tuple[str, str], Result],
    *,
    show_hidden: bool,
) -> None:
    """grades.csv (long), grades_wide.csv (a blank cell: not handed in), results.json per learner, report.html."""
    from grader.render.html import class_html

    long, wide = io.StringIO(), io.StringIO()
    w = csv.writer(long, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    ww = csv.writer(wide, lineterminator="\n")
    ww.writerow(["student", *problem_ids, "total", "max_total"])
    for s in students:
        row = [results[(s, p)] for p in problem_ids]
        for r in row:
            w.writerow(
                [
                    csv_cell(s),
                    r.problem,
                    r.score,
                    r.max_score,
                    r.status.value,
                    csv_cell(learner_message(r, show_hidden=show_hidden)),
                ]
            )
        ww.writerow(
            [
                csv_cell(s),
                *["" if r.status is Status.MISSING else r.score for r in row],
                sum(r.score for r in row),
                sum(r.max_score for r in row),
            ]
        )
        _write_atomic(out_dir / s / "results.json", json.dumps(gradescope_doc(row, show_hidden=show_hidden), indent=2))
    _write_atomic(out_dir / "grades.csv", long.getvalue())
    _write_atomic(out_dir / "grades_wide.csv", wide.getvalue())
    _write_atomic(out_dir / "report.html", class_html(students, problem_ids, results, show_hidden=show_hidden))
