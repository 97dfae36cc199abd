"""What a learner is shown of hidden cases: their names marked as hidden, their details left out unless asked.

Shared by the terminal and Gradescope feedback (grader/report.py) and the class page (grader/html_report.py).
"""

from __future__ import annotations

from grader.model.problem import CaseResult, Result


def case_name(case: CaseResult) -> str:
    return case.name if case.name.startswith("hidden") or not case.hidden else f"{case.name} (hidden)"


def learner_message(result: Result, *, show_hidden: bool) -> str:
    """The result's message, without a hidden case's details unless asked."""
    if show_hidden or not any(c.hidden for c in result.cases):
        return result.message
    first = next((c for c in result.cases if c.status is result.status), None)
    if first is not None and first.hidden:
        return result.message.split("; a hidden case:")[0] + f"; a hidden case failed ({result.status.label})"
    return result.message
