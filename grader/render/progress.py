"""What the judge is doing, and did, for the person waiting: a `judge run`'s transient status line, and a
batch's progress lines and summary.

A cold first run spends seconds computing the expected outputs and compiling; a learner's infinite loop
spends the whole time limit. The status line says which step is under way and how many cases are done, and
disappears when the result is printed. Off a terminal (pipes, files, CI logs) it prints nothing.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from grader.model.verdict import Result, Status
from grader.render import commands, wording
from grader.render.textsafe import visible
from grader.render.wording import _

if TYPE_CHECKING:
    from rich.console import Console
    from rich.status import Status as Spinner


class RunProgress:
    """`with RunProgress(err, out, "mha_cross") as p: run(..., started=p.start, progress=p.update)`: once the file
    is known, the line that says what is graded (on `out`), then the status line (on `console`, a terminal)."""

    def __init__(self, console: Console, out: Console, problem_id: str):
        self.console, self.out, self.problem_id = console, out, problem_id
        self.filename, self.n_cases = "", 0
        self._status: Spinner | None = None
        self._lock = threading.Lock()
        self._step, self._since, self._done = _("starting the sandbox"), time.monotonic(), 0
        self._running = False

    def __enter__(self) -> RunProgress:
        return self

    def start(self, path: Path, n_cases: int) -> None:
        """The file being graded and its number of cases: say so, and show the steps from now on."""
        from rich.text import Text

        self.filename, self.n_cases = path.name, n_cases
        self.out.print(Text(visible(commands.grading(path.name, self.problem_id, n_cases))), highlight=False)
        if self.console.is_terminal:
            self._status = self.console.status(self._text(), spinner="dots")
            self._status.__enter__()
            self._ticker = threading.Thread(target=self._tick, daemon=True)
            self._ticker.start()

    def __exit__(self, *exc) -> None:
        if self._status is not None:
            status, self._status = self._status, None
            status.__exit__(*exc)

    def update(self, event: str, index: int) -> None:
        """The grading's progress callback (see `grade`); called from the sandbox's reader thread too."""
        with self._lock:
            if event in ("reference", "import", "imported", "case"):
                self._running = event == "imported" or (event == "case" and index + 1 < self.n_cases)
            if event == "reference":
                self._step = _("computing the expected outputs (only the first run is slow)")
            elif event == "import":
                self._step = _("importing {file}").format(file=self.filename)
            elif event == "case":
                self._done = min(self.n_cases, index + 1)
                if not self._running:
                    self._step = _("comparing with the expected outputs")
            self._since = time.monotonic()
        self._refresh()

    def _text(self) -> str:
        with self._lock:
            step, done, since, running = self._step, self._done, self._since, self._running
        if running:
            step = _("case {i} of {n} running").format(i=done + 1, n=self.n_cases)
        seconds = time.monotonic() - since
        said = _("grading {file}: {step} ({seconds:.0f} s)").format(file=self.filename, step=step, seconds=seconds)
        return fit(said, _("{step} ({seconds:.0f} s)").format(step=step, seconds=seconds), self.console.width - 3)

    def _refresh(self) -> None:
        status = self._status
        if status is not None:
            status.update(self._text())

    def _tick(self) -> None:
        while self._status is not None:
            self._refresh()
            time.sleep(0.5)


def fit(text: str, shorter: str, width: int) -> str:
    """`text` if it fits `width` columns, else `shorter`, cut at a word with an ellipsis if it must be: rich would
    cut a status line mid-word."""
    for candidate in (text, shorter):
        if len(candidate) <= width:
            return candidate
    words, kept = shorter.split(" "), ""
    for word in words:
        if len(kept) + len(word) + 2 > width:
            break
        kept = f"{kept} {word}".strip()
    return kept + "…"


# ---------------------------------------------------------------- a batch


def batch_line(done: int, total: int, student: str, result: Result, resumed: bool, seconds: float) -> str:
    """One plain progress line, for when stderr is not a terminal: `seconds` is the task's own grading time."""
    said = _("[{done}/{total}] {student} {problem}: {status} {score}/{max}{resumed} ({seconds:.1f} s)").format(
        done=done,
        total=total,
        student=visible(student),
        problem=result.problem,
        status=wording.label(result.status),
        score=result.score,
        max=result.max_score,
        resumed=_(" (resumed)") if resumed else "",
        seconds=seconds,
    )
    return said


def _counted(status: Status, n: int) -> str:
    one = {
        Status.PASSED: _("{n} passed"),
        Status.WRONG_ANSWER: _("{n} wrong"),
        Status.ERROR: _("{n} error"),
        Status.TIMEOUT: _("{n} timeout"),
        Status.MEMORY: _("{n} out of memory"),
        Status.CRASHED: _("{n} crashed"),
        Status.INTERNAL_ERROR: _("{n} internal error"),
        Status.MISSING: _("{n} not handed in"),
    }
    many = {
        Status.ERROR: _("{n} errors"),
        Status.TIMEOUT: _("{n} timeouts"),
        Status.INTERNAL_ERROR: _("{n} internal errors"),
    }
    return (one[status] if n == 1 else many.get(status, one[status])).format(n=n)


def _word(status: Status) -> str:
    """A status in a batch's changes ("timeout -> passed")."""
    return _counted(status, 1).removeprefix("1 ")


def batch_summary(
    results: dict[tuple[str, str], Result],
    resumed: set[tuple[str, str]],
    before: dict[tuple[str, str], Status],
    out_dir: Path,
) -> list[str]:
    """What a batch did, for the instructor: counts by status, what was reused or regraded, the files written."""
    students = {s for s, _p in results}
    problems = {p for _s, p in results}
    counts = Counter(r.status for r in results.values())
    by_status = ", ".join(_counted(s, counts[s]) for s in Status if counts[s])
    graded = [k for k in results if k not in resumed]
    regraded = [k for k in graded if k in before]
    changed = [
        f"{s}/{p}: {_word(before[(s, p)])} -> {_word(results[(s, p)].status)}"
        for s, p in sorted(regraded)
        if before[(s, p)] is not results[(s, p)].status
    ]
    runs = []
    if resumed:
        runs.append(_("{n} reused from the last run").format(n=len(resumed)))
    if regraded:
        shown = "; ".join(changed[:5]) + (_("; {n} more").format(n=len(changed) - 5) if len(changed) > 5 else "")
        said = _("{n} regraded ({changes})") if changed else _("{n} regraded (no grade changed)")
        runs.append(said.format(n=len(regraded), changes=shown))
    if len(graded) > len(regraded):
        runs.append(_("{n} graded").format(n=len(graded) - len(regraded)))
    levels = sorted({r.replay.sandbox for r in results.values() if r.replay and r.replay.sandbox != "none"})
    where = _("; sandbox: {levels}").format(levels=", ".join(levels)) if levels else ""
    learners = (_("1 student") if len(students) == 1 else _("{n} students")).format(n=len(students))
    tasks = (_("1 problem") if len(problems) == 1 else _("{n} problems")).format(n=len(problems))
    head = _("{students} x {problems}: {counts}; {runs}{where}").format(
        students=learners, problems=tasks, counts=by_status, runs=", ".join(runs), where=where
    )
    if any(c.hidden for r in results.values() for c in r.cases):
        cases = _("graded on the public and the hidden cases")
    else:
        cases = _(
            "graded on the public cases only, whose expected outputs the learners' kit holds; "
            "--hidden-seed SECRET grades hidden cases too"
        )
    return [
        head,
        cases,
        f"  {out_dir / 'grades.csv'}",
        f"  {out_dir / 'grades_wide.csv'}",
        f"  {out_dir / 'report.html'}",
        "  " + _("{path} (Gradescope format, one per learner)").format(path=out_dir / "<student>" / "results.json"),
    ]
