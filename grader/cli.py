"""The `judge` command line: a thin typer layer over the library functions.

The app and what its commands share live in grader/cli_shared.py. Importing the command modules registers
their commands on it, in this order, which is the order `judge --help` lists them in.
"""

from grader import cli_learner, cli_instructor, cli_practice  # noqa: F401
from grader.cli_shared import _usage as _usage
from grader.cli_shared import app as app
from grader.cli_shared import err as err
from grader.cli_shared import main as main
from grader.cli_shared import out as out
