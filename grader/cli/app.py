"""What every `judge` command shares: the typer app, its consoles, exit codes, option types and usage errors.

The commands register on `app` from grader/cli_learner.py, cli_instructor.py and cli_practice.py;
grader/cli.py imports them all.
"""

from __future__ import annotations

import difflib
import json
import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.text import Text

from grader.sets import store as problem_set
from grader.sets import problems
from grader.model.errors import ProblemError, UnknownProblem, UsageError
from grader.grading.feedback import bubblewrap_advice
from grader.render.textsafe import visible

# Plain click help: rich's help panels cut option names at 80 columns.
app = typer.Typer(
    no_args_is_help=True, add_completion=False, rich_markup_mode=None, help="Grade JAX, Flax and NumPy exercises."
)


def _reader_left() -> None:
    """stdout's reader went away (`judge run ... | head`): write nothing more; the exit code still tells."""
    out.quiet = True
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


class _Stdout(Console):
    def on_broken_pipe(self) -> None:  # rich's default exits with 1, which reads as "not passed"
        _reader_left()


out = _Stdout()
err = Console(stderr=True, soft_wrap=True)

EXIT_PASSED, EXIT_FAILED, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3

Sandbox = Annotated[
    str, typer.Option(metavar="LEVEL", help="Isolation level: auto (bwrap where usable), bwrap or process.")
]
ProblemId = Annotated[str, typer.Argument(metavar="PROBLEM_ID", help="Problem id, as `judge list` shows.")]
Problems = Annotated[
    Optional[str], typer.Option("--problems", metavar="IDS", help="Comma-separated problem ids (default all).")
]


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


# A learner kit has no references and no secret: these need the instructor's install.
KIT_REFUSED = ("batch", "gradescope", "release", "autograder", "new", "check")


@app.callback()
def main(
    ctx: typer.Context,
    problems_dir: Annotated[
        Optional[Path],
        typer.Option(
            "--problems-dir",
            envvar=problem_set.ENV,
            show_default=False,
            help="A problem set of your own (SET/problems/<id>/, SET/reference/<id>.py); or $JUDGE_PROBLEMS.",
        ),
    ] = None,
) -> None:
    """Grade JAX, Flax and NumPy exercises."""
    try:
        if problem_set.is_kit():
            refused = next((a for a in sys.argv[1:] if a.split("=")[0] in ("--hidden-seed", "--problems-dir")), None)
            if ctx.invoked_subcommand in KIT_REFUSED or refused or problems_dir:
                what = (
                    f"`judge {ctx.invoked_subcommand}`"
                    if ctx.invoked_subcommand in KIT_REFUSED
                    else f"`{refused or '--problems-dir'}`"
                )
                raise UsageError(
                    f"{what} needs the instructor's install of the judge; this is a learner kit "
                    "(it has `judge list`, `show`, `init` and `run`)"
                )
        if problems_dir is not None:
            root = problems_dir.expanduser().resolve()
            problem_set.validate_set_dir(root, create=ctx.invoked_subcommand == "new")
            os.environ[problem_set.ENV] = str(root)  # the processes the judge starts see the same set
    except UsageError as e:
        raise _usage(e) from None


def _problem(problem_id: str) -> problems.Problem:
    try:
        return problems.load_problem(problem_id)
    except ProblemError as e:
        raise UsageError(f"problem {problem_id!r} is malformed: {e}") from None
