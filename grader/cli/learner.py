"""The commands a learner starts with: `judge list`, `show`, `init` and `run` (with --watch)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from pydantic import ValidationError
from rich.text import Text

from grader.sets import problems
from grader.cli.app import (
    EXIT_FAILED,
    EXIT_INTERNAL,
    EXIT_PASSED,
    ProblemId,
    Sandbox,
    _problem,
    _reader_left,
    _usage,
    app,
    err,
    out,
)
from grader.model.errors import ProblemError, UsageError
from grader.grading.feedback import bubblewrap_advice
from grader.sandbox.policy import describe
from grader.grading.pipeline import grade
from grader.model.problem import Limits, Result, Status
from grader.render.report import render, to_json
from grader.sandbox.policy import resolve_level
from grader.render.textsafe import visible


@app.command("list")
def list_cmd() -> None:
    """List the problems, one per line: solved, attempted or new, with your last score."""
    from grader.practice.practice import load_progress, mark

    width = max(map(len, problems.problem_ids()), default=0)
    progress = load_progress().problems
    for pid in problems.problem_ids():
        try:
            title = problems.load_problem(pid).meta.title
        except ProblemError as e:
            title = f"(malformed: {e})"
        state, score = mark(progress.get(pid))
        out.print(
            visible(f"{pid:{width}s}  {state:9s} {score:>5s}  {title}"), highlight=False, soft_wrap=True, markup=False
        )


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
    out.print(
        visible(f"wrote {target}; read the task with `judge show {problem_id}`, grade with `judge run {problem_id}`"),
        highlight=False,
        markup=False,
    )


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
            raise UsageError(
                f"--memory-limit must be at least {MIN_MEMORY_MB} (MB; got {value}): JAX alone "
                "reserves about 1.5 GB of address space, so even the reference fails below it"
            )
        if name != "memory_mb" and not value > 0:
            option = "--time-limit" if name == "time_s" else "--import-limit"
            raise UsageError(f"{option} must be more than 0 seconds (got {value:g})")
    changes = {k: v for k, v in given.items() if v is not None}
    try:
        return Limits(**{**base.model_dump(), **changes})
    except ValidationError as e:
        first = e.errors()[0]
        options = {"time_s": "--time-limit", "import_s": "--import-limit", "memory_mb": "--memory-limit"}
        raise UsageError(f"bad {options.get(str(first['loc'][0]), first['loc'][0])}: {first['msg']}") from None


@app.command()
def run(
    problem_id: ProblemId,
    file: Annotated[
        Optional[Path],
        typer.Option(
            "--file", "-f", metavar="FILE", help="Submission file: .py or .ipynb (default ./ID.py, else ./ID.ipynb)."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print exactly one JSON document on stdout.")] = False,
    sandbox: Sandbox = "auto",
    time_limit: Annotated[
        Optional[float], typer.Option(metavar="SECONDS", help="Seconds for all cases together.")
    ] = None,
    import_limit: Annotated[
        Optional[float], typer.Option(metavar="SECONDS", help="Seconds to import the file.")
    ] = None,
    memory_limit: Annotated[
        Optional[int], typer.Option(metavar="MB", help=f"Address-space limit in MB (at least {MIN_MEMORY_MB}).")
    ] = None,
    watch: Annotated[bool, typer.Option("--watch", help="Grade again after every save; Ctrl-C stops.")] = False,
) -> None:
    """Grade ./ID.py (or --file) on the problem's cases. Exit 0 passed, 1 not passed, 2 usage error, 3 judge error."""
    if watch:
        _watch(problem_id, file or Path(f"{problem_id}.py"), as_json, sandbox, time_limit, import_limit, memory_limit)
    from grader.grading.submission import find_submission

    path = file or find_submission(Path("."), problem_id)[0]
    try:
        limits = _limits(problem_id, time_limit, import_limit, memory_limit)
        if as_json:
            result = grade(problem_id, path, limits=limits, sandbox=sandbox)
        else:
            result = _grade_with_progress(problem_id, path, limits, sandbox)
    except (UsageError, ValueError) as e:
        raise _usage(e, as_json) from None
    _record(result)
    code = EXIT_INTERNAL if result.status is Status.INTERNAL_ERROR else EXIT_PASSED if result.passed else EXIT_FAILED
    try:
        if as_json:
            sys.stdout.write(to_json(result) + "\n")
        else:
            render(result, out)
            if result.status is Status.INTERNAL_ERROR:
                err.print(visible(result.traceback), highlight=False, markup=False)
            elif result.replay and result.replay.sandbox == "process" and sandbox == "auto":
                err.print(
                    f"note: graded in the {describe('process')}; for the strong one, {bubblewrap_advice()}",
                    style="dim",
                    highlight=False,
                    markup=False,
                )
        sys.stdout.flush()
    except BrokenPipeError:  # `judge run ... | head`: the reader left; the verdict stands
        _reader_left()
    raise typer.Exit(code)


def _grade_with_progress(problem_id: str, path: Path, limits: Limits, sandbox: str) -> Result:
    """Say at once what is being graded; on a terminal, show each step until the result is in."""
    from grader.render.progress import RunProgress

    n = len(_problem(problem_id).cases)
    try:
        exists = path.is_file()
    except OSError:
        exists = False
    if exists:  # else grade() says what is wrong with the path
        out.print(Text(f"grading {visible(path.name)} on {problem_id} ({n} cases)..."), highlight=False)
    with RunProgress(err, path.name, n) as progress:
        return grade(problem_id, path, limits=limits, sandbox=sandbox, progress=progress.update)


def _record(result: Result) -> None:
    """Keep the outcome in the learner's progress; a data folder that cannot be written costs only that."""
    from grader.practice.practice import record_run

    try:
        record_run(result)
    except OSError as e:
        err.print(f"[yellow]warning:[/] progress not saved: {e}", highlight=False)


def _watch(
    problem_id: str,
    path: Path,
    as_json: bool,
    sandbox: str,
    time_limit: float | None,
    import_limit: float | None,
    memory_limit: int | None,
) -> None:
    """`judge run --watch`: grade, then grade again after every save, with one sandbox zygote throughout."""
    import signal

    from grader.practice.practice import watch
    from grader.sandbox.zygote import private_zygote

    try:
        if as_json:
            raise UsageError("--watch prints a table per save; it does not go with --json")
        limits = _limits(problem_id, time_limit, import_limit, memory_limit)
        zygote = private_zygote(resolve_level(sandbox))
    except (UsageError, ValueError) as e:
        raise _usage(e, as_json) from None
    graded: list[Status] = []

    def regrade() -> None:
        try:
            result = grade(problem_id, path, limits=limits, sandbox=sandbox, zygote=zygote)
        except UsageError as e:
            if not graded:
                raise
            err.print(f"[red]error:[/] {e}", highlight=False)  # e.g. the file vanished mid-save: keep watching
        else:
            graded.append(result.status)
            render(result, out)
            if result.status is Status.INTERNAL_ERROR:
                err.print(result.traceback, highlight=False)
            _record(result)
        out.print(f"[dim]watching {path}: save it to grade again, Ctrl-C to stop[/]", highlight=False)
        out.file.flush()

    try:
        watch(path, regrade)
    except UsageError as e:
        raise _usage(e) from None
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not interrupt the cleanup
        out.print("stopped watching")
        raise typer.Exit(EXIT_PASSED) from None
    finally:
        zygote.close()
