"""Grading a whole class: one folder per learner, each with `<problem-id>.py` files.

Results are stored one file per (learner, problem) under OUT_DIR/.results as they
finish, so an interrupted batch resumes where it stopped; the CSVs, the
Gradescope files and the HTML summary are rendered from those files at the end.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from grader import problems
from grader.errors import UsageError
from grader.grade import grade, uniform_result
from grader.models import Limits, Result, Status
from grader.report import write_class_reports
from grader.sandbox import resolve_level

MAX_SOURCE_BYTES = 1 << 20


@dataclass(frozen=True)
class Task:
    student: str
    problem: str
    path: Path | None  # None: nothing handed in


def _check_inputs(class_dir: Path, out_dir: Path, problem_ids: list[str] | None) -> tuple[list[str], list[str]]:
    valid = problems.problem_ids()
    chosen = problem_ids or valid
    unknown = [p for p in chosen if p not in valid]
    if unknown:
        raise UsageError(f"unknown problem {unknown[0]!r} in --problems; valid ids: {', '.join(valid)}")
    if not class_dir.is_dir():
        raise UsageError(f"class folder not found: {class_dir}")
    students = sorted(d.name for d in class_dir.iterdir() if d.is_dir() and not d.name.startswith("."))
    if not students:
        raise UsageError(f"class folder {class_dir} has no learner folders (one subfolder per learner)")
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


def _key(task: Task, source: bytes | None, hidden_seed: str | None, limits: Limits | None) -> str:
    """What a stored result depends on: regrade when any of it changes."""
    problem = problems.load_problem(task.problem)
    h = hashlib.sha256()
    for part in (source or b"<missing>", problem.meta.model_dump_json().encode(),
                 json.dumps([c.model_dump() for c in problem.cases]).encode(),
                 problems.reference_digest(problem).encode(), (hidden_seed or "").encode(),
                 (limits.model_dump_json() if limits else "").encode()):
        h.update(hashlib.sha256(part).digest())
    return h.hexdigest()


def _stored(out_dir: Path, task: Task) -> Path:
    return out_dir / ".results" / task.student / f"{task.problem}.json"


def _load(path: Path, key: str) -> Result | None:
    try:
        doc = json.loads(path.read_text())
        return Result.model_validate(doc["result"]) if doc.get("key") == key else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _save(path: Path, key: str, result: Result) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"key": key, "result": result.model_dump(mode="json")}))
    os.replace(tmp, path)


def _grade_task(task: Task, *, level: str, hidden_seed: str | None, limits: Limits | None) -> Result:
    problem = problems.load_problem(task.problem)
    cases = list(problem.cases) + (problems.hidden_cases(problem, hidden_seed) if hidden_seed else [])
    if task.path is None:
        return uniform_result(problem, Path(f"{task.student}/{task.problem}.py"), cases, Status.MISSING,
                              "no file handed in", limits or problem.meta.limits)
    if task.path.is_symlink() or not task.path.is_file() or task.path.stat().st_size > MAX_SOURCE_BYTES:
        return uniform_result(problem, task.path, cases, Status.ERROR,
                              f"{task.path.name} is not a regular file of at most 1 MiB", limits or problem.meta.limits)
    return grade(task.problem, task.path, limits=limits, sandbox=level, hidden_seed=hidden_seed)


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
        on_result: called as each (learner, problem) is done, with whether it was resumed.

    Returns the results by (student, problem).
    """
    class_dir, out_dir = Path(class_dir), Path(out_dir)
    students, chosen = _check_inputs(class_dir, out_dir, problem_ids)
    level = resolve_level(sandbox)
    if level == "process" and not allow_weak_sandbox:
        raise UsageError("batch grading refuses the weak process-level sandbox (is bubblewrap installed?); "
                         "pass --allow-weak-sandbox to grade without isolation of files and network")
    results: dict[tuple[str, str], Result] = {}
    with tempfile.TemporaryDirectory(prefix="judge-class-") as tmp:
        copy = Path(tmp) / "class"
        shutil.copytree(class_dir, copy, symlinks=True)  # links are copied as links and then refused
        tasks = []
        for student in students:
            for pid in chosen:
                path = copy / student / f"{pid}.py"
                tasks.append(Task(student, pid, path if path.exists() or path.is_symlink() else None))
        todo = []
        for task in tasks:
            source = task.path.read_bytes() if task.path and task.path.is_file() and not task.path.is_symlink() else None
            key = _key(task, source, hidden_seed, limits)
            stored = None if force else _load(_stored(out_dir, task), key)
            if stored is not None:
                results[(task.student, task.problem)] = stored
                if on_result:
                    on_result(task, stored, True)
            else:
                todo.append((task, key))
        _warm_expected(chosen, hidden_seed)
        with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
            futures = {pool.submit(_grade_task, t, level=level, hidden_seed=hidden_seed, limits=limits): (t, k)
                       for t, k in todo}
            try:
                for future in as_completed(futures):
                    task, key = futures[future]
                    result = future.result()
                    _save(_stored(out_dir, task), key, result)
                    results[(task.student, task.problem)] = result
                    if on_result:
                        on_result(task, result, False)
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)
                raise
    write_class_reports(out_dir, students, chosen, results, show_hidden=show_hidden)
    return results


def _warm_expected(problem_ids: list[str], hidden_seed: str | None) -> None:
    """Compute (or load) every expected output once, before the workers start."""
    for pid in problem_ids:
        problem = problems.load_problem(pid)
        cases = list(problem.cases) + (problems.hidden_cases(problem, hidden_seed) if hidden_seed else [])
        for case in cases:
            problems.expected_output(problem, case, problems.make_inputs(problem.meta, case))


def progress_printer(total: int) -> Callable[[Task, Result, bool], None]:
    """Plain progress lines, for when stderr is not a terminal."""
    done = [0]
    start = time.monotonic()

    def show(task: Task, result: Result, resumed: bool) -> None:
        done[0] += 1
        tag = " (resumed)" if resumed else ""
        print(f"[{done[0]}/{total}] {task.student} {task.problem}: {result.status.label} "
              f"{result.score}/{result.max_score}{tag} ({time.monotonic() - start:.0f} s)", file=sys.stderr, flush=True)

    return show
