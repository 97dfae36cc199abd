"""A Result on a terminal (and in a pipe, a file, print() in a notebook): one line per case as pytest -v prints
them, details under the first failing case, the learner's output, the likely mistake or a hint, a verdict.

Everything that comes from learner code (names, messages, tracebacks, output) is shown with its control
characters made visible (grader/render/textsafe.py) and is never read as rich markup. Lines are wrapped between
words to the console's width, never inside a word or a number. What is shown is decided from the result's facts.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

from rich.console import Console
from rich.text import Text

from grader.model.verdict import CaseResult, DiagnosisKind, FaultKind, MismatchKind, Result, Status
from grader.render import wording
from grader.render.textsafe import visible
from grader.render.wording import _

STYLE = {Status.PASSED: "green", Status.WRONG_ANSWER: "red", Status.INTERNAL_ERROR: "magenta"}
OUTPUT_CHARS, OUTPUT_LINES = 1000, 20  # of each captured stream, on the screen


def render(result: Result, console: Console) -> None:
    """The result, as a learner reads it."""
    width = console.width

    def say(text: str, indent: int = 0, style: str = "") -> None:
        _block(console, wrap(visible(text), width, indent), style)

    def show(text: str, indent: int, style: str = "") -> None:  # code and output: never wrapped, only indented
        _block(console, verbatim(visible(text), width, indent), style)

    if result.file_level and result.cases:
        first = result.cases[0]
        heading = (
            _("{file} could not be loaded:")
            if result.fault is not None
            else _("{file} failed the same way in all {n} cases:")
        )
        say(heading.format(file=Path(result.submission).name, n=len(result.cases)), 0, "bold")
        message, trace = details(first, first.message or result.message, first.traceback or result.traceback)
        if message:
            say(message, 4)
        if trace:
            show(trace, 4, "dim")
    else:
        _case_lines(result, console)
    for name in ("stdout", "stderr"):
        text = result.stdout if name == "stdout" else result.stderr
        total = result.stdout_bytes if name == "stdout" else result.stderr_bytes
        own, library = split_stderr(text) if name == "stderr" else (text, "")
        cut = total > len(text.encode())
        label = _("your stdout:") if name == "stdout" else _("your stderr:")
        for heading, part, of_all in (
            (label, own, total if cut else 0),
            (_("JAX/XLA's own messages (not from your code):"), library, 0),
        ):
            if part.strip():
                say(heading, 0, "bold")
                show(output(part, of_all), 4, "dim")
    if result.mistake is not None and not _said_under_a_case(result):
        head, text = wording.diagnosis_parts(result.mistake)
        _headed(console, wrap(visible(f"{head} {text}"), width, 0), len(head), "bold")
    if result.file_level and result.cases:
        verdict = (
            _("none of the {n} cases could run") if result.fault is not None else _("0 of {n} cases passed")
        ).format(n=result.max_score)
    elif any(c.status is not Status.PASSED for c in result.cases):
        verdict = _("{score} of {n} cases passed").format(score=result.score, n=result.max_score)
    else:
        verdict = result.message  # the notes on what was graded end it
    if verdict is not result.message and (notes := wording.notes(result)):
        for line in wrap(visible(notes), width, 0).split("\n"):
            _line(console, Text(line, style="dim"))
    head = f"{wording.label(result.status).upper()} {result.score}/{result.max_score}"
    line = _("{head}: {verdict} ({seconds})").format(
        head=head, verdict=visible(verdict), seconds=wording.seconds(result)
    )
    _headed(console, wrap(line, width, 0), len(head), f"bold {STYLE.get(result.status, 'yellow')}")


def details(case: CaseResult, message: str, traceback: str) -> tuple[str, str]:
    """A failure's message and its traceback, each "" when it is not shown: the starter stub's traceback (the
    message says it all), and the message where the traceback ends with the same exception."""
    kind = case.fault.kind if case.fault is not None else None
    traceback = traceback.strip()
    if kind is FaultKind.STUB:
        return message, ""
    if kind is FaultKind.RAISED and traceback:
        said = case.fault.cause if case.fault is not None else None  # after the error line it explains
        return "", traceback if said is None else f"{traceback}\n{wording.likely_cause(said)}"
    return message, traceback


def _case_lines(result: Result, console: Console) -> None:
    """`  0  name of the case   passed`: the status column right after the longest name that fits."""
    cases = result.cases
    if not cases:
        return
    iw = max(len(str(c.index)) for c in cases)
    labels = {c.index: wording.case_label(c) for c in cases}
    sw = max(map(len, labels.values()))
    names = {c.index: visible(wording.case_name(c)) for c in cases}
    nw = max(8, min(max(map(len, names.values())), console.width - iw - sw - 7))
    first_bad = next((c for c in cases if c.status is not Status.PASSED), None)
    for c in cases:
        style = "dim" if c.not_run else STYLE.get(c.status, "yellow")
        lines = textwrap.wrap(names[c.index], nw, break_long_words=False, break_on_hyphens=False) or [""]
        row = Text(f"  {c.index:>{iw}}  {lines[0]:<{nw}}  ")
        row.append(labels[c.index], style=style)
        _line(console, row)
        for more in lines[1:]:
            _line(console, Text(f"  {'':>{iw}}  {more}"))
        if c is first_bad:
            message, trace = details(c, c.message, c.traceback)
            text = message
            shape_said = c.mismatch is not None and c.mismatch.kind is MismatchKind.SHAPE
            if c.expected_shape is not None and c.shape is not None and c.shape != c.expected_shape and not shape_said:
                text += "\n" + _("your shape {got}, expected {want}").format(
                    got=tuple(c.shape), want=tuple(c.expected_shape)
                )
            if text.strip():
                _block(console, wrap(visible(text.strip("\n")), console.width, iw + 6))
            if trace:
                _block(console, verbatim(visible(trace), console.width, iw + 6))


def _said_under_a_case(result: Result) -> bool:
    """A wrong shape's hint repeats what the first failing case's details already say."""
    d = result.mistake
    first_bad = next((c for c in result.cases if c.status is not Status.PASSED), None)
    return (
        d is not None
        and d.kind is DiagnosisKind.SHAPE
        and first_bad is not None
        and first_bad.index == d.case
        and first_bad.mismatch is not None
        and first_bad.mismatch.kind is MismatchKind.SHAPE
    )


# ---------------------------------------------------------------- the learner's output

# absl/XLA log lines (`E0000 00:00:1700000000.123456  1234 file.cc:12] ...`) and JAX's own warnings.
_LIBRARY_LINE = re.compile(
    r"^(?:[EWIF]\d{4} [\d:.]+\s+\d+ \S+:\d+\]|WARNING: All log messages before "
    r"absl::InitializeLog|\S*(?:jax|xla|flax)\S*\.py:\d+: \w*Warning:|  warnings\.warn\()"
)


def split_stderr(text: str) -> tuple[str, str]:
    """(the learner's own lines, JAX/XLA's log lines) of a captured stderr."""
    own: list[str] = []
    library: list[str] = []
    for line in text.splitlines(keepends=True):
        (library if _LIBRARY_LINE.match(line) else own).append(line)
    return "".join(own), "".join(library)


def output(text: str, total: int = 0) -> str:
    """A captured stream for the screen: its first lines, cut at a line end, with how much was left out;
    `total`: the sandbox kept only the start of this many bytes."""
    if not total:
        return clip(text.rstrip("\n"), OUTPUT_CHARS, OUTPUT_LINES)
    shown = clip(text.rstrip("\n"), OUTPUT_CHARS, OUTPUT_LINES, note=False)
    return shown + "\n" + _("[... the rest not shown: {total:,} bytes in all]").format(total=total)


def clip(text: str, max_chars: int = 2000, max_lines: int = 40, *, note: bool = True) -> str:
    """At most `max_lines` lines and about `max_chars` characters of `text`, cut at a line end, with a note
    saying how much was left out (unless `note` is False). A single line longer than `max_chars` is cut at a
    space where there is one.

    Example:
        >>> clip("a\\nb\\nc\\n", max_lines=2)
        'a\\nb\\n[... 1 more line (2 characters) not shown]'
    """
    lines = text.splitlines(keepends=True)
    kept: list[str] = []
    size = 0
    for line in lines:
        if len(kept) >= max_lines or size + len(line) > max_chars:
            break
        kept.append(line)
        size += len(line)
    if not kept and lines:  # one huge first line: keep its start, cut between words
        head = lines[0][:max_chars]
        cut = head.rfind(" ")
        head = head[: cut if cut > max_chars // 2 else max_chars]
        if not note:
            return head
        return head + "\n" + _("[... {n:,} more characters not shown]").format(n=len(text) - len(head))
    left = lines[len(kept) :]
    if not left:
        return text
    body = "".join(kept)
    if not note:
        return body[:-1] if body.endswith("\n") else body
    said = (
        _("[... {n:,} more line ({chars:,} characters) not shown]")
        if len(left) == 1
        else _("[... {n:,} more lines ({chars:,} characters) not shown]")
    )
    sep = "" if body.endswith("\n") or not body else "\n"
    return body + sep + said.format(n=len(left), chars=sum(map(len, left)))


# ---------------------------------------------------------------- laying lines out


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


def verbatim(text: str, width: int, indent: int) -> str:
    """A traceback or output indented: its code (lines indented four spaces or more: the code and its carets)
    never wrapped, since a line of code cut in two would put a caret under the wrong column (a terminal narrower
    than the line wraps it whole, as it would the learner's own traceback); its other lines (a frame's file and
    line, the error's message) wrapped between words."""
    return "\n".join(
        (" " * indent + line) if line.startswith("    ") or not line else wrap(line, width, indent)
        for line in text.split("\n")
    )


def _headed(console: Console, text: str, head: int, style: str) -> None:
    """Wrapped lines whose first `head` characters are styled (a verdict, a "Hint:")."""
    first, _sep, rest = text.partition("\n")
    line = Text(first)
    line.stylize(style, 0, head)
    _line(console, line)
    _block(console, rest)


def _line(console: Console, text: Text) -> None:
    """One line as it is: `wrap` did the wrapping, and rich would pad it with spaces or cut it."""
    console.print(text, no_wrap=True, crop=False, overflow="ignore", soft_wrap=True)


def _block(console: Console, text: str, style: str = "") -> None:
    for line in text.split("\n") if text else []:
        _line(console, Text(line, style=style))
