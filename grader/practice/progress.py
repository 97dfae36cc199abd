"""A learner's progress: each problem's runs, last score, whether it was solved and how many hints were seen.

Kept per user, in the user's data folder (platformdirs; the context's data_dir overrides it, from
$JUDGE_DATA_DIR), never in the project or a class folder: a checkout can be shared, read-only, or a class's
files, and a learner's history is theirs.
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from grader.model.storage import atomic_write
from grader.model.verdict import Result, Status

Mark = Literal["solved", "attempted", "new"]


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


def progress_path(data_dir: Path | None) -> Path:
    """Where the progress is kept: `data_dir`, else the user's data folder."""
    if data_dir is None:
        import platformdirs  # only here: `judge run` on a batch machine never needs it

        data_dir = Path(platformdirs.user_data_dir("judge", appauthor=False))
    return data_dir / "progress.json"


def load_progress(data_dir: Path | None) -> Progress:
    """The stored progress; an absent or unreadable file counts as none (practice must never block grading)."""
    try:
        return Progress.model_validate_json(progress_path(data_dir).read_bytes())
    except (OSError, ValidationError, ValueError):
        return Progress()


@contextlib.contextmanager
def updating(data_dir: Path | None) -> Iterator[Progress]:
    """Read, change and write the progress under a lock: two `judge run`s at once lose nothing."""
    path = progress_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        progress = load_progress(data_dir)
        yield progress
        atomic_write(path, progress.model_dump_json(indent=2).encode())


def reset(data_dir: Path | None) -> Path:
    """Forget every problem's progress and hints seen; returns the file that held them."""
    path = progress_path(data_dir)
    path.unlink(missing_ok=True)
    return path


def record_run(data_dir: Path | None, result: Result) -> bool:
    """Store a `judge run`'s outcome. Only gradings on the public cases count, and never a judge failure."""
    if any(c.hidden for c in result.cases) or result.status is Status.INTERNAL_ERROR:
        return False
    with updating(data_dir) as progress:
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
