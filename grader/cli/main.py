"""The `judge` command line: a thin typer layer over the library functions.

The app and what its commands share live in grader/cli/app.py. Importing the command modules registers
their commands on it, in this order, which is the order `judge --help` lists them in.
"""

from typing import Any

from grader.cli import instructor, learner, practice
from grader.cli.app import app

COMMAND_MODULES = (learner, instructor, practice)


def main(**click_options: Any) -> None:
    """Parse the command line and run the command."""
    app(prog_name="judge", **click_options)
