"""A problem's hints, from a nudge to nearly the answer: shown one at a time, the next each time it is asked."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from grader.model.problem import Hints
from grader.practice.progress import Progress, load_progress, updating
from grader.sets.store import ProblemSet, parse


def load_hints(source: ProblemSet, problem_id: str) -> list[str]:
    """A problem's hints (`problems/<id>/hints.json`), validated; a missing or malformed file raises ProblemError
    naming it, an unknown problem UnknownProblem."""
    problem = source.load(problem_id)
    return list(parse(Hints, problem.folder / "hints.json").hints)


class HintsShown(NamedTuple):
    first: int  # the number of the first hint shown, from 1
    hints: list[str]
    total: int
    remembered: bool  # False when the data folder could not be written


def next_hint(source: ProblemSet, data_dir: Path | None, problem_id: str, *, show_all: bool = False) -> HintsShown:
    """The hints to show now: the next unseen one (the last, once all are seen), or all with `show_all`.

    Remembers what was shown, so the next call goes one further.
    """
    hints = load_hints(source, problem_id)

    def choose(progress: Progress) -> HintsShown:
        p = progress.of(problem_id)
        index = 0 if show_all else min(p.hints_seen, len(hints) - 1)
        shown = hints if show_all else [hints[index]]
        p.hints_seen = max(p.hints_seen, index + len(shown))
        return HintsShown(index + 1, shown, len(hints), True)

    try:
        with updating(data_dir) as progress:
            return choose(progress)
    except OSError:  # a hint is worth showing even when it cannot be remembered
        return choose(load_progress(data_dir))._replace(remembered=False)
