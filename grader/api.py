"""The judge as a library: one function per command. The command line (grader/cli) parses its options, calls
one of these and renders what it returns; a program or a notebook calls them the same way.

Each takes the `Context` to work in (the problem set, the cache, the sandbox level); without one, the context
the environment names is used ($JUDGE_PROBLEMS, $JUDGE_CACHE_DIR, ...), and closed when the call returns.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from grader.authoring.check import SECRETS, Check, check_problems
from grader.authoring.scaffold import copy_builtin
from grader.authoring.scaffold import new_problem as scaffold
from grader.batch.run import BatchReport, OnResult
from grader.batch.run import batch as grade_class
from grader.batch.tasks import Options, Task, grade_task, read_submission
from grader.context import Context
from grader.grading import pipeline
from grader.grading.in_notebook import CheckResult
from grader.grading.in_notebook import check_function as check_here
from grader.grading.submission import Submission, find_submission, missing
from grader.model.errors import ProblemError, UnknownProblem, UsageError, WeakSandbox
from grader.model.problem import Limits, Problem
from grader.model.storage import atomic_write, judge_version
from grader.model.verdict import Result, SandboxInfo, Status
from grader.package.autograder import autograder as write_autograder
from grader.package.release import release as write_kit
from grader.package.wheels import wheel_name
from grader.practice import filewatch, hints, progress, solution
from grader.practice.notebook_make import practice_notebook
from grader.render import gradescope as gradescope_doc
from grader.render import commands, wording
from grader.sandbox import policy
from grader.sets.hidden import grading_cases
from grader.sets.store import ROOT as JUDGE_ROOT
from grader.sets.store import chosen, is_kit

# JAX's CPU runtime reserves about 1.5 GB of address space before any code runs: measured, the correct
# mha_cross runs out of memory at 1600 MB and passes at 1700 (judge run ... --memory-limit N).
MIN_MEMORY_MB = 1800


@contextlib.contextmanager
def _using(context: Context | None, sandbox: str = "auto") -> Iterator[Context]:
    """The caller's context, or the environment's for this call only (closed after it)."""
    if context is not None:
        yield context
        return
    with Context.from_environment(sandbox=sandbox) as made:
        yield made


# ---------------------------------------------------------------- grading one file


def grade(
    problem_id: str,
    submission: str | Path,
    *,
    limits: Limits | None = None,
    sandbox: str = "auto",
    hidden_seed: str | None = None,
    progress: Callable[[str, int], None] | None = None,
    context: Context | None = None,
) -> Result:
    """Grade a learner's file on a problem's cases.

    Args:
        problem_id: a problem id, as `judge list` shows them.
        submission: path of the learner's Python file or notebook.
        limits: resource limits; the problem's own by default.
        sandbox: "auto", "bwrap" or "process" (without a context; a context has its own level).
        hidden_seed: a secret; when given, hidden cases derived from it are graded too.
        progress: called as the grading goes: ("reference", 0) while expected outputs are computed,
            ("import", 0) when the learner's file is being imported, ("imported", 0) when it is, ("case", i)
            when case i is done.
        context: the problem set, cache and sandbox to use (default: the environment's, for this call).

    Raises UsageError for an unknown problem or a missing file; every fault of the learner's code, and any
    judge bug, comes back as a Result.

    Example:
        >>> grade("cross_attention_mask", "cross_attention_mask.py").status
        <Status.PASSED: 'passed'>
    """
    if callable(submission):
        raise UsageError(
            f"grade() takes the path of a file; to check a function object use check_function({problem_id!r}, fn)"
        )
    with _using(context, sandbox) as ctx:
        problem = _problem(ctx, problem_id)
        hand_in = _read(Path(submission), problem_id)
        cases = grading_cases(problem, ctx.problems, hidden_seed)
        return pipeline.grade_file(ctx, problem, hand_in, limits=limits, cases=cases, progress=progress)


def _read(path: Path, problem_id: str) -> Submission:
    """The file a learner names, read once; a UsageError with the fix when it is not there."""
    try:
        if path.is_dir():
            raise UsageError(
                f"{path} is a folder, not a file: give your Python file, e.g. --file {path / (problem_id + '.py')}"
            )
        if not path.is_file():
            notebook = path.with_suffix(".ipynb")
            hint = (
                f"{notebook} is a notebook: export it as a Python script first"
                if notebook.is_file()
                else f"run `judge init {problem_id}` to get the stub"
            )
            raise UsageError(f"no such file: {path} ({hint})")
        return Submission.read(path)
    except OSError as e:
        raise UsageError(f"cannot read {path}: {e.strerror}") from None


def limits_for(
    context: Context,
    problem_id: str,
    time_limit: float | None = None,
    import_limit: float | None = None,
    memory_limit: int | None = None,
) -> Limits:
    """A problem's limits with the ones given changed; a UsageError naming the option for a bad one."""
    base = _problem(context, problem_id).meta.limits
    given = {"time_s": time_limit, "import_s": import_limit, "memory_mb": memory_limit}
    options = {"time_s": "--time-limit", "import_s": "--import-limit", "memory_mb": "--memory-limit"}
    for name, value in given.items():
        if value is None:
            continue
        if name == "memory_mb" and value < MIN_MEMORY_MB:
            raise UsageError(
                f"--memory-limit must be at least {MIN_MEMORY_MB} (MB; got {value}): JAX alone "
                "reserves about 1.5 GB of address space, so even the reference fails below it"
            )
        if name != "memory_mb" and not value > 0:
            raise UsageError(f"{options[name]} must be more than 0 seconds (got {value:g})")
    try:
        return Limits(**{**base.model_dump(), **{k: v for k, v in given.items() if v is not None}})
    except ValidationError as e:
        first = e.errors()[0]
        raise UsageError(f"bad {options.get(str(first['loc'][0]), first['loc'][0])}: {first['msg']}") from None


@dataclass(frozen=True)
class Run:
    """`judge run`'s outcome: the result, and why the learner's progress could not be saved (if it could not)."""

    result: Result
    unsaved: str = ""
    judges_file: bool = False  # the file is the judge's own (its tests, references, stubs): not in the progress


def run(
    context: Context,
    problem_id: str,
    file: Path | None,
    limits: Limits,
    *,
    progress: Callable[[str, int], None] | None = None,
    started: Callable[[Path, int], None] | None = None,
) -> Run:
    """`judge run`: grade ./ID.py (or ./ID.ipynb, or `file`) and keep the outcome in the learner's progress.
    `started` is told the file and its number of cases as the grading starts (when the file is there)."""
    path = submission_of(problem_id, file)
    if started is not None and _is_file(path):
        started(path, len(_problem(context, problem_id).cases))
    result = grade(problem_id, path, limits=limits, progress=progress, context=context)
    if _judges_file(context, path):
        return Run(result, judges_file=True)
    return Run(result, _record(context, result))


def problem_ids(context: Context, asked: list[str] | None) -> list[str]:
    """The problems a command works on: those asked for, checked, else all of the set's."""
    return chosen(context.problems, asked)


def installed_as_kit() -> bool:
    """Whether this install of the judge is a learner kit (its commands are the learner's only)."""
    return is_kit(JUDGE_ROOT)


def _judges_file(context: Context, path: Path) -> bool:
    """Whether `path` lies in the judge's checkout or installation, or in the problem set's folder: grading the
    judge's own examples or a reference is not the learner's progress."""
    try:
        where = path.resolve()
    except OSError:
        return False
    return any(where.is_relative_to(top) for top in (JUDGE_ROOT, context.problems.root.resolve()))


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:
        return False


def submission_of(problem_id: str, file: Path | None) -> Path:
    """The file `judge run` grades: `file`, else ./ID.py, else ./ID.ipynb."""
    return file or find_submission(Path("."), problem_id)[0]


def _record(context: Context, result: Result) -> str:
    """Keep the outcome in the learner's progress; a data folder that cannot be written costs only that."""
    try:
        progress.record_run(context.data_dir, result)
    except OSError as e:
        return str(e)
    return ""


def watch(
    context: Context,
    problem_id: str,
    path: Path,
    limits: Limits,
    on_result: Callable[[Run], None],
    on_error: Callable[[UsageError], None],
) -> None:
    """`judge run --watch`: grade, then grade again after every save, with one zygote throughout; runs until
    interrupted (KeyboardInterrupt). A usage error before the first result is raised; later ones (the file gone
    for a moment while an editor saves) go to `on_error`."""
    for count, _ in enumerate(filewatch.saves(path)):
        try:
            outcome = run(context, problem_id, path, limits)
        except UsageError as e:
            if count == 0:
                raise
            on_error(e)
        else:
            on_result(outcome)


def check_function(
    problem_id: str,
    fn: Callable[..., Any] | None = None,
    *,
    time_limit: float | None = None,
    context: Context | None = None,
) -> CheckResult:
    """Grade a function on a problem's public cases, here in this process, and return the result.

    Args:
        problem_id: a problem id, as `judge list` shows them.
        fn: the learner's function, called as `judge run` calls it (by keyword when its signature allows);
            by default the function of the problem's name in the caller's namespace (a notebook's globals).
        time_limit: seconds for all cases together (default: the problem's own limit).

    A function that raises, runs past the limit or returns something that is not an array of numbers
    gives those statuses, never an exception out of check_function; a namespace without the function says
    so as `judge run` does. Raises UsageError for an unknown problem or an `fn` that is not callable.

    Example (in a notebook cell):
        >>> from grader import check_function
        >>> check_function("mha_cross", mha_cross)   # shows the table; .passed, .score, .cases for code
    """
    names: list[str] = []
    if fn is not None and not callable(fn):
        raise UsageError(f"check_function({problem_id!r}, fn) needs the function itself, not {type(fn).__name__}")
    with _using(context) as ctx:
        problem = _problem(ctx, problem_id)
        if fn is None:
            caller = inspect.currentframe()
            namespace = caller.f_back.f_globals if caller is not None and caller.f_back is not None else {}
            found = namespace.get(problem.meta.function)
            fn = found if callable(found) else None
            names = [n for n, v in namespace.items() if not n.startswith("_") and callable(v)]
        limits = problem.meta.limits
        if time_limit is not None:
            limits = Limits(**{**limits.model_dump(), "time_s": time_limit})
        return check_here(problem, ctx.problems, fn, names=names, limits=limits, cache=ctx.cache)


# ---------------------------------------------------------------- a learner's other commands


@dataclass(frozen=True)
class Listed:
    """One problem in `judge list` or `judge progress`."""

    id: str
    title: str  # or why the problem is malformed
    malformed: bool
    mark: str
    score: str
    runs: int
    hints_seen: int
    hints: int | None  # None: it has no usable hints, or they were not asked for


def problem_list(context: Context, *, with_hints: bool = False) -> list[Listed]:
    """Every problem of the set, with the learner's mark, last score and runs (and, `with_hints`, how many hints
    each has: that reads every hints.json, which only `judge progress` shows)."""
    stored = progress.load_progress(context.data_dir).problems
    out = []
    for pid in context.problems.ids():
        try:
            title, malformed = context.problems.load(pid).meta.title, False
        except ProblemError as e:
            title, malformed = str(e), True
        n_hints: int | None = None
        try:
            n_hints = len(hints.load_hints(context.problems, pid)) if with_hints else None
        except ProblemError:
            pass
        mark, score = progress.mark(stored.get(pid))
        p = stored.get(pid) or progress.ProblemProgress()
        out.append(Listed(pid, title, malformed, mark, score, p.runs, p.hints_seen, n_hints))
    return out


def progress_path(context: Context) -> Path:
    return progress.progress_path(context.data_dir)


def reset_progress(context: Context) -> Path:
    """Forget all progress and hints seen; a UsageError when the file cannot be removed."""
    try:
        return progress.reset(context.data_dir)
    except OSError as e:
        raise UsageError(f"cannot clear {progress.progress_path(context.data_dir)}: {e.strerror}") from None


def spec(context: Context, problem_id: str) -> str:
    """A problem's spec (Markdown)."""
    return _problem(context, problem_id).spec_path.read_text()


def init(context: Context, problem_id: str, directory: Path) -> Path:
    """Write a problem's stub to DIRECTORY/ID.py (never overwrites a file)."""
    problem = _problem(context, problem_id)
    target = _new_file(directory / f"{problem_id}.py")
    shutil.copyfile(problem.stub_path, target)
    return target


def _new_file(target: Path) -> Path:
    """`target`, checked to be a file `judge init` may write: never one that exists, in a folder that does."""
    if target.exists():
        raise UsageError(f"{target} already exists; not overwriting it")
    if not target.parent.is_dir():
        raise UsageError(f"no such directory: {target.parent}")
    return target


def init_notebook(context: Context, problem_id: str, directory: Path) -> Path:
    """`judge init ID --notebook`: write a practice notebook to DIRECTORY/ID.ipynb (never overwrites a file): the
    task, the stub, a cell that checks it and a cell that shows hints (grader/practice/notebook_make.py)."""
    problem = _problem(context, problem_id)
    target = _new_file(directory / f"{problem_id}.ipynb")
    root = context.problems.root.resolve()
    text = practice_notebook(
        problem,
        wheel=wheel_name(judge_version()) if context.problems.kit else None,  # a kit's own wheel, to install
        problems_dir=root if root != JUDGE_ROOT else None,  # a course's set, which the kernel must be told of
    )
    try:
        with target.open("x", encoding="utf-8") as f:
            f.write(text)
    except FileExistsError:
        raise UsageError(f"{target} already exists; not overwriting it") from None
    return target


def _problem(context: Context, problem_id: str) -> Problem:
    """The problem a person named; a malformed one is their usage error, naming the file and the field."""
    try:
        return context.problems.load(problem_id)
    except UnknownProblem as e:
        raise e.worded(commands.unknown_problem(e)) from None
    except ProblemError as e:
        raise UsageError(f"problem {problem_id!r} is malformed: {e}") from None


def hint(context: Context, problem_id: str, show_all: bool = False) -> hints.HintsShown:
    """The next hint (or all of them), remembered in the learner's progress."""
    try:
        return hints.next_hint(context.problems, context.data_dir, problem_id, show_all=show_all)
    except ProblemError as e:
        raise UsageError(f"problem {problem_id!r} has no usable hints: {e}") from None


def hint_text(problem_id: str, *, show_all: bool = False, context: Context | None = None) -> str:
    """`judge hint` for a notebook cell: the next hint not seen yet (or all of them) as text to print, remembered
    in the learner's progress as `judge hint` remembers it.

    Example (in a notebook cell):
        >>> from grader import hint_text
        >>> print(hint_text("mha_cross"))
    """
    with _using(context) as ctx:
        first, shown, total, remembered = hint(ctx, problem_id, show_all)
    return commands.hints_in_notebook(problem_id, first, shown, total, remembered)


def reference_solution(context: Context, problem_id: str) -> tuple[str, str]:
    """The explanation and the reference's source, once the learner's file has passed (SolutionUnavailable)."""
    return solution.solution(context.problems, context.data_dir, problem_id)


# ---------------------------------------------------------------- an instructor's commands


def batch(
    class_dir: str | Path,
    out_dir: str | Path,
    *,
    context: Context | None = None,
    sandbox: str = "auto",
    on_start: Callable[[int, list[str]], None] | None = None,
    on_result: OnResult | None = None,
    **options: Any,
) -> BatchReport:
    """Grade a class folder (see grader/batch/run.py's `batch` for the options) and write its reports."""
    with _using(context, sandbox) as ctx:
        return grade_class(ctx, class_dir, out_dir, on_start=on_start, on_result=on_result, **options)


@dataclass(frozen=True)
class Gradescope:
    """`judge gradescope`'s outcome: the document written, and warnings for the instructor."""

    document: dict[str, Any]
    warnings: list[str]
    failed: list[str]  # problems the judge failed on (internal errors), or ["*"] when it could not grade at all


def gradescope(
    context: Context,
    submission_dir: Path,
    results: Path,
    problem_ids: list[str] | None = None,
    *,
    hidden_seed: str | None = None,
    show_hidden: bool = False,
    allow_weak_sandbox: bool = False,
    hidden_visibility: str = "after_due_date",
) -> Gradescope:
    """The entry point of a Gradescope autograder: grade the upload and write results.json (always, whole).

    A misconfigured autograder (an unknown or malformed problem, a weak sandbox not allowed) raises a
    UsageError before anything is graded: it must fail loudly, not give every student 0."""
    ids = chosen(context.problems, problem_ids)
    try:
        for pid in ids:
            context.problems.load(pid)
    except ProblemError as e:
        raise UsageError(str(e)) from None
    if not policy.guarded(context.level()) and not allow_weak_sandbox:
        raise WeakSandbox("gradescope")
    if hidden_visibility not in gradescope_doc.VISIBILITIES:
        raise UsageError(f"unknown visibility {hidden_visibility!r}; choose {', '.join(gradescope_doc.VISIBILITIES)}")
    warnings: list[str] = []
    failed: list[str] = []
    try:
        graded: list[Result] = []
        found: list[str] = []
        options = Options.of(context, hidden_seed)
        hand_ins = context.problems.ids()  # a file named for another problem is that problem's
        for pid in ids:
            path, choice = find_submission(submission_dir, pid, recursive=True, others=hand_ins)
            shown = str(path.relative_to(submission_dir))
            if path.exists():
                found.append(commands.gradescope_found(pid, shown))
                hand_in = read_submission(path, shown, choice)
            else:
                hand_in = missing(submission_dir, pid, shown, recursive=True, others=hand_ins)
            if choice is not None:
                warnings.append(f"{pid}: {wording.choice_note(choice)}")
            graded.append(grade_task(Task("learner", pid, hand_in), context, options))
        sandbox = commands.sandbox_line(sandbox_info(context.level()))
        extra = [*found, *(commands.warning(w) for w in warnings)]
        document = gradescope_doc.document(
            graded, show_hidden=show_hidden, extra=extra, hidden_visibility=hidden_visibility, sandbox=sandbox
        )
        failed = [r.problem for r in graded if r.status is Status.INTERNAL_ERROR]
    except Exception as e:  # Gradescope shows a missing results.json as a failed autograder: always write one
        document = gradescope_doc.could_not_grade(e)
        failed = ["*"]
    atomic_write(results, json.dumps(document, indent=2).encode())
    return Gradescope(document, warnings, failed)


def check(
    context: Context, problem_id: str | None = None, *, secrets: int = SECRETS, workers: int | None = None
) -> Iterator[tuple[str, Iterator[Check]]]:
    """`judge check`: each problem's checks (all of the set's by default, `workers` side by side)."""
    ids = chosen(context.problems, [problem_id] if problem_id else None)
    return check_problems(context, ids, secrets=secrets, workers=workers)


def new_problem(
    context: Context, problem_id: str, title: str | None = None, *, from_builtin: bool = False
) -> list[str]:
    """`judge new`: a working example problem to edit, written into the context's set; or, `from_builtin`, a copy
    of the built-in problem of that id."""
    if from_builtin:
        return copy_builtin(context.problems, problem_id)
    return scaffold(context.problems, problem_id, title)


def release(context: Context, out_dir: Path, problem_ids: list[str] | None = None) -> Path:
    """`judge release`: a learner kit in OUT_DIR (one wheel, a README, a notebook per problem); the wheel's path."""
    return write_kit(context, out_dir, problem_ids)


def autograder(
    context: Context, out_zip: Path, problem_ids: list[str] | None = None, *, hidden_seed: str | None = None
) -> Path:
    """`judge autograder`: a Gradescope autograder zip."""
    return write_autograder(context, out_zip, problem_ids, hidden_seed=hidden_seed)


# ---------------------------------------------------------------- the sandbox, for the people who read a grade


def sandbox_info(level: str) -> SandboxInfo:
    return policy.info(level)


@dataclass(frozen=True)
class BubblewrapFix:
    """Why the strong sandbox is missing here, and the command that installs it (None: none known)."""

    installed: bool
    command: str | None


def bubblewrap_fix() -> BubblewrapFix:
    return BubblewrapFix(policy.bubblewrap_installed(), policy.bubblewrap_install_command())
