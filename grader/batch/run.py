"""Grading a whole class: one folder per learner, each with `<problem-id>.py` files.

Results are stored one file per (learner, problem) under OUT_DIR/.results as they
finish, so an interrupted batch resumes where it stopped; the CSVs, the
Gradescope files and the HTML summary are rendered from those files at the end.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from grader.batch.executors import open_executor
from grader.batch.tasks import Options, Task, read_task
from grader.context import Context
from grader.model.errors import UsageError, WeakSandbox
from grader.model.problem import Limits
from grader.model.storage import atomic_write, fingerprint, judge_version
from grader.model.verdict import Result, Status
from grader.render.classfiles import write_class_reports
from grader.sandbox.policy import guarded
from grader.sets.hidden import grading_cases
from grader.sets.inputs import make_inputs
from grader.sets.store import chosen

OnResult = Callable[[Task, Result, bool], None]

OUTPUT_NAMES = ("grades.csv", "grades_wide.csv", "report.html")  # beside the learners' folders in OUT_DIR


@dataclass
class BatchReport:
    """What a batch did: every result, which were reused from OUT_DIR, what OUT_DIR held before, what it skipped."""

    out_dir: Path
    results: dict[tuple[str, str], Result] = field(default_factory=dict)
    resumed: set[tuple[str, str]] = field(default_factory=set)
    before: dict[tuple[str, str], Status] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)  # hidden folders (.git, ...), not graded

    @property
    def internal_errors(self) -> list[tuple[str, str]]:
        return sorted(k for k, r in self.results.items() if r.status is Status.INTERNAL_ERROR)


def learners(class_dir: Path) -> list[str]:
    """The learner folders of a class: every subfolder but hidden ones."""
    return sorted(d.name for d in class_dir.iterdir() if d.is_dir() and not d.name.startswith("."))


def hidden_folders(class_dir: Path) -> list[str]:
    """Subfolders a batch does not grade (.git, .ipynb_checkpoints, ...): the report names them."""
    return sorted(d.name for d in class_dir.iterdir() if d.is_dir() and d.name.startswith("."))


def _check_inputs(class_dir: Path, out_dir: Path) -> list[str]:
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
    return students


def _key(context: Context, task: Task, options: Options) -> str:
    """What a stored result depends on: regrade when any of it changes, the judge and its sandbox included."""
    problem = context.problems.load(task.problem)
    sub = task.submission
    return fingerprint(
        sub.data if sub.data is not None else f"<{sub.refused.model_dump_json() if sub.refused else 'missing'}>",
        sub.suffix + (sub.choice.model_dump_json() if sub.choice else ""),
        problem.meta.model_dump_json(),
        json.dumps([c.model_dump() for c in problem.cases]),
        context.problems.reference_digest(problem),
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
    context: Context,
    class_dir: str | Path,
    out_dir: str | Path,
    *,
    problem_ids: list[str] | None = None,
    workers: int | None = None,
    allow_weak_sandbox: bool = False,
    hidden_seed: str | None = None,
    show_hidden: bool = False,
    limits: Limits | None = None,
    force: bool = False,
    executor: str = "local",
    address: str | None = None,
    on_start: Callable[[int, list[str]], None] | None = None,
    on_result: OnResult | None = None,
) -> BatchReport:
    """Grade every learner of a class on every chosen problem of the context's set and write the class reports.

    Args:
        class_dir: one subfolder per learner holding `<problem-id>.py` files; never modified.
        out_dir: where grades.csv, grades_wide.csv, report.html and <student>/results.json go.
        problem_ids: the problems to grade (default: all).
        workers: sandboxes run in parallel (default: the number of cores).
        allow_weak_sandbox: grade at the process level where it cannot keep learners from the judge's files.
        hidden_seed: a secret from which hidden cases are derived.
        show_hidden: show hidden cases' details in the learners' feedback.
        force: regrade results already stored in out_dir.
        executor: "local" (threads on this machine) or "ray" (tasks on a Ray cluster).
        address: the Ray cluster to connect to (default: start a local one).
        on_start: called once the inputs are checked, with how many (learner, problem) there are and the
            hidden folders not graded.
        on_result: called as each (learner, problem) is done, with whether it was resumed.
    """
    class_dir, out_dir = Path(class_dir), Path(out_dir)
    chosen_ = chosen(context.problems, problem_ids)
    students = _check_inputs(class_dir, out_dir)
    if not guarded(context.level()) and not allow_weak_sandbox:
        raise WeakSandbox("batch")
    opened = open_executor(executor, address)  # an unknown or missing executor is said before anything is read
    options = Options.of(context, hidden_seed, limits)
    report = BatchReport(out_dir, before=stored_statuses(out_dir), skipped=hidden_folders(class_dir))
    if on_start:
        on_start(len(students) * len(chosen_), report.skipped)
    todo: list[Task] = []
    keys: dict[tuple[str, str], str] = {}  # each task's resume key, by (learner, problem)
    hand_ins = context.problems.ids()  # a file named for another problem is that problem's, never a misnamed one
    for student in students:
        for pid in chosen_:
            task = read_task(class_dir, student, pid, hand_ins)
            key = _key(context, task, options)
            stored = None if force else _load(_stored(out_dir, task), key)
            if stored is not None and stored.status is not Status.INTERNAL_ERROR:  # the judge's failures: again
                report.results[(student, pid)] = stored
                report.resumed.add((student, pid))
                if on_result:
                    on_result(task, stored, True)
            else:
                todo.append(task)
                keys[(student, pid)] = key
    # Only the problems someone handed a file in for need expected outputs: a missing file's result has its cases
    # without them, and a class often does a few of the set's problems.
    handed_in = [pid for pid in chosen_ if any(t.problem == pid and t.submission.data is not None for t in todo)]
    if handed_in and executor == "local":
        context.zygote(batch=True)  # started now, it imports JAX and Flax while the expected outputs are computed
    n_workers = workers or os.cpu_count() or 1
    _warm_expected(context, handed_in, hidden_seed, n_workers)
    timed_out = []
    with opened as run:  # both passes on one executor (the Ray one keeps its connection)
        for task, result in run(todo, options, n_workers, context):
            if result.status is Status.TIMEOUT and n_workers > 1 and maybe_starved(result):
                timed_out.append(task)  # maybe starved by a neighbour: final only once graded alone
                continue
            _done(out_dir, task, keys[(task.student, task.problem)], result, report, on_result)
        if timed_out:
            for task, result in run(timed_out, options, 1, context):  # one at a time, with nothing beside it
                _done(out_dir, task, keys[(task.student, task.problem)], result, report, on_result)
    write_class_reports(out_dir, students, chosen_, report.results, show_hidden=show_hidden)
    return report


def maybe_starved(result: Result) -> bool:
    """Whether a timeout may be the load's doing. Not when the CPU limit struck (CPU time is the sandbox's own,
    whatever the load), nor when the sandbox had at least half a core all along (a busy loop): grading that
    alone would cost its whole limit again, one sandbox at a time, for the same verdict."""
    if result.limit == "cpu":
        return False
    return result.cpu_s is None or result.cpu_s < 0.5 * result.time_s


def _done(out_dir: Path, task: Task, key: str, result: Result, report: BatchReport, on_result: OnResult | None) -> None:
    _save(_stored(out_dir, task), key, result)
    report.results[(task.student, task.problem)] = result
    if on_result:
        on_result(task, result, False)


def _warm_expected(context: Context, problem_ids: list[str], hidden_seed: str | None, workers: int) -> None:
    """Compute (or load) every expected output once, before the workers start: problems side by side (XLA
    compiles without the GIL, and a problem's reference loads under its own lock)."""
    source = context.problems

    def warm(pid: str) -> None:
        problem = source.load(pid)
        try:
            for case in grading_cases(problem, source, hidden_seed):
                source.expected_output(problem, case, make_inputs(problem.meta, case))
        except Exception:
            pass  # a broken reference: each of its tasks is graded, and says so, as an internal error

    with ThreadPoolExecutor(max(1, workers)) as pool:
        list(pool.map(warm, problem_ids))


def stored_statuses(out_dir: Path) -> dict[tuple[str, str], Status]:
    """The statuses OUT_DIR holds from an earlier run, whatever they were graded against (for the summary)."""
    found = {}
    for path in sorted((Path(out_dir) / ".results").glob("*/*.json")):
        try:
            found[(path.parent.name, path.stem)] = Status(json.loads(path.read_text())["result"]["status"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return found
