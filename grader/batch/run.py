"""Grading a whole class: one folder per learner, each with `<problem-id>.py` files.

Results are stored one file per (learner, problem) under OUT_DIR/.results as they
finish, so an interrupted batch resumes where it stopped; the CSVs, the
Gradescope files and the HTML summary are rendered from those files at the end.
"""

from __future__ import annotations

import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from grader.sets import problems
from grader.model.errors import UsageError
from grader.batch.executors import get_executor
from grader.grading.feedback import bubblewrap_advice
from grader.model.problem import Limits, Result, Status
from grader.grading.submission import find_submission
from grader.render.report import write_class_reports
from grader.sandbox.policy import guarded, resolve_level
from grader.model.storage import atomic_write, fingerprint, judge_version
from grader.render.textsafe import visible
from grader.sandbox.zygote import shared_zygote
from grader.batch.tasks import Options, Task, grade_submission, read_task

__all__ = ["Task", "batch", "grade_submission", "learners", "progress_printer", "read_task"]


OUTPUT_NAMES = ("grades.csv", "grades_wide.csv", "report.html")  # beside the learners' folders in OUT_DIR


def learners(class_dir: Path) -> list[str]:
    """The learner folders of a class: every subfolder but hidden ones (see `hidden_folders`)."""
    return sorted(d.name for d in class_dir.iterdir() if d.is_dir() and not d.name.startswith("."))


def hidden_folders(class_dir: Path) -> list[str]:
    """Subfolders a batch does not grade (.git, .ipynb_checkpoints, ...): the caller says so."""
    return sorted(d.name for d in class_dir.iterdir() if d.is_dir() and d.name.startswith("."))


def _check_inputs(class_dir: Path, out_dir: Path, problem_ids: list[str] | None) -> tuple[list[str], list[str]]:
    valid = problems.problem_ids()
    chosen = problem_ids or valid
    unknown = [p for p in chosen if p not in valid]
    if unknown:
        raise UsageError(f"unknown problem {unknown[0]!r} in --problems; valid ids: {', '.join(valid)}")
    if not class_dir.is_dir():
        raise UsageError(f"class folder not found: {class_dir}")
    students = learners(class_dir)
    if not students:
        raise UsageError(f"class folder {class_dir} has no learner folders (one subfolder per learner)")
    clash = [s for s in students if s in OUTPUT_NAMES]
    if clash:
        raise UsageError(
            f"learner folder {clash[0]!r} has the name of one of the batch's output files "
            f"({', '.join(OUTPUT_NAMES)}): rename it"
        )
    if out_dir.resolve() == class_dir.resolve() or class_dir.resolve() in out_dir.resolve().parents:
        raise UsageError(f"the output folder must not be inside the class folder: {out_dir}")
    try:
        (out_dir / ".results").mkdir(parents=True, exist_ok=True)
        probe = out_dir / ".results" / f".probe-{os.getpid()}"
        probe.write_text("")
        probe.unlink()
    except OSError as e:
        raise UsageError(f"output folder {out_dir} is not writable: {e.strerror}") from None
    return students, chosen


def _key(task: Task, options: Options) -> str:
    """What a stored result depends on: regrade when any of it changes, the judge and its sandbox included."""
    problem = problems.load_problem(task.problem)
    return fingerprint(
        task.source or f"<{task.refused or 'missing'}>".encode(),
        task.suffix + task.note,
        problem.meta.model_dump_json(),
        json.dumps([c.model_dump() for c in problem.cases]),
        problems.reference_digest(problem),
        options.hidden_seed or "",
        options.limits.model_dump_json() if options.limits else "",
        judge_version(),
        options.level,
    )


def _stored(out_dir: Path, task: Task) -> Path:
    return out_dir / ".results" / task.student / f"{task.problem}.json"


def _load(path: Path, key: str) -> Result | None:
    try:
        doc = json.loads(path.read_text())
        return Result.model_validate(doc["result"]) if doc.get("key") == key else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _save(path: Path, key: str, result: Result) -> None:
    atomic_write(path, json.dumps({"key": key, "result": result.model_dump(mode="json")}).encode())


def batch(
    class_dir: str | Path,
    out_dir: str | Path,
    *,
    problem_ids: list[str] | None = None,
    workers: int | None = None,
    sandbox: str = "auto",
    allow_weak_sandbox: bool = False,
    hidden_seed: str | None = None,
    show_hidden: bool = False,
    limits: Limits | None = None,
    force: bool = False,
    executor: str = "local",
    address: str | None = None,
    on_result: Callable[[Task, Result, bool], None] | None = None,
) -> dict[tuple[str, str], Result]:
    """Grade every learner of a class on every chosen problem and write the class reports.

    Args:
        class_dir: one subfolder per learner holding `<problem-id>.py` files; never modified.
        out_dir: where grades.csv, grades_wide.csv, report.html and <student>/results.json go.
        problem_ids: the problems to grade (default: all).
        workers: sandboxes run in parallel (default: the number of cores).
        sandbox: "auto", "bwrap" or "process"; the weak process level needs allow_weak_sandbox.
        hidden_seed: a secret from which hidden cases are derived.
        show_hidden: show hidden cases' details in the learners' feedback.
        force: regrade results already stored in out_dir.
        executor: "local" (threads on this machine) or "ray" (tasks on a Ray cluster).
        address: the Ray cluster to connect to (default: start a local one).
        on_result: called as each (learner, problem) is done, with whether it was resumed.

    Returns the results by (student, problem).
    """
    class_dir, out_dir = Path(class_dir), Path(out_dir)
    students, chosen = _check_inputs(class_dir, out_dir, problem_ids)
    level = resolve_level(sandbox)
    if not guarded(level) and not allow_weak_sandbox:
        raise UsageError(
            "batch grading refuses the weak process-level sandbox (no bubblewrap, no Landlock): "
            f"{bubblewrap_advice()}; or pass --allow-weak-sandbox to grade without isolation of files and network"
        )
    run = get_executor(executor, address)
    options = Options(level=level, hidden_seed=hidden_seed, limits=limits)
    results: dict[tuple[str, str], Result] = {}
    todo: dict[Task, str] = {}
    for student in students:  # read once: the private copy every grading works from
        for pid in chosen:
            folder = class_dir / student
            task = (
                Task(student, pid, None, f"{student} is a link to another folder; links are not followed")
                if folder.is_symlink()
                else read_task(student, pid, *find_submission(folder, pid))
            )
            key = _key(task, options)
            stored = None if force else _load(_stored(out_dir, task), key)
            if stored is not None:
                results[(task.student, task.problem)] = stored
                if on_result:
                    on_result(task, stored, True)
            else:
                todo[task] = key
    if todo and executor == "local":
        shared_zygote(level)  # started now, it imports JAX and Flax while the expected outputs are computed
    n_workers = workers or os.cpu_count() or 1
    _warm_expected(chosen, hidden_seed, n_workers)
    timed_out = []
    for task, result in run(list(todo), options, n_workers):
        if result.status is Status.TIMEOUT and n_workers > 1 and maybe_starved(result):
            timed_out.append(task)  # maybe starved by a neighbour: final only once graded alone
            continue
        _done(out_dir, task, todo[task], result, results, on_result)
    for task, result in run(timed_out, options, 1):  # one at a time, with nothing beside it
        _done(out_dir, task, todo[task], result, results, on_result)
    write_class_reports(out_dir, students, chosen, results, show_hidden=show_hidden)
    return results


def maybe_starved(result: Result) -> bool:
    """Whether a timeout may be the load's doing. Not when the CPU limit struck (CPU time is the sandbox's own,
    whatever the load), nor when the sandbox had at least half a core all along (a busy loop): grading that
    alone would cost its whole limit again, one sandbox at a time, for the same verdict."""
    if result.limit == "cpu":
        return False
    return result.cpu_s is None or result.cpu_s < 0.5 * result.time_s


def _done(
    out_dir: Path,
    task: Task,
    key: str,
    result: Result,
    results: dict[tuple[str, str], Result],
    on_result: Callable[[Task, Result, bool], None] | None,
) -> None:
    _save(_stored(out_dir, task), key, result)
    results[(task.student, task.problem)] = result
    if on_result:
        on_result(task, result, False)


def _warm_expected(problem_ids: list[str], hidden_seed: str | None, workers: int) -> None:
    """Compute (or load) every expected output once, before the workers start: problems side by side (XLA
    compiles without the GIL, and a problem's reference loads under its own lock)."""

    def warm(pid: str) -> None:
        problem = problems.load_problem(pid)
        for case in problems.grading_cases(problem, hidden_seed):
            problems.expected_output(problem, case, problems.make_inputs(problem.meta, case))

    with ThreadPoolExecutor(max(1, workers)) as pool:
        list(pool.map(warm, problem_ids))


def progress_printer(total: int) -> Callable[[Task, Result, bool], None]:
    """Plain progress lines, for when stderr is not a terminal."""
    done = [0]
    start = time.monotonic()

    def show(task: Task, result: Result, resumed: bool) -> None:
        done[0] += 1
        tag = " (resumed)" if resumed else ""
        print(
            f"[{done[0]}/{total}] {visible(task.student)} {task.problem}: {result.status.label} "
            f"{result.score}/{result.max_score}{tag} ({time.monotonic() - start:.0f} s)",
            file=sys.stderr,
            flush=True,
        )

    return show


def stored_statuses(out_dir: Path) -> dict[tuple[str, str], Status]:
    """The statuses OUT_DIR holds from an earlier run, whatever they were graded against (for the summary)."""
    found = {}
    for path in sorted((Path(out_dir) / ".results").glob("*/*.json")):
        try:
            found[(path.parent.name, path.stem)] = Status(json.loads(path.read_text())["result"]["status"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return found


WORDS = {
    Status.PASSED: ("passed", "passed"),
    Status.WRONG_ANSWER: ("wrong", "wrong"),
    Status.ERROR: ("error", "errors"),
    Status.TIMEOUT: ("timeout", "timeouts"),
    Status.MEMORY: ("out of memory", "out of memory"),
    Status.CRASHED: ("crashed", "crashed"),
    Status.INTERNAL_ERROR: ("internal error", "internal errors"),
    Status.MISSING: ("not handed in", "not handed in"),
}


def summary(
    results: dict[tuple[str, str], Result],
    resumed: set[tuple[str, str]],
    before: dict[tuple[str, str], Status],
    out_dir: Path,
) -> list[str]:
    """What a batch did, for the instructor: counts by status, what was reused or regraded, the files written."""
    students = {s for s, _ in results}
    probs = {p for _, p in results}
    counts = Counter(r.status for r in results.values())
    by_status = ", ".join(f"{counts[s]} {WORDS[s][counts[s] != 1]}" for s in WORDS if counts[s])
    graded = [k for k in results if k not in resumed]
    regraded = [k for k in graded if k in before]
    changed = [
        f"{s}/{p}: {WORDS[before[(s, p)]][0]} -> {WORDS[results[(s, p)].status][0]}"
        for s, p in sorted(regraded)
        if before[(s, p)] is not results[(s, p)].status
    ]
    runs = []
    if resumed:
        runs.append(f"{len(resumed)} reused from the last run")
    if regraded:
        shown = "; ".join(changed[:5]) + (f"; {len(changed) - 5} more" if len(changed) > 5 else "")
        runs.append(f"{len(regraded)} regraded" + (f" ({shown})" if changed else " (no grade changed)"))
    if len(graded) > len(regraded):
        runs.append(f"{len(graded) - len(regraded)} graded")
    levels = sorted({r.replay.sandbox for r in results.values() if r.replay and r.replay.sandbox != "none"})
    where = f"; sandbox: {', '.join(levels)}" if levels else ""
    out = Path(out_dir)
    return [
        f"{len(students)} students x {len(probs)} problems: {by_status}; {', '.join(runs)}{where}",
        f"  {out / 'grades.csv'}",
        f"  {out / 'grades_wide.csv'}",
        f"  {out / 'report.html'}",
        f"  {out / '<student>' / 'results.json'} (Gradescope format, one per learner)",
    ]
