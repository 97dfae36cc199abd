"""A learner's practice commands: `judge hint`, `solution` and `progress`."""

from __future__ import annotations

from typing import Annotated

import typer

from grader.sets import problems
from grader.cli.app import EXIT_FAILED, _usage, app, err, out
from grader.model.errors import ProblemError, UsageError

ProblemArg = Annotated[str, typer.Argument(help="Problem id, as `judge list` shows.")]


@app.command()
def hint(
    problem_id: ProblemArg,
    show_all: Annotated[bool, typer.Option("--all", help="Show every hint at once.")] = False,
) -> None:
    """Show the next hint you have not seen (from a nudge to nearly the answer); --all shows them all."""
    from grader.practice.practice import next_hint

    try:
        first, shown, total, remembered = next_hint(problem_id, show_all=show_all)
    except UsageError as e:
        raise _usage(e) from None
    except ProblemError as e:
        raise _usage(UsageError(f"problem {problem_id!r} has no usable hints: {e}")) from None
    if not remembered:
        err.print("[yellow]warning:[/] the data folder cannot be written: the next `judge hint` shows this one again")
    for i, text in enumerate(shown, start=first):
        out.print(f"[bold]Hint {i} of {total}[/] ({problem_id})", highlight=False)
        out.print(text, markup=False, highlight=False, soft_wrap=True)
    if not show_all:
        more = (
            f"`judge hint {problem_id}` again for the next one"
            if first < total
            else f"that was the last one; `judge solution {problem_id}` opens once your file passes"
        )
        out.print(f"[dim]({more})[/]", highlight=False, soft_wrap=True)


@app.command()
def solution(problem_id: ProblemArg) -> None:
    """Show the reference solution and why it works, once your own file has passed `judge run`."""
    from rich.markdown import Markdown
    from rich.syntax import Syntax

    from grader.practice.practice import SolutionUnavailable
    from grader.practice.practice import solution as reference_solution

    try:
        explanation, source = reference_solution(problem_id)
    except UsageError as e:
        raise _usage(e) from None
    except SolutionUnavailable as e:
        err.print(f"{e}", highlight=False, markup=False)
        raise typer.Exit(EXIT_FAILED) from None
    if explanation:
        out.print(Markdown(explanation))
    out.print(f"[bold]reference/{problem_id}.py[/]", highlight=False)
    out.print(Syntax(source, "python", theme="ansi_dark", word_wrap=True))


@app.command()
def progress(
    reset: Annotated[bool, typer.Option("--reset", help="Forget all progress and hints seen.")] = False,
) -> None:
    """Your progress: each problem solved, attempted or new, your last score, runs and hints seen."""
    from grader.practice import practice

    if reset:
        try:
            path = practice.reset()
        except OSError as e:
            raise _usage(UsageError(f"cannot clear {practice.progress_path()}: {e.strerror}")) from None
        out.print(f"progress cleared ({path})", highlight=False)
        return
    stored = practice.load_progress().problems
    ids = problems.problem_ids()
    width = max(map(len, ids), default=0)
    marks = {pid: practice.mark(stored.get(pid)) for pid in ids}
    for pid in ids:
        state, score = marks[pid]
        p = stored.get(pid) or practice.ProblemProgress()
        try:
            hints = f"{p.hints_seen}/{len(practice.load_hints(pid))} hints"
        except ProblemError:
            hints = "no hints"
        runs = f"{p.runs} run" + ("" if p.runs == 1 else "s")
        out.print(f"{pid:{width}s}  {state:9s} {score:>5s}  {runs:>8s}  {hints}", highlight=False, soft_wrap=True)
    solved = sum(m == "solved" for m, _ in marks.values())
    attempted = sum(m == "attempted" for m, _ in marks.values())
    out.print(
        f"{solved} of {len(ids)} solved, {attempted} attempted; kept in {practice.progress_path()}",
        highlight=False,
        soft_wrap=True,
    )
