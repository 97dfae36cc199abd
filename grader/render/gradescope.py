"""A learner's feedback as Gradescope shows it: results.json, one test per problem, scored by cases passed.

Hidden cases show only their names and statuses unless the instructor asks (`show_hidden`): a hint that names
a hidden case is left out too, as it would give that case away.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from grader.model.verdict import CaseResult, FaultKind, Result, Status
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
    """A learner's feedback on one problem: a file-level failure once; else the verdict and the failing cases.
    A hidden case's message is its own (it may quote the case), never the file's: shown only with `show_hidden`."""
    own = result.fault is not None or not result.cases or not result.cases[0].hidden
    if result.file_level and result.cases and (own or show_hidden):
        first = result.cases[0]
        message = first.message or result.message
        stub = first.fault is not None and first.fault.kind is FaultKind.STUB
        trace = "" if stub else (first.traceback or result.traceback).strip()
        text = "\n\n".join(p for p in (f"{wording.label(result.status)}: {message}", trace) if p)
        return visible(text)
    text = wording.counts(result.cases)
    d = result.mistake
    hidden = {c.index for c in result.cases if c.hidden}
    if d is not None and (show_hidden or not (d.cases_named & hidden)):
        text += "\n" + " ".join(wording.diagnosis_parts(d))
    failing = case_lines(result, show_hidden=show_hidden, failing_only=True)
    if failing:
        text += "\n\n" + _("failing cases:") + "\n" + "\n".join(failing)
    failed = next((c for c in result.cases if c.status is not Status.PASSED), None)
    if failed is not None and failed.traceback and (show_hidden or not failed.hidden):
        text += "\n\n" + failed.traceback.strip()
    return visible(text)


VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")  # Gradescope's, per test


def document(
    results: list[Result],
    *,
    show_hidden: bool,
    extra: Sequence[str] = (),
    hidden_visibility: str = "after_due_date",
    sandbox: str = "",
) -> dict[str, Any]:
    """The Gradescope autograder results.json: one test per problem scored by its public cases passed, and one
    for its hidden cases (shown as `hidden_visibility` says: by default after the due date, so that their pass
    count gives nothing away before it); `extra` lines go under the overall output, and `sandbox` (the level's
    details, for the instructor) into extra_data."""
    tests = []
    for r in results:
        public = [c for c in r.cases if not c.hidden]
        hidden = [c for c in r.cases if c.hidden]
        if not hidden or not public:
            tests.append(_test(r.problem, r, show_hidden, "visible"))
            continue
        tests.append(_test(r.problem, _part(r, public), show_hidden, "visible"))
        name = _("{problem} (hidden cases)").format(problem=r.problem)
        tests.append(_test(name, _part(r, hidden), show_hidden, hidden_visibility))
    summary = _("{passed} of {n} problems passed").format(passed=sum(r.passed for r in results), n=len(results))
    doc: dict[str, Any] = {
        "score": sum(r.score for r in results),
        "execution_time": round(sum(r.time_s for r in results), 3),
        "output": "\n".join([summary, *extra]),
        "tests": tests,
    }
    if sandbox:
        doc["extra_data"] = {"sandbox": sandbox}
    return doc


def _part(result: Result, cases: list[CaseResult]) -> Result:
    """The result on some of its cases: a test of its own."""
    score = sum(c.status is Status.PASSED for c in cases)
    mistake = result.mistake
    if mistake is not None and mistake.cases_named and not set(mistake.cases_named) & {c.index for c in cases}:
        mistake = None  # a diagnosis of the other part's cases
    return result.model_copy(update={"cases": cases, "score": score, "max_score": len(cases), "mistake": mistake})


def _test(name: str, r: Result, show_hidden: bool, visibility: str) -> dict[str, Any]:
    return {
        "name": name,
        "score": r.score,
        "max_score": r.max_score,
        "status": "passed" if r.score == r.max_score and r.max_score > 0 else "failed",
        "output": output(r, show_hidden=show_hidden),
        "visibility": visibility,
        "extra_data": {"problem": r.problem, "status": r.status.value},  # for scripts: never parse the words
    }


def could_not_grade(error: BaseException) -> dict[str, Any]:
    """The last-ditch results.json, when the grading itself failed: Gradescope shows a missing file as a failed
    autograder, so one is always written."""
    return {
        "score": 0,
        "output": _("The autograder could not grade this submission: {error}").format(error=error),
        "tests": [],
    }
