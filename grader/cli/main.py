"""The `judge` command line: a thin typer layer over the library functions.

The app and what its commands share live in grader/cli/app.py. Importing the command modules registers
their commands on it, in this order, which is the order `judge --help` lists them in.
"""

from typing import Any

from grader.cli import instructor, learner, practice
from grader import api
from grader.cli.app import KIT_REFUSED, app

COMMAND_MODULES = (learner, instructor, practice)


def main(**click_options: Any) -> None:
    """Parse the command line and run the command. A learner kit's `--help` lists only the commands it has."""
    if api.installed_as_kit():
        for command in app.registered_commands:
            name = command.name or (command.callback.__name__ if command.callback else "")
            if name.removesuffix("_cmd").replace("_", "-") in KIT_REFUSED:
                command.hidden = True
    app(prog_name="judge", **click_options)
