"""Practising alone: hints, progress, the solution after a pass, and regrading on save.

Progress and the hints a learner has seen are kept per user, in the user's data folder
(platformdirs; `$JUDGE_DATA_DIR` overrides it), never in the project or a class folder: a
checkout can be shared, read-only, or a class's files, and a learner's history is theirs.
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, ValidationError

from grader.sets import store as problem_set
from grader.sets import problems
from grader.model.errors import UnknownProblem
from grader.model.problem import Hints, Result, Status

DATA_ENV = "JUDGE_DATA_DIR"
Mark = Literal["solved", "attempted", "new"]


class SolutionUnavailable(Exception):
    """`judge solution` cannot show the reference: not passed yet, or a kit without solutions."""


class ProblemProgress(BaseModel):
    model_config = ConfigDict(extra="ignore")  # a newer judge may store more

    runs: int = 0
    solved: bool = False  # passed all public cases at least once: opens `judge solution`
    last_status: str | None = None
    last_score: int | None = None
    max_score: int | None = None
    last_run: str | None = None  # ISO 8601, UTC
    hints_seen: int = 0


class Progress(BaseModel):
    model_config = ConfigDict(extra="ignore")

    version: int = 1
    problems: dict[str, ProblemProgress] = {}

    def of(self, problem_id: str) -> ProblemProgress:
        return self.problems.setdefault(problem_id, ProblemProgress())


# ---------------------------------------------------------------- storage


def data_dir() -> Path:
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV])
    import platformdirs  # only here: `judge run` on a batch machine never needs it

    return Path(platformdirs.user_data_dir("judge", appauthor=False))


def progress_path() -> Path:
    return data_dir() / "progress.json"


def load_progress() -> Progress:
    """The stored progress; an absent or unreadable file counts as none (practice must never block grading)."""
    try:
        return Progress.model_validate_json(progress_path().read_bytes())
    except (OSError, ValidationError, ValueError):
        return Progress()


@contextlib.contextmanager
def _updating() -> Iterator[Progress]:
    """Read, change and write the progress under a lock: two `judge run`s at once lose nothing."""
    path = progress_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        progress = load_progress()
        yield progress
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(progress.model_dump_json(indent=2))
        os.replace(tmp, path)


def reset() -> Path:
    """Forget every problem's progress and hints seen; returns the file that held them."""
    path = progress_path()
    path.unlink(missing_ok=True)
    return path


def record_run(result: Result) -> bool:
    """Store a `judge run`'s outcome. Only gradings on the public cases count, and never a judge failure."""
    if any(c.hidden for c in result.cases) or result.status is Status.INTERNAL_ERROR:
        return False
    with _updating() as progress:
        p = progress.of(result.problem)
        p.runs += 1
        p.solved = p.solved or result.passed
        p.last_status, p.last_score, p.max_score = result.status.value, result.score, result.max_score
        p.last_run = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    return True


def mark(p: ProblemProgress | None) -> tuple[Mark, str]:
    """`judge list`'s mark and last score ("3/4", or "-" before any run)."""
    if p is None or p.runs == 0:
        return "new", "-"
    return ("solved" if p.solved else "attempted"), f"{p.last_score}/{p.max_score}"


# ---------------------------------------------------------------- hints


def _known(problem_id: str) -> None:
    if problem_id not in problems.problem_ids():
        raise UnknownProblem(problem_id, problems.problem_ids())


def hints_path(problem_id: str) -> Path:
    return problem_set.active().problems_dir / problem_id / "hints.json"


def load_hints(problem_id: str) -> list[str]:
    """A problem's hints, validated; a missing or malformed file raises ProblemError naming it."""
    _known(problem_id)
    return list(problems._parse(Hints, hints_path(problem_id)).hints)


class HintsShown(NamedTuple):
    first: int  # the number of the first hint shown, from 1
    hints: list[str]
    total: int
    remembered: bool  # False when the data folder could not be written


def next_hint(problem_id: str, *, show_all: bool = False) -> HintsShown:
    """The hints to show now: the next unseen one (the last, once all are seen), or all with `show_all`.

    Remembers what was shown, so the next call goes one further.
    """
    hints = load_hints(problem_id)

    def choose(progress: Progress) -> HintsShown:
        p = progress.of(problem_id)
        index = 0 if show_all else min(p.hints_seen, len(hints) - 1)
        shown = hints if show_all else [hints[index]]
        p.hints_seen = max(p.hints_seen, index + len(shown))
        return HintsShown(index + 1, shown, len(hints), True)

    try:
        with _updating() as progress:
            return choose(progress)
    except OSError:  # a hint is worth showing even when it cannot be remembered
        return choose(load_progress())._replace(remembered=False)


# ---------------------------------------------------------------- the solution


def explanation_path(problem_id: str) -> Path:
    # Next to the reference, not in the problem folder: whatever ships the problems to learners must not ship this.
    return problem_set.active().reference_path(problem_id).parent / "explanations" / f"{problem_id}.md"


def solution(problem_id: str) -> tuple[str, str]:
    """The explanation (maybe empty) and the reference's source, once the learner's own file has passed.

    Raises SolutionUnavailable with the one line to show otherwise.
    """
    _known(problem_id)
    if problem_set.is_kit():
        raise SolutionUnavailable("this copy of the judge has no solutions: a learner kit ships none")
    reference = problem_set.active().reference_path(problem_id)
    if not reference.is_file():
        raise SolutionUnavailable(
            f"this copy of the judge has no solutions (no {reference.name} here): a learner kit ships none"
        )
    p = load_progress().problems.get(problem_id)
    if p is None or not p.solved:
        so_far = f" (your last run: {p.last_score}/{p.max_score})" if p and p.runs else ""
        raise SolutionUnavailable(
            f"the solution opens once your own file passes: run `judge run {problem_id}` "
            f"until it does{so_far}; `judge hint {problem_id}` gives a nudge"
        )
    try:
        explanation = explanation_path(problem_id).read_text()
    except OSError:
        explanation = ""
    return explanation, reference.read_text()


# ---------------------------------------------------------------- watching a file


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None  # an editor may remove the file for a moment while it saves
    return st.st_mtime_ns, st.st_size, st.st_ino


def watch(
    path: Path, regrade: Callable[[], None], *, poll_s: float = 0.25, sleep: Callable[[float], None] = time.sleep
) -> None:
    """Call `regrade` now and after every save of `path`, until interrupted (KeyboardInterrupt propagates).

    Polls the file's mtime, size and inode (no dependency, works on every file system) and waits
    until they stop changing, so a save written in several pieces is graded once.
    """
    seen = _stamp(path)
    regrade()
    while True:
        sleep(poll_s)
        now = _stamp(path)
        if now is None or now == seen:
            continue
        sleep(poll_s)
        if _stamp(path) != now:
            continue  # still being written
        seen = now
        regrade()
