"""What every `judge` command shares: the typer app, its consoles, exit codes, option types, the context each
command works in, and usage errors in one line.

The commands register on `app` from grader/cli/learner.py, instructor.py and practice.py; grader/cli/main.py
imports them all. Each command parses its options, calls one function of grader.api and renders its outcome.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.text import Text

from grader import api
from grader.context import PROBLEMS_ENV, Context
from grader.model.errors import BwrapUnusable, UnknownProblem, UsageError, WeakSandbox
from grader.model.storage import judge_version
from grader.render import commands
from grader.render.textsafe import visible

# Plain click help: rich's help panels cut option names at 80 columns.
app = typer.Typer(
    no_args_is_help=True, add_completion=False, rich_markup_mode=None, help="Grade JAX, Flax and NumPy exercises."
)


def reader_left() -> None:
    """stdout's reader went away (`judge run ... | head`): write nothing more; the exit code still tells."""
    out.quiet = True
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


class _Stdout(Console):
    def on_broken_pipe(self) -> None:  # rich's default exits with 1, which reads as "not passed"
        reader_left()


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


def problem_list(text: str | None) -> list[str] | None:
    return [p.strip() for p in text.split(",") if p.strip()] if text else None


class Startup:
    """What the console script prepared before the command line was parsed (grader/launch.py)."""

    def __init__(self, zygote: Any = None):
        self.zygote = zygote


def usage(e: UsageError, context: Context | None = None, as_json: bool = False) -> typer.Exit:
    """Report a usage error in one line (and one JSON document with --json); exit code 2."""
    message = str(e)
    if isinstance(e, UnknownProblem):
        message = commands.unknown_problem(e)
    elif isinstance(e, BwrapUnusable):
        message = commands.bwrap_unusable(advice())
    elif isinstance(e, WeakSandbox):
        message = commands.weak_sandbox(e.command, advice())
    if as_json:
        ids = context.problems.ids() if context is not None else []
        print(json.dumps({"status": "usage_error", "message": message, "valid_ids": ids}))
    err.print(Text.assemble(("error:", "red"), " ", visible(message)), highlight=False)
    return typer.Exit(EXIT_USAGE)


def advice() -> str:
    fix = api.bubblewrap_fix()
    return commands.bubblewrap_advice(fix.installed, fix.command)


def context_of(ctx: typer.Context, sandbox: str = "auto") -> Context:
    """The context the command works in (built by `main`), at the level the command asks for."""
    judge: Context = ctx.find_root().meta["judge.context"]
    judge.sandbox = sandbox
    return judge


# A learner kit has no references and no secret: these need the instructor's install.
KIT_REFUSED = ("batch", "gradescope", "release", "autograder", "new", "check")


def _version() -> None:
    out.print(f"judge {judge_version()}", highlight=False, markup=False)
    raise typer.Exit(EXIT_PASSED)


@app.callback()
def main(
    ctx: typer.Context,
    problems_dir: Annotated[
        Optional[Path],
        typer.Option(
            "--problems-dir",
            envvar=PROBLEMS_ENV,
            show_default=False,
            help="A problem set of your own (SET/problems/<id>/, SET/reference/<id>.py); or $JUDGE_PROBLEMS.",
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            is_eager=True,
            callback=lambda shown: _version() if shown else None,
            help="The judge's version (a learner kit's names its course and date), then exit.",
        ),
    ] = False,
) -> None:
    """Grade JAX, Flax and NumPy exercises."""
    try:
        installed = Context.from_environment(environ={k: v for k, v in os.environ.items() if k != PROBLEMS_ENV})
        if installed.problems.kit:
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
        judge = (
            Context.from_environment(problems_dir, create=ctx.invoked_subcommand == "new")
            if problems_dir is not None
            else installed
        )
    except UsageError as e:
        raise usage(e) from None
    startup = ctx.obj if isinstance(ctx.obj, Startup) else Startup()
    ctx.meta["judge.context"] = judge
    ctx.meta["judge.early"] = startup.zygote
    ctx.call_on_close(judge.close)
