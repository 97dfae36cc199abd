"""The `judge` console script: for `judge run`, the sandbox's zygote starts before the heavier imports.

Starting it (bubblewrap, a Python, numpy) takes about 0.1 s, and so does importing the judge's own
libraries (typer, rich, pydantic, numpy); done side by side, a learner's run costs less wall time.
"""

import sys


def main() -> None:
    args = sys.argv[1:]
    if args[:1] == ["run"] and not {"-h", "--help"} & set(args):
        level = "auto"
        for i, arg in enumerate(args):
            if arg == "--sandbox" and i + 1 < len(args):
                level = args[i + 1]
            elif arg.startswith("--sandbox="):
                level = arg.split("=", 1)[1]
        from grader.sandbox import box as sandbox

        sandbox.start_early(level)
    from grader.cli.app import app

    app(prog_name="judge")
