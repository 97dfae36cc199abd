"""The commands a learner starts with: `judge list`, `show`, `init` and `run` (with --watch)."""

from __future__ import annotations

import contextlib
import signal
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.text import Text

from grader import api
from grader.cli.app import (
    EXIT_FAILED,
    EXIT_INTERNAL,
    EXIT_PASSED,
    ProblemId,
    Sandbox,
    app,
    context_of,
    err,
    out,
    reader_left,
    usage,
)
from grader.context import Context
from grader.model.errors import UsageError
from grader.model.problem import Limits
from grader.model.verdict import Result, Status
from grader.render import commands
from grader.render.progress import RunProgress
from grader.render.terminal import render
from grader.render.textsafe import visible


@app.command("list")
def list_cmd(ctx: typer.Context) -> None:
    """List the problems, one per line: solved, attempted or new, with your last score."""
    listed = api.problem_list(context_of(ctx))
    width = max((len(p.id) for p in listed), default=0)
    for p in listed:
        title = commands.malformed(p.title) if p.malformed else p.title
        line = f"{p.id:{width}s}  {commands.mark(p.mark):9s} {p.score:>5s}  {title}"
        out.print(visible(line), highlight=False, soft_wrap=True, markup=False)


@app.command()
def show(ctx: typer.Context, problem_id: ProblemId) -> None:
    """Show a problem's spec."""
    from rich.markdown import Markdown  # only here: it costs 40 ms to import

    context = context_of(ctx)
    try:
        text = api.spec(context, problem_id)
    except UsageError as e:
        raise usage(e, context) from None
    if out.is_terminal:
        out.print(Markdown(text))
    else:  # a pipe or a file gets the Markdown itself: no padding to the terminal's width, nothing lost
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


@app.command()
def init(
    ctx: typer.Context,
    problem_id: ProblemId,
    directory: Annotated[Path, typer.Option("--dir", help="Where to write the stub.")] = Path("."),
    notebook: Annotated[
        bool, typer.Option("--notebook", help="Write ./ID.ipynb instead: the task, the stub, a check cell, hints.")
    ] = False,
) -> None:
    """Write a problem's stub to ./ID.py, or a practice notebook ./ID.ipynb (never overwrites a file)."""
    context = context_of(ctx)
    try:
        target = (api.init_notebook if notebook else api.init)(context, problem_id, directory)
    except UsageError as e:
        raise usage(e, context) from None
    said = commands.notebook_written if notebook else commands.stub_written
    out.print(visible(said(target, problem_id)), highlight=False, markup=False)


@app.command()
def run(
    ctx: typer.Context,
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
        Optional[int], typer.Option(metavar="MB", help=f"Address-space limit in MB (at least {api.MIN_MEMORY_MB}).")
    ] = None,
    watch: Annotated[bool, typer.Option("--watch", help="Grade again after every save; Ctrl-C stops.")] = False,
) -> None:
    """Grade ./ID.py (or --file) on the problem's cases. Exit 0 passed, 1 not passed, 2 usage error, 3 judge error."""
    context = context_of(ctx, sandbox)
    try:
        context.adopt(ctx.find_root().meta.get("judge.early"))
        limits = api.limits_for(context, problem_id, time_limit, import_limit, memory_limit)
        if watch and as_json:
            raise UsageError("--watch prints a table per save; it does not go with --json")
        if watch:
            _watch(context, problem_id, file or Path(f"{problem_id}.py"), limits)
        with contextlib.nullcontext() if as_json else RunProgress(err, out, problem_id) as shown:
            progress, started = (None, None) if shown is None else (shown.update, shown.start)
            outcome = api.run(context, problem_id, file, limits, progress=progress, started=started)
    except UsageError as e:
        raise usage(e, context, as_json) from None
    result = outcome.result
    if outcome.judges_file and not as_json:
        err.print(Text(commands.not_counted(outcome.result.submission)), highlight=False)
    if outcome.unsaved:
        err.print(
            Text.assemble(("warning:", "yellow"), f" {commands.progress_unsaved(outcome.unsaved)}"), highlight=False
        )
    code = EXIT_INTERNAL if result.status is Status.INTERNAL_ERROR else EXIT_PASSED if result.passed else EXIT_FAILED
    try:
        if as_json:
            sys.stdout.write(result.model_dump_json(indent=2) + "\n")
        else:
            render(result, out)
            if result.status is Status.INTERNAL_ERROR:
                err.print(visible(result.traceback), highlight=False, markup=False)
            elif result.replay and result.replay.sandbox == "process" and sandbox == "auto":
                note = commands.weak_note(api.sandbox_info("process"), _advice())
                err.print(note, style="dim", highlight=False, markup=False)
        sys.stdout.flush()
    except BrokenPipeError:  # `judge run ... | head`: the reader left; the verdict stands
        reader_left()
    raise typer.Exit(code)


def _advice() -> str:
    fix = api.bubblewrap_fix()
    return commands.bubblewrap_advice(fix.installed, fix.command)


def _watch(context: Context, problem_id: str, path: Path, limits: Limits) -> None:
    """`judge run --watch`: grade, then grade again after every save, with one sandbox zygote throughout."""

    def show(outcome: api.Run) -> None:
        result: Result = outcome.result
        render(result, out)
        if result.status is Status.INTERNAL_ERROR:
            err.print(result.traceback, highlight=False, markup=False)
        watching()

    def gone(e: UsageError) -> None:
        err.print(Text.assemble(("error:", "red"), f" {visible(str(e))}"), highlight=False)
        watching()

    def watching() -> None:
        out.print(Text(visible(commands.watching(path)), style="dim"), highlight=False)
        out.file.flush()

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt  # an IDE's stop button (SIGTERM), a closed terminal (SIGHUP): as Ctrl-C

    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, stop)
    try:
        api.watch(context, problem_id, path, limits, show, gone)
    except KeyboardInterrupt:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)  # a second signal must not interrupt the cleanup
        try:
            out.print(commands.stopped_watching())
        except OSError:  # the terminal that closed (SIGHUP) cannot be written to any more
            pass
        raise typer.Exit(EXIT_PASSED) from None
