"""The `judge` command line: a thin typer layer over the library functions."""

from __future__ import annotations

import difflib
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.text import Text

from grader import problems
from grader.errors import ProblemError, UnknownProblem, UsageError
from grader.grading import grade
from grader.models import Limits, Status
from grader.feedback import bubblewrap_advice
from grader.report import render, to_json
from grader.textsafe import visible
from grader.sandbox import resolve_level

# Plain click help: rich's help panels cut option names at 80 columns.
app = typer.Typer(no_args_is_help=True, add_completion=False, rich_markup_mode=None,
                  help="Grade JAX, Flax and NumPy exercises.")
out = Console()
err = Console(stderr=True, soft_wrap=True)


def _reader_left() -> None:
    """stdout's reader went away (`judge run ... | head`): write nothing more; the exit code still tells."""
    out.quiet = True
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


out.on_broken_pipe = _reader_left  # rich's default exits with 1, which reads as "not passed"

EXIT_PASSED, EXIT_FAILED, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3

Sandbox = Annotated[str, typer.Option(metavar="LEVEL",
                                       help="Isolation level: auto (bwrap where usable), bwrap or process.")]
ProblemId = Annotated[str, typer.Argument(metavar="PROBLEM_ID", help="Problem id, as `judge list` shows.")]
Problems = Annotated[Optional[str], typer.Option("--problems", metavar="IDS",
                                                 help="Comma-separated problem ids (default all).")]


def _usage(e: Exception, as_json: bool = False) -> typer.Exit:
    """Report a usage error in one line (and one JSON document with --json); exit code 2."""
    message = str(e)
    if isinstance(e, UnknownProblem):
        near = difflib.get_close_matches(e.problem_id, e.valid, n=1, cutoff=0.6)
        hint = f"did you mean {near[0]!r}? " if near else ""
        message = f"unknown problem {e.problem_id!r}; {hint}valid ids: {', '.join(e.valid)}"
    if message.startswith("the bwrap sandbox is not usable here"):
        message = f"the bwrap sandbox is not usable here: {bubblewrap_advice()}"
    if as_json:
        print(json.dumps({"status": "usage_error", "message": message, "valid_ids": problems.problem_ids()}))
    err.print(Text.assemble(("error:", "red"), " ", visible(message)), highlight=False)
    return typer.Exit(EXIT_USAGE)


def _problem(problem_id: str) -> problems.Problem:
    try:
        return problems.load_problem(problem_id)
    except ProblemError as e:
        raise UsageError(f"problem {problem_id!r} is malformed: {e}") from None


@app.command("list")
def list_cmd() -> None:
    """List the problems, one per line."""
    width = max(map(len, problems.problem_ids()), default=0)
    for pid in problems.problem_ids():
        try:
            title = problems.load_problem(pid).meta.title
        except ProblemError as e:
            title = f"(malformed: {e})"
        out.print(visible(f"{pid:{width}s}  {title}"), highlight=False, soft_wrap=True, markup=False)


@app.command()
def show(problem_id: ProblemId) -> None:
    """Show a problem's spec."""
    from rich.markdown import Markdown  # only here: it costs 40 ms to import

    try:
        problem = _problem(problem_id)
    except UsageError as e:
        raise _usage(e) from None
    out.print(Markdown(problem.spec_path.read_text()))


@app.command()
def init(
    problem_id: ProblemId,
    directory: Annotated[Path, typer.Option("--dir", help="Where to write the stub.")] = Path("."),
) -> None:
    """Write a problem's stub to ./ID.py (never overwrites a file)."""
    try:
        problem = _problem(problem_id)
        target = directory / f"{problem_id}.py"
        if target.exists():
            raise UsageError(f"{target} already exists; not overwriting it")
        if not directory.is_dir():
            raise UsageError(f"no such directory: {directory}")
    except UsageError as e:
        raise _usage(e) from None
    shutil.copyfile(problem.stub_path, target)
    out.print(visible(f"wrote {target}; read the task with `judge show {problem_id}`, grade with "
                      f"`judge run {problem_id}`"), highlight=False, markup=False)


# JAX's CPU runtime reserves about 1.5 GB of address space before any code runs: measured, the correct
# mha_cross runs out of memory at 1600 MB and passes at 1700 (judge run ... --memory-limit N).
MIN_MEMORY_MB = 1800


def _limits(problem_id: str, time_limit: float | None, import_limit: float | None, memory: int | None) -> Limits:
    base = _problem(problem_id).meta.limits
    given = {"time_s": time_limit, "import_s": import_limit, "memory_mb": memory}
    for name, value in given.items():
        if value is None:
            continue
        if name == "memory_mb" and value < MIN_MEMORY_MB:
            raise UsageError(f"--memory-limit must be at least {MIN_MEMORY_MB} (MB; got {value}): JAX alone "
                             "reserves about 1.5 GB of address space, so even the reference fails below it")
        if name != "memory_mb" and not value > 0:
            option = "--time-limit" if name == "time_s" else "--import-limit"
            raise UsageError(f"{option} must be more than 0 seconds (got {value:g})")
    changes = {k: v for k, v in given.items() if v is not None}
    try:
        return Limits(**{**base.model_dump(), **changes})
    except ValidationError as e:
        first = e.errors()[0]
        option = {"time_s": "--time-limit", "import_s": "--import-limit", "memory_mb": "--memory-limit"}
        raise UsageError(f"bad {option.get(str(first['loc'][0]), first['loc'][0])}: {first['msg']}") from None


@app.command()
def run(
    problem_id: ProblemId,
    file: Annotated[Optional[Path], typer.Option("--file", "-f", metavar="FILE",
                                                 help="Submission file (default ./ID.py).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print exactly one JSON document on stdout.")] = False,
    sandbox: Sandbox = "auto",
    time_limit: Annotated[Optional[float], typer.Option(metavar="SECONDS",
                                                        help="Seconds for all cases together.")] = None,
    import_limit: Annotated[Optional[float], typer.Option(metavar="SECONDS",
                                                          help="Seconds to import the file.")] = None,
    memory_limit: Annotated[Optional[int], typer.Option(
        metavar="MB", help=f"Address-space limit in MB (at least {MIN_MEMORY_MB}).")] = None,
) -> None:
    """Grade ./ID.py (or --file) on the problem's cases. Exit 0 passed, 1 not passed, 2 usage error, 3 judge error."""
    path = file or Path(f"{problem_id}.py")
    try:
        limits = _limits(problem_id, time_limit, import_limit, memory_limit)
        if as_json:
            result = grade(problem_id, path, limits=limits, sandbox=sandbox)
        else:
            result = _grade_with_progress(problem_id, path, limits, sandbox)
    except (UsageError, ValueError) as e:
        raise _usage(e, as_json) from None
    code = EXIT_INTERNAL if result.status is Status.INTERNAL_ERROR else EXIT_PASSED if result.passed else EXIT_FAILED
    try:
        if as_json:
            sys.stdout.write(to_json(result) + "\n")
        else:
            render(result, out)
            if result.status is Status.INTERNAL_ERROR:
                err.print(visible(result.traceback), highlight=False, markup=False)
            elif result.replay and result.replay.sandbox == "process" and sandbox == "auto":
                err.print(f"note: graded in the weak process-level sandbox; for the strong one, "
                          f"{bubblewrap_advice()}", style="dim", highlight=False, markup=False)
        sys.stdout.flush()
    except BrokenPipeError:  # `judge run ... | head`: the reader left; the verdict stands
        _reader_left()
    raise typer.Exit(code)


def _grade_with_progress(problem_id: str, path: Path, limits: Limits, sandbox: str):
    """Say at once what is being graded; on a terminal, show each step until the result is in."""
    from grader.progress import RunProgress

    n = len(_problem(problem_id).cases)
    try:
        exists = path.is_file()
    except OSError:
        exists = False
    if exists:  # else grade() says what is wrong with the path
        out.print(Text(f"grading {visible(path.name)} on {problem_id} ({n} cases)..."), highlight=False)
    with RunProgress(err, path.name, n) as progress:
        return grade(problem_id, path, limits=limits, sandbox=sandbox, progress=progress.update)


HiddenSeed = Annotated[Optional[str], typer.Option(
    envvar="JUDGE_HIDDEN_SEED", metavar="SECRET", show_envvar=False,
    help="Secret from which hidden cases are derived (or $JUDGE_HIDDEN_SEED).")]
ShowHidden = Annotated[bool, typer.Option("--show-hidden", help="Show hidden cases' details in the feedback.")]


def _problem_list(text: str | None) -> list[str] | None:
    return [p.strip() for p in text.split(",") if p.strip()] if text else None


@app.command("batch")
def batch_cmd(
    class_dir: Annotated[Path, typer.Argument(metavar="CLASS_DIR",
                                              help="One subfolder per learner, holding <problem-id>.py files.")],
    out: Annotated[Path, typer.Option("--out", metavar="DIR",
                                      help="Folder for grades.csv, grades_wide.csv, report.html, "
                                                    "<student>/results.json.")],
    problems_: Problems = None,
    workers: Annotated[Optional[int], typer.Option(min=1, metavar="N",
                                                   help="Parallel sandboxes (default: cores).")] = None,
    hidden_seed: HiddenSeed = None,
    show_hidden: ShowHidden = False,
    force: Annotated[bool, typer.Option("--force", help="Regrade what OUT already holds.")] = False,
    sandbox: Sandbox = "auto",
    allow_weak_sandbox: Annotated[bool, typer.Option("--allow-weak-sandbox",
                                                     help="Allow the process-level sandbox.")] = False,
    executor: Annotated[str, typer.Option(metavar="NAME",
                                          help="local (this machine) or ray (a Ray cluster).")] = "local",
    address: Annotated[Optional[str], typer.Option(metavar="ADDRESS",
                                                   help="Ray cluster address (default: start a local one).")] = None,
) -> None:
    """Grade a class folder; rerun with the same --out to resume after an interruption."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from grader.batch import batch, learners, progress_printer, stored_statuses, summary

    ids = _problem_list(problems_)
    try:
        for pid in ids or []:
            if pid not in problems.problem_ids():
                raise UnknownProblem(pid, problems.problem_ids())
        n_students = len(learners(class_dir)) if class_dir.is_dir() else 0
        total = n_students * len(ids or problems.problem_ids())
        kwargs = dict(problem_ids=ids, workers=workers, sandbox=sandbox, allow_weak_sandbox=allow_weak_sandbox,
                      hidden_seed=hidden_seed, show_hidden=show_hidden, force=force, executor=executor,
                      address=address)
        before = stored_statuses(out)
        resumed: set[tuple[str, str]] = set()
        printer = progress_printer(total)

        def seen(task, result, was_resumed: bool) -> None:
            if was_resumed:
                resumed.add((task.student, task.problem))

        if err.is_terminal:
            columns = (TextColumn("grading"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
            with Progress(*columns, console=err) as bar:
                job = bar.add_task("grading", total=total)
                results = batch(class_dir, out, on_result=lambda *a: (seen(*a), bar.advance(job)), **kwargs)
        else:
            results = batch(class_dir, out, on_result=lambda *a: (seen(*a), printer(*a)), **kwargs)
    except UsageError as e:
        raise _usage(e) from None
    except KeyboardInterrupt:
        err.print("interrupted: run the same command again to resume where it stopped")
        raise typer.Exit(130) from None
    for line in summary(results, resumed, before, out):
        err.print(visible(line), highlight=False, markup=False, soft_wrap=True)


@app.command()
def gradescope(
    submission_dir: Annotated[Path, typer.Option(help="The learner's files.")] = Path("/autograder/submission"),
    results: Annotated[Path, typer.Option(help="Where results.json goes.")] = Path("/autograder/results/results.json"),
    problems_: Problems = None,
    hidden_seed: HiddenSeed = None,
    show_hidden: ShowHidden = False,
    sandbox: Sandbox = "auto",
) -> None:
    """The entry point of a Gradescope autograder: always writes results.json, exits 0."""
    from grader.batch import grade_submission, read_task
    from grader.report import gradescope_doc

    try:
        ids = _problem_list(problems_) or problems.problem_ids()
        for pid in ids:
            problems.load_problem(pid)
        level = resolve_level(sandbox)
        found = {p.name: p for p in sorted(submission_dir.rglob("*.py"), key=lambda p: len(p.parts))}
        graded = [grade_submission(read_task("learner", pid, found.get(f"{pid}.py", submission_dir / f"{pid}.py")),
                                   level=level, hidden_seed=hidden_seed, limits=None) for pid in ids]
        doc = gradescope_doc(graded, show_hidden=show_hidden)
    except Exception as e:  # Gradescope shows a missing results.json as a failed autograder: always write one
        doc = {"score": 0, "output": f"The autograder could not grade this submission: {e}", "tests": []}
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps(doc, indent=2))
    err.print(visible(f"wrote {results}: score {doc['score']}"), highlight=False, markup=False)


@app.command()
def check(
    problem_id: Annotated[Optional[str], typer.Argument(help="Problem id (default: every problem).")] = None,
    sandbox: Sandbox = "auto",
) -> None:
    """Validate problem folders: metadata, stub, reference, pitfalls caught by the cases, determinism, spec."""
    from grader.check import check_problem

    ids = [problem_id] if problem_id else problems.problem_ids()
    if problem_id and problem_id not in problems.problem_ids():
        raise _usage(UnknownProblem(problem_id, problems.problem_ids()))
    failed = 0
    for pid in ids:
        out.print(Text(pid, style="bold"))
        for name, ok, detail in check_problem(pid, sandbox=sandbox):
            failed += not ok
            mark = "ok  " if ok else "FAIL"
            line = Text.assemble("  ", (mark, "green" if ok else "red"), f" {visible(name)}")
            if detail and not ok:
                line.append(f"  {visible(detail)}", style="dim")
            out.print(line, highlight=False)
    out.print(f"{len(ids)} problems checked, {failed} checks failed")
    raise typer.Exit(EXIT_FAILED if failed else EXIT_PASSED)


@app.command()
def new(
    problem_id: Annotated[str, typer.Argument(help="The new problem's id (also its function's name).")],
    title: Annotated[Optional[str], typer.Option(help="A one-line title.")] = None,
) -> None:
    """Scaffold a new problem (a working example to edit), then validate it with `judge check ID`."""
    from grader.scaffold import new_problem

    try:
        written = new_problem(problem_id, title)
    except UsageError as e:
        raise _usage(e) from None
    for path in written:
        out.print(visible(f"wrote {path}"), highlight=False, markup=False)
    out.print(f"edit them, then run `judge check {problem_id}`")
