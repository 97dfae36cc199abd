"""The `judge` command line: a thin typer layer over the library functions.

The app and what its commands share live in grader/cli_shared.py. Importing the command modules registers
their commands on it, in this order, which is the order `judge --help` lists them in.
"""

from grader.cli import learner as cli_learner  # noqa: F401
from grader.cli import instructor as cli_instructor  # noqa: F401
from grader.cli import practice as cli_practice  # noqa: F401
from grader.cli.app import _usage as _usage
from grader.cli.app import app as app
from grader.cli.app import err as err
from grader.cli.app import main as main
from grader.cli.app import out as out
