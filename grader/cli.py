"""The `judge` command line: a thin typer layer over the library functions."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from pydantic import ValidationError
from rich.console import Console

from grader import problems
from grader.errors import ProblemError, UnknownProblem, UsageError
from grader.grading import grade
from grader.models import Limits, Status
from grader.report import render, to_json
from grader.sandbox import resolve_level

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Grade JAX, Flax and NumPy exercises.")
out = Console()
err = Console(stderr=True, soft_wrap=True)

EXIT_PASSED, EXIT_FAILED, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3

Sandbox = Annotated[str, typer.Option(help="Isolation level: auto (bwrap where usable), bwrap or process.")]


def _usage(e: Exception, as_json: bool = False) -> typer.Exit:
    """Report a usage error in one line (and one JSON document with --json); exit code 2."""
    if as_json:
        print(json.dumps({"status": "usage_error", "message": str(e), "valid_ids": problems.problem_ids()}))
    err.print(f"[red]error:[/] {e}", highlight=False)
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
        out.print(f"{pid:{width}s}  {title}", highlight=False, soft_wrap=True)


@app.command()
def show(problem_id: Annotated[str, typer.Argument(help="Problem id, as `judge list` shows.")]) -> None:
    """Show a problem's spec."""
    from rich.markdown import Markdown  # only here: it costs 40 ms to import

    try:
        problem = _problem(problem_id)
    except UsageError as e:
        raise _usage(e) from None
    out.print(Markdown(problem.spec_path.read_text()))


@app.command()
def init(
    problem_id: Annotated[str, typer.Argument(help="Problem id, as `judge list` shows.")],
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
    out.print(f"wrote {target}; read the task with `judge show {problem_id}`, grade with `judge run {problem_id}`")


def _limits(problem_id: str, time_limit: float | None, import_limit: float | None, memory: int | None) -> Limits:
    base = _problem(problem_id).meta.limits
    changes = {k: v for k, v in (("time_s", time_limit), ("import_s", import_limit), ("memory_mb", memory)) if v}
    try:
        return Limits(**{**base.model_dump(), **changes})
    except ValidationError as e:
        first = e.errors()[0]
        raise UsageError(f"bad limit {first['loc'][0]}: {first['msg']}") from None


@app.command()
def run(
    problem_id: Annotated[str, typer.Argument(help="Problem id, as `judge list` shows.")],
    file: Annotated[Optional[Path], typer.Option("--file", "-f", help="Submission file: .py or .ipynb "
                                                 "(default ./ID.py, else ./ID.ipynb).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print exactly one JSON document on stdout.")] = False,
    sandbox: Sandbox = "auto",
    time_limit: Annotated[Optional[float], typer.Option(help="Seconds for all cases together.")] = None,
    import_limit: Annotated[Optional[float], typer.Option(help="Seconds to import the file.")] = None,
    memory_limit: Annotated[Optional[int], typer.Option(help="Address-space limit in MB (at least 1600).")] = None,
) -> None:
    """Grade ./ID.py (or --file) on the problem's cases. Exit 0 passed, 1 not passed, 2 usage error, 3 judge error."""
    try:
        limits = _limits(problem_id, time_limit, import_limit, memory_limit)
        from grader.notebook import find_submission

        result = grade(problem_id, file or find_submission(Path("."), problem_id)[0], limits=limits, sandbox=sandbox)
    except (UsageError, ValueError) as e:
        raise _usage(e, as_json) from None
    if as_json:
        sys.stdout.write(to_json(result) + "\n")
    else:
        render(result, out)
        if result.status is Status.INTERNAL_ERROR:
            err.print(result.traceback, highlight=False)
    if result.status is Status.INTERNAL_ERROR:
        raise typer.Exit(EXIT_INTERNAL)
    raise typer.Exit(EXIT_PASSED if result.passed else EXIT_FAILED)


HiddenSeed = Annotated[Optional[str], typer.Option(
    envvar="JUDGE_HIDDEN_SEED", help="Secret from which hidden cases are derived (or $JUDGE_HIDDEN_SEED).")]


def _problem_list(text: str | None) -> list[str] | None:
    return [p.strip() for p in text.split(",") if p.strip()] if text else None


@app.command("batch")
def batch_cmd(
    class_dir: Annotated[Path, typer.Argument(help="One subfolder per learner, holding <problem-id>.py files.")],
    out: Annotated[Path, typer.Option("--out", help="Folder for grades.csv, grades_wide.csv, report.html, "
                                                    "<student>/results.json.")],
    problems_: Annotated[Optional[str], typer.Option("--problems", help="Comma-separated problem ids (default all).")] = None,
    workers: Annotated[Optional[int], typer.Option(min=1, help="Parallel sandboxes (default: cores).")] = None,
    hidden_seed: HiddenSeed = None,
    show_hidden: Annotated[bool, typer.Option(help="Show hidden cases' details in the feedback.")] = False,
    force: Annotated[bool, typer.Option(help="Regrade what OUT already holds.")] = False,
    sandbox: Sandbox = "auto",
    allow_weak_sandbox: Annotated[bool, typer.Option(help="Allow the process-level sandbox.")] = False,
    executor: Annotated[str, typer.Option(help="local (this machine) or ray (a Ray cluster).")] = "local",
    address: Annotated[Optional[str], typer.Option(help="Ray cluster address (default: start a local one).")] = None,
) -> None:
    """Grade a class folder; rerun with the same --out to resume after an interruption."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from grader.batch import batch, learners, progress_printer

    ids = _problem_list(problems_)
    try:
        n_students = len(learners(class_dir)) if class_dir.is_dir() else 0
        total = n_students * len(ids or problems.problem_ids())
        kwargs = dict(problem_ids=ids, workers=workers, sandbox=sandbox, allow_weak_sandbox=allow_weak_sandbox,
                      hidden_seed=hidden_seed, show_hidden=show_hidden, force=force, executor=executor,
                      address=address)
        if err.is_terminal:
            columns = (TextColumn("grading"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
            with Progress(*columns, console=err) as bar:
                job = bar.add_task("grading", total=total)
                results = batch(class_dir, out, on_result=lambda *_: bar.advance(job), **kwargs)
        else:
            results = batch(class_dir, out, on_result=progress_printer(total), **kwargs)
    except UsageError as e:
        raise _usage(e) from None
    except KeyboardInterrupt:
        err.print("interrupted: run the same command again to resume where it stopped")
        raise typer.Exit(130) from None
    passed = sum(r.passed for r in results.values())
    err.print(f"graded {len(results)} (learner, problem) pairs, {passed} passed; wrote {out}/grades.csv, "
              f"{out}/grades_wide.csv, {out}/report.html and {out}/<student>/results.json")


@app.command()
def gradescope(
    submission_dir: Annotated[Path, typer.Option(help="The learner's files.")] = Path("/autograder/submission"),
    results: Annotated[Path, typer.Option(help="Where results.json goes.")] = Path("/autograder/results/results.json"),
    problems_: Annotated[Optional[str], typer.Option("--problems", help="Comma-separated problem ids (default all).")] = None,
    hidden_seed: HiddenSeed = None,
    show_hidden: Annotated[bool, typer.Option(help="Show hidden cases' details in the feedback.")] = False,
    sandbox: Sandbox = "auto",
) -> None:
    """The entry point of a Gradescope autograder: always writes results.json, exits 0."""
    from grader.batch import grade_submission, read_task
    from grader.notebook import find_submission
    from grader.report import gradescope_doc

    try:
        ids = _problem_list(problems_) or problems.problem_ids()
        for pid in ids:
            problems.load_problem(pid)
        level = resolve_level(sandbox)
        graded = [grade_submission(read_task("learner", pid, *find_submission(submission_dir, pid, recursive=True)),
                                   level=level, hidden_seed=hidden_seed, limits=None) for pid in ids]
        doc = gradescope_doc(graded, show_hidden=show_hidden)
    except Exception as e:  # Gradescope shows a missing results.json as a failed autograder: always write one
        doc = {"score": 0, "output": f"The autograder could not grade this submission: {e}", "tests": []}
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps(doc, indent=2))
    err.print(f"wrote {results}: score {doc['score']}")


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
        out.print(f"[bold]{pid}[/]")
        for name, ok, detail in check_problem(pid, sandbox=sandbox):
            failed += not ok
            mark = "[green]ok  [/]" if ok else "[red]FAIL[/]"
            out.print(f"  {mark} {name}" + (f"  [dim]{detail}[/]" if detail and not ok else ""), highlight=False)
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
        out.print(f"wrote {path}", highlight=False)
    out.print(f"edit them, then run `judge check {problem_id}`")
