"""The `judge` console script: for `judge run`, the sandbox's zygote starts before the heavier imports.

Starting it (bubblewrap, a Python, numpy) takes about 0.1 s, and so does importing the judge's own
libraries (typer, rich, pydantic, numpy); done side by side, a learner's run costs less wall time. The
zygote is handed to the command line, whose context adopts it when it suits (the same level and cache).
"""

import os
import sys


def main() -> None:
    args = sys.argv[1:]
    early = None
    if args[:1] == ["run"] and not {"-h", "--help"} & set(args):
        early = _start_early(args)
    from grader.cli.app import Startup
    from grader.cli.main import main as command_line

    command_line(obj=Startup(early))


def _start_early(args: list[str]) -> object:
    level = "auto"
    for i, arg in enumerate(args):
        if arg == "--sandbox" and i + 1 < len(args):
            level = args[i + 1]
        elif arg.startswith("--sandbox="):
            level = arg.split("=", 1)[1]
    try:
        from grader.model.cache import cache_from
        from grader.sandbox.policy import resolve_level
        from grader.sandbox.zygote import Zygote

        return Zygote(resolve_level(level), cache_from(os.environ))
    except Exception:  # the grading starts its own, and reports what fails then
        return None
