"""check_function: grade a function object on a problem's public cases, in the caller's own process.

For learners working in Jupyter or Colab, as otter-grader's `grader.check("q1")`: no sandbox (the
code is the learner's own, in their own kernel), public cases only, and the same Result as `judge run`
-- the same expected outputs, comparison, statuses, summary and named mistake -- which renders itself
as a table in the notebook and as the terminal text in `print()`.

The time limit is a SIGALRM timer, so it holds only in the main thread (where a notebook's cells run)
and stops Python code: a loop, a sleep. It cannot stop one long call inside compiled code (an XLA
compilation, a huge numpy operation) until that call returns, nor code that catches every exception
(`except BaseException:` or a bare `except:`). Memory is not limited: it is the learner's own kernel.
"""

from __future__ import annotations

import contextlib
import html
import io
import signal
import sys
import threading
import time
import traceback
from typing import Any, TypedDict
from collections.abc import Callable

import numpy as np

from grader.sets import problems
from grader.model.errors import UsageError
from grader.grading.pipeline import _summary, compared
from grader.grading.diagnosis import diagnose
from grader.model.problem import CaseResult, Limits, Replay, Result, Status, worst
from grader.child.runner import call, classify, to_array

LEVEL = "none (in your own process)"
COLOURS = {Status.PASSED: "#1a7f37", Status.WRONG_ANSWER: "#cf222e"}


class _CaseId(TypedDict):
    """What every CaseResult of a case says, whatever its status."""

    index: int
    name: str
    seed: int
    expected_shape: list[int]


class _TimeUp(BaseException):
    """Raised into the learner's function by the alarm; a BaseException so `except Exception` lets it by."""


class CheckResult(Result):
    """A Result that shows itself: an HTML table in a notebook, the terminal table in print()."""

    def __str__(self) -> str:
        from rich.console import Console

        from grader.render.report import render

        buf = io.StringIO()
        render(self, Console(file=buf, width=110, color_system=None, soft_wrap=True, force_jupyter=False))
        return buf.getvalue().rstrip()

    def _repr_pretty_(self, printer, cycle: bool) -> None:  # IPython's text form
        printer.text(str(self))

    def _repr_html_(self) -> str:
        h = html.escape
        rows = []
        for c in self.cases:
            err = "" if c.max_abs_err is None else f"{c.max_abs_err:.3g}"
            colour = COLOURS.get(c.status, "#9a6700")
            detail = "" if c.status is Status.PASSED else h(c.message[:300])
            rows.append(
                f"<tr><td>{c.index}</td><td>{h(c.name)}</td>"
                f"<td style='color:{colour};font-weight:bold'>{h(c.status.label)}</td>"
                f"<td style='text-align:right'>{h(err)}</td><td>{detail}</td></tr>"
            )
        colour = COLOURS.get(self.status, "#9a6700")
        verdict = (
            f"<p style='color:{colour};font-weight:bold'>{h(self.problem)}: {h(self.status.label.upper())} "
            f"{self.score}/{self.max_score}</p>"
        )
        mistake = f"<p><b>Likely mistake:</b> {h(self.diagnosis)}</p>" if self.diagnosis else ""
        first = next((c for c in self.cases if c.status is not Status.PASSED and c.traceback), None)
        trace = f"<pre style='font-size:smaller'>{h(first.traceback[-3000:])}</pre>" if first else ""
        return (
            f"<div class='judge-result'>{verdict}<table><tr><th>#</th><th>case</th><th>status</th>"
            f"<th>max error</th><th>detail</th></tr>{''.join(rows)}</table>{mistake}"
            f"<p>{h(self.message)}</p>{trace}</div>"
        )


def check_function(problem_id: str, fn: Callable[..., Any], *, time_limit: float | None = None) -> CheckResult:
    """Grade a function on a problem's public cases, here in this process, and return the result.

    Args:
        problem_id: a problem id, as `judge list` shows them.
        fn: the learner's function, called as `judge run` calls it (by keyword when its signature allows).
        time_limit: seconds for all cases together (default: the problem's own limit).

    A function that raises, runs past the limit or returns something that is not an array of numbers
    gives those statuses, never an exception out of check_function. Raises UsageError for an unknown
    problem or an `fn` that is not callable.

    Example (in a notebook cell):
        >>> from grader import check_function
        >>> check_function("mha_cross", mha_cross)   # shows the table; .passed, .score, .cases for code
    """
    problem = problems.load_problem(problem_id)
    if not callable(fn):
        raise UsageError(f"check_function({problem_id!r}, fn) needs the function itself, not {type(fn).__name__}")
    limits = (
        problem.meta.limits
        if time_limit is None
        else Limits(**{**problem.meta.limits.model_dump(), "time_s": time_limit})
    )
    cases = list(problem.cases)
    inputs = [problems.make_inputs(problem.meta, c) for c in cases]
    with _on_cpu():
        expected = [problems.expected_output(problem, c, x) for c, x in zip(cases, inputs)]
    arg_names = [a.name for a in problem.meta.args]
    results: list[CaseResult] = []
    outputs: dict[int, np.ndarray] = {}
    start = time.perf_counter()
    with _on_cpu(), _alarm(limits.time_s) as timed:
        for i, (case, x, exp) in enumerate(zip(cases, inputs, expected)):
            base = _CaseId(index=i, name=case.name, seed=case.seed, expected_shape=list(exp.shape))
            if timed.up:
                results.append(CaseResult(**base, status=Status.TIMEOUT, message=_timeout_message(limits)))
                continue
            kwargs = {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in x.items()}  # theirs to change
            t0 = time.perf_counter()
            try:
                timed.inside = True  # the alarm raises only into the learner's call, never into the judge's code
                got, problem_text = to_array(call(fn, arg_names, kwargs), np)
                timed.inside = False
            except _TimeUp:
                timed.inside = False
                results.append(CaseResult(**base, status=Status.TIMEOUT, message=_timeout_message(limits)))
                continue
            except KeyboardInterrupt:  # the learner stopping their own cell
                raise
            except BaseException as e:
                timed.inside = False
                status, message = classify(e)
                results.append(CaseResult(**base, status=Status(status), message=message, traceback=_trace(e)))
                continue
            if problem_text:
                results.append(CaseResult(**base, status=Status.ERROR, message=problem_text))
                continue
            outputs[i] = got
            results.append(compared(problem, dict(base), got, exp, round(time.perf_counter() - t0, 4)))
    overall = worst([r.status for r in results])
    message = _summary(overall, results, None)
    diagnosis = diagnose(problem, cases, inputs, expected, outputs) if overall is Status.WRONG_ANSWER else ""
    name = getattr(fn, "__qualname__", None) or type(fn).__name__
    return CheckResult(
        problem=problem.id,
        submission=f"function {name}",
        status=overall,
        message=f"{message} {diagnosis}".strip(),
        diagnosis=diagnosis,
        cases=results,
        time_s=round(time.perf_counter() - start, 3),
        limits=limits,
        replay=Replay(
            problem=problem.id,
            problem_version=problem.meta.version,
            seeds=[c.seed for c in cases],
            versions=problems.library_versions(),
            sandbox=LEVEL,
        ),
    )


def _on_cpu() -> contextlib.AbstractContextManager[object]:
    """JAX's CPU as the default device, as in the judge's sandbox: on a GPU (Colab) float32 matmuls may use
    TF32 and miss the tolerance. When JAX is not loaded yet, the reference loads it on the CPU anyway."""
    jax = sys.modules.get("jax")
    if jax is None:
        return contextlib.nullcontext()
    try:
        return jax.default_device(jax.devices("cpu")[0])
    except Exception:  # no JAX, or a kernel started without its CPU backend: the default device, then
        return contextlib.nullcontext()


def _timeout_message(limits: Limits) -> str:
    return f"the cases took longer than the time limit of {limits.time_s:g} s (all cases together)"


def _trace(exc: BaseException) -> str:
    """The learner's frames: this module's own frame left out."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename not in (__file__,)]
    frames = [f for f in frames if "/grader/runner.py" not in f.filename]
    lines = ["Traceback (your code, most recent call last):\n", *traceback.format_list(frames[-8:])] if frames else []
    return "".join(lines + traceback.format_exception_only(type(exc), exc))[-8000:]


class _alarm:
    """A one-shot SIGALRM timer over all the cases; no limit outside the main thread (no signals there)."""

    def __init__(self, seconds: float):
        self.seconds, self.up, self.armed, self.inside = seconds, False, False, False

    def _fire(self, signum, frame) -> None:
        self.up = True  # one shot: the cases not yet run are timeouts
        if self.inside:
            raise _TimeUp()

    def __enter__(self) -> _alarm:
        if threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer"):
            self.old_handler = signal.signal(signal.SIGALRM, self._fire)
            self.old_timer = signal.setitimer(signal.ITIMER_REAL, self.seconds)
            self.armed, self.started = True, time.monotonic()
        return self

    def __exit__(self, *exc) -> None:
        if self.armed:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, signal.SIG_DFL if self.old_handler is None else self.old_handler)
            if self.old_timer[0]:  # someone else's timer was running: give it back what is left
                left = self.old_timer[0] - (time.monotonic() - self.started)
                signal.setitimer(signal.ITIMER_REAL, max(left, 0.001), self.old_timer[1])
