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
from rich.markdown import Markdown

from grader import problems
from grader.errors import ProblemError, UsageError
from grader.grade import grade
from grader.models import Limits, Status
from grader.report import render, to_json

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
    for pid in problems.problem_ids():
        try:
            title = problems.load_problem(pid).meta.title
        except ProblemError as e:
            title = f"(malformed: {e})"
        out.print(f"{pid:24s} {title}", highlight=False)


@app.command()
def show(problem_id: Annotated[str, typer.Argument(help="Problem id, as `judge list` shows.")]) -> None:
    """Show a problem's spec."""
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
    file: Annotated[Optional[Path], typer.Option("--file", "-f", help="Submission file (default ./ID.py).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print exactly one JSON document on stdout.")] = False,
    sandbox: Sandbox = "auto",
    time_limit: Annotated[Optional[float], typer.Option(help="Seconds for all cases together.")] = None,
    import_limit: Annotated[Optional[float], typer.Option(help="Seconds to import the file.")] = None,
    memory_limit: Annotated[Optional[int], typer.Option(help="Address-space limit in MB (at least 1600).")] = None,
) -> None:
    """Grade ./ID.py (or --file) on the problem's cases. Exit 0 passed, 1 not passed, 2 usage error, 3 judge error."""
    try:
        limits = _limits(problem_id, time_limit, import_limit, memory_limit)
        result = grade(problem_id, file or Path(f"{problem_id}.py"), limits=limits, sandbox=sandbox)
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
