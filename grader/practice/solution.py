"""The reference solution and why it works: shown once the learner's own file has passed."""

from __future__ import annotations

from pathlib import Path

from grader.model.errors import SolutionUnavailable, UnknownProblem
from grader.practice.progress import load_progress
from grader.sets.store import ProblemSet


def solution(source: ProblemSet, data_dir: Path | None, problem_id: str) -> tuple[str, str]:
    """The explanation (maybe empty) and the reference's source, once the learner's own file has passed.

    Raises SolutionUnavailable with the one line to show otherwise.
    """
    if problem_id not in source.ids():  # not `load`: a set without this problem's reference says so below
        raise UnknownProblem(problem_id, source.ids())
    if source.kit:
        raise SolutionUnavailable("this copy of the judge has no solutions: a learner kit ships none")
    reference = source.reference_path(problem_id)
    if not reference.is_file():
        raise SolutionUnavailable(
            f"this copy of the judge has no solutions (no {reference.name} here): a learner kit ships none"
        )
    p = load_progress(data_dir).problems.get(problem_id)
    if p is None or not p.solved:
        so_far = f" (your last run: {p.last_score}/{p.max_score})" if p and p.runs else ""
        raise SolutionUnavailable(
            f"the solution opens once your own file passes: run `judge run {problem_id}` "
            f"until it does{so_far}; `judge hint {problem_id}` gives a nudge"
        )
    # Next to the reference, not in the problem folder: whatever ships the problems to learners must not ship it.
    explanation = reference.parent / "explanations" / f"{problem_id}.md"
    try:
        return explanation.read_text(), reference.read_text()
    except OSError:
        return "", reference.read_text()
