"""check_function: grade a function object on a problem's public cases, in the caller's own process.

For learners working in Jupyter or Colab, as otter-grader's `grader.check("q1")`: no sandbox (the
code is the learner's own, in their own kernel), public cases only, and the same Result as `judge run`
-- through the same pipeline, so the same expected outputs, comparison, statuses, sentences and named
mistake -- which renders itself as a table in the notebook and as the terminal text in `print()`.
Memory is not limited: it is the learner's own kernel; the time limit is the in-process runner's
(grader/grading/in_process.py: the call runs in a thread the caller watches; JAX's compiling is not counted).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from grader.grading import pipeline
from grader.grading.in_process import InProcessRunner, on_cpu
from grader.model.cache import Cache
from grader.model.problem import Limits, Problem
from grader.model.verdict import Result
from grader.render import wording
from grader.render.html import check_table
from grader.sets.store import ProblemSet


class CheckResult(Result):
    """A Result that shows itself: an HTML table in a notebook, the terminal table in print()."""

    def __str__(self) -> str:
        from rich.console import Console

        from grader.render.terminal import render

        buf = io.StringIO()
        render(self, Console(file=buf, width=110, color_system=None, soft_wrap=True, force_jupyter=False))
        return buf.getvalue().rstrip()

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # IPython's text form
        printer.text(str(self))

    def _repr_html_(self) -> str:
        return check_table(self)


def check_function(
    problem: Problem,
    source: ProblemSet,
    fn: Callable[..., Any] | None,
    *,
    names: list[str] | None = None,
    limits: Limits | None = None,
    cache: Cache | None = None,
) -> CheckResult:
    """Grade `fn` on the problem's public cases here, in this process. `fn` None: the caller's namespace, whose
    `names` are given, has no function of the problem's name (the result says so, as `judge run` does). `cache`:
    where JAX keeps what the learner's code compiles here, for the next kernel (None: JAX as it is)."""
    limits = limits or problem.meta.limits
    shown = getattr(fn, "__qualname__", None) or type(fn).__name__ if fn is not None else None
    name = wording.function_named(shown) if shown else wording.your_namespace()
    with on_cpu():  # the expected outputs too: as in the sandbox, on the CPU
        result = pipeline.grade(
            problem, source, InProcessRunner(fn, names, cache), name=name, cases=list(problem.cases), limits=limits
        )
    return CheckResult.model_validate(result.model_dump())
