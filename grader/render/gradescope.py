"""A learner's feedback as Gradescope shows it: results.json, one test per problem, scored by cases passed.

Hidden cases show only their names and statuses unless the instructor asks (`show_hidden`): a hint that names
a hidden case is left out too, as it would give that case away.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from grader.model.verdict import FaultKind, Result, Status
from grader.render import wording
from grader.render.textsafe import visible
from grader.render.wording import _


def case_lines(result: Result, *, show_hidden: bool, failing_only: bool = False) -> list[str]:
    """One line per case for learners; hidden cases show only their status unless asked."""
    lines = []
    for c in result.cases:
        if failing_only and c.status is Status.PASSED:
            continue
        label = wording.case_label(c)
        if c.hidden and not show_hidden:
            lines.append(f"{c.name}: {label}")
            continue
        said = (
            _("case {i} ({name}, seed {seed}) [hidden]: {label}")
            if c.hidden
            else _("case {i} ({name}, seed {seed}): {label}")
        ).format(i=c.index, name=c.name, seed=c.seed, label=label)
        if c.message and c.status is not Status.PASSED and not c.not_run:
            said += f": {c.message}"
        lines.append(said)
    return lines


def output(result: Result, *, show_hidden: bool) -> str:
    """A learner's feedback on one problem: a file-level failure once; else the verdict and the failing cases."""
    if result.file_level and result.cases:
        first = result.cases[0]
        message = first.message or result.message
        stub = first.fault is not None and first.fault.kind is FaultKind.STUB
        trace = "" if stub else (first.traceback or result.traceback).strip()
        text = "\n\n".join(p for p in (f"{wording.label(result.status)}: {message}", trace) if p)
        return visible(text)
    text = wording.counts(result.cases)
    d = result.mistake
    if d is not None and (
        show_hidden or not any(result.cases[i].hidden for i in d.cases_named if i < len(result.cases))
    ):
        text += "\n" + " ".join(wording.diagnosis_parts(d))
    failing = case_lines(result, show_hidden=show_hidden, failing_only=True)
    if failing:
        text += "\n\n" + _("failing cases:") + "\n" + "\n".join(failing)
    failed = next((c for c in result.cases if c.status is not Status.PASSED), None)
    if failed is not None and failed.traceback and (show_hidden or not failed.hidden):
        text += "\n\n" + failed.traceback.strip()
    return visible(text)


def document(results: list[Result], *, show_hidden: bool, extra: Sequence[str] = ()) -> dict[str, Any]:
    """The Gradescope autograder results.json: one test per problem, scored by cases passed; `extra` lines go
    under the overall output."""
    tests = [
        {
            "name": r.problem,
            "score": r.score,
            "max_score": r.max_score,
            "status": "passed" if r.passed else "failed",
            "output": output(r, show_hidden=show_hidden),
            "visibility": "visible",
        }
        for r in results
    ]
    summary = _("{passed} of {n} problems passed").format(passed=sum(r.passed for r in results), n=len(results))
    return {
        "score": sum(r.score for r in results),
        "execution_time": round(sum(r.time_s for r in results), 3),
        "output": "\n".join([summary, *extra]),
        "tests": tests,
    }


def could_not_grade(error: BaseException) -> dict[str, Any]:
    """The last-ditch results.json, when the grading itself failed: Gradescope shows a missing file as a failed
    autograder, so one is always written."""
    return {
        "score": 0,
        "output": _("The autograder could not grade this submission: {error}").format(error=error),
        "tests": [],
    }
