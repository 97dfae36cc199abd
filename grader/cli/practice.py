"""A learner's practice commands: `judge hint`, `solution` and `progress`."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.text import Text

from grader import api
from grader.cli.app import EXIT_FAILED, ProblemId, app, context_of, err, out, usage
from grader.model.errors import SolutionUnavailable, UsageError
from grader.render import commands


@app.command()
def hint(
    ctx: typer.Context,
    problem_id: ProblemId,
    show_all: Annotated[bool, typer.Option("--all", help="Show every hint at once.")] = False,
) -> None:
    """Show the next hint you have not seen (from a nudge to nearly the answer); --all shows them all."""
    context = context_of(ctx)
    try:
        first, shown, total, remembered = api.hint(context, problem_id, show_all)
    except UsageError as e:
        raise usage(e, context) from None
    if not remembered:
        err.print(Text.assemble(("warning:", "yellow"), " ", commands.hint_not_remembered()), highlight=False)
    for i, text in enumerate(shown, start=first):
        out.print(Text.assemble((commands.hint_heading(i, total), "bold"), f" ({problem_id})"), highlight=False)
        out.print(text, markup=False, highlight=False, soft_wrap=True)
    if not show_all:
        out.print(
            Text(f"({commands.hint_next(problem_id, first < total)})", style="dim"), highlight=False, soft_wrap=True
        )


@app.command()
def solution(ctx: typer.Context, problem_id: ProblemId) -> None:
    """Show the reference solution and why it works, once your own file has passed `judge run`."""
    from rich.markdown import Markdown
    from rich.syntax import Syntax

    context = context_of(ctx)
    try:
        explanation, source = api.reference_solution(context, problem_id)
    except UsageError as e:
        raise usage(e, context) from None
    except SolutionUnavailable as e:
        err.print(f"{e}", highlight=False, markup=False)
        raise typer.Exit(EXIT_FAILED) from None
    if explanation:
        out.print(Markdown(explanation))
    out.print(Text(f"reference/{problem_id}.py", style="bold"), highlight=False)
    out.print(Syntax(source, "python", theme="ansi_dark", word_wrap=True))


@app.command()
def progress(
    ctx: typer.Context,
    reset: Annotated[bool, typer.Option("--reset", help="Forget all progress and hints seen.")] = False,
) -> None:
    """Your progress: each problem solved, attempted or new, your last score, runs and hints seen."""
    context = context_of(ctx)
    if reset:
        try:
            path = api.reset_progress(context)
        except UsageError as e:
            raise usage(e, context) from None
        out.print(commands.progress_cleared(path), highlight=False)
        return
    listed = api.problem_list(context, with_hints=True)
    width = max((len(p.id) for p in listed), default=0)
    for p in listed:
        runs, hints = commands.runs(p.runs), commands.hints_seen(p.hints_seen, p.hints)
        line = f"{p.id:{width}s}  {commands.mark(p.mark):9s} {p.score:>5s}  {runs:>8s}  {hints}"
        out.print(line, highlight=False, soft_wrap=True, markup=False)
    solved = sum(p.mark == "solved" for p in listed)
    attempted = sum(p.mark == "attempted" for p in listed)
    out.print(
        commands.progress_total(solved, len(listed), attempted, api.progress_path(context)),
        highlight=False,
        soft_wrap=True,
    )
