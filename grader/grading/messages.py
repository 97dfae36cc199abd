"""The one-line messages of a result: counts honest about public and hidden cases, and the fix a learner needs."""

from __future__ import annotations

from grader.grading import feedback
from grader.model.problem import CaseResult, Result, Status
from grader.sets.problems import Problem
from grader.child.protocol import Frame


def learner_facing(problem: Problem, result: Result, source: str) -> Result:
    """The result with messages a learner can act on: the fix spelled out, cases that never ran said so."""
    fn = problem.meta.function
    cases = [
        c.model_copy(update={"message": feedback.learner_message(c.message, c.traceback, source, fn)})
        for c in result.cases
    ]
    # Cases run in order: of those the run ended without a result for, only the first was running.
    idle = [
        c
        for c in cases
        if c.status in (Status.TIMEOUT, Status.CRASHED, Status.MEMORY) and c.shape is None and not c.traceback
    ]
    in_cases = idle and (len(idle) < len(cases) or idle[0].message.startswith("the cases took longer"))
    if in_cases and len({c.message for c in idle}) == 1 and idle[0].message:
        stopped = idle[0].index
        note = f"not run: the run stopped in case {stopped} ({idle[0].status.label})"
        cases = [c.model_copy(update={"message": note}) if c in idle[1:] else c for c in cases]
    if all(c.message == result.message for c in result.cases) and result.cases:  # the file could not be loaded
        message = cases[0].message
    elif cases == result.cases:
        return result
    else:
        message = summary(result.status, cases, None)
        message = f"{message} {result.diagnosis}".strip()
    return result.model_copy(update={"cases": cases, "message": message})


def summary(status: Status, results: list[CaseResult], load_error: Frame | None) -> str:
    """One line, honest about public and hidden cases: "all public cases passed" is not "all passed"."""
    if load_error is not None:
        return load_error.message or "your file could not be imported"
    counts = []
    for kind, group in (("public", [r for r in results if not r.hidden]), ("hidden", [r for r in results if r.hidden])):
        if group:
            passed = sum(r.status is Status.PASSED for r in group)
            counts.append(
                f"{passed} of {len(group)} {kind} cases passed"
                if passed < len(group)
                else f"all {len(group)} {kind} cases passed"
            )
    if status is Status.PASSED:
        return " and ".join(counts)
    first = next(r for r in results if r.status is status)
    where = "a hidden case" if first.hidden else f"case {first.index} ({first.name})"
    return f"{'; '.join(counts)}; {where}: {first.message}"
