"""The instructor's commands: `judge batch`, `gradescope`, `check`, `new`, `release` and `autograder`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.text import Text

from grader import api
from grader.cli.app import (
    EXIT_FAILED,
    EXIT_INTERNAL,
    EXIT_PASSED,
    Problems,
    Sandbox,
    app,
    context_of,
    err,
    out,
    problem_list,
    usage,
)
from grader.model.errors import UsageError
from grader.render import progress as said
from grader.render import commands
from grader.render.textsafe import visible

HiddenSeed = Annotated[
    Optional[str],
    typer.Option(
        envvar="JUDGE_HIDDEN_SEED",
        metavar="SECRET",
        show_envvar=False,
        help="Secret from which hidden cases are derived (or $JUDGE_HIDDEN_SEED).",
    ),
]
ShowHidden = Annotated[bool, typer.Option("--show-hidden", help="Show hidden cases' details in the feedback.")]


def _say(line: str) -> None:
    err.print(visible(line), highlight=False, markup=False, soft_wrap=True)


@app.command("batch")
def batch_cmd(
    ctx: typer.Context,
    class_dir: Annotated[
        Path, typer.Argument(metavar="CLASS_DIR", help="One subfolder per learner, holding <problem-id>.py files.")
    ],
    out_dir: Annotated[
        Path,
        typer.Option(
            "--out", metavar="DIR", help="Folder for grades.csv, grades_wide.csv, report.html, <student>/results.json."
        ),
    ],
    problems_: Problems = None,
    workers: Annotated[
        Optional[int], typer.Option(min=1, metavar="N", help="Parallel sandboxes (default: cores).")
    ] = None,
    hidden_seed: HiddenSeed = None,
    show_hidden: ShowHidden = False,
    force: Annotated[bool, typer.Option("--force", help="Regrade what OUT already holds.")] = False,
    sandbox: Sandbox = "auto",
    allow_weak_sandbox: Annotated[
        bool, typer.Option("--allow-weak-sandbox", help="Allow the process-level sandbox.")
    ] = False,
    executor: Annotated[
        str, typer.Option(metavar="NAME", help="local (this machine) or ray (a Ray cluster).")
    ] = "local",
    address: Annotated[
        Optional[str], typer.Option(metavar="ADDRESS", help="Ray cluster address (default: start a local one).")
    ] = None,
) -> None:
    """Grade a class folder; rerun with the same --out to resume after an interruption."""
    context = context_of(ctx, sandbox)
    shown = _Shown()
    try:
        with shown:
            report = api.batch(
                class_dir,
                out_dir,
                context=context,
                on_start=shown.start,
                on_result=shown.result,
                problem_ids=problem_list(problems_),
                workers=workers,
                allow_weak_sandbox=allow_weak_sandbox,
                hidden_seed=hidden_seed,
                show_hidden=show_hidden,
                force=force,
                executor=executor,
                address=address,
            )
    except UsageError as e:
        raise usage(e, context) from None
    except KeyboardInterrupt:
        _say(commands.interrupted())
        raise typer.Exit(130) from None
    for line in said.batch_summary(report.results, report.resumed, report.before, report.out_dir):
        _say(line)
    if report.internal_errors:  # everything graded is written; the judge failed on these
        _say(commands.internal_errors([f"{s}/{p}" for s, p in report.internal_errors]))
        raise typer.Exit(EXIT_INTERNAL)


class _Shown:
    """A batch's progress: a bar on a terminal, else one plain line per (learner, problem)."""

    def __init__(self) -> None:
        self.total, self.done = 0, 0
        self.bar: Any = None  # a rich Progress, on a terminal
        self.job: Any = None

    def __enter__(self) -> _Shown:
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)

    def start(self, total: int, skipped: list[str]) -> None:
        self.total = total
        if skipped:
            _say(commands.not_grading(skipped))
        if err.is_terminal:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            columns = (TextColumn(commands.grading_bar()), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
            self.bar = Progress(*columns, console=err)
            self.bar.__enter__()
            self.job = self.bar.add_task("grading", total=total)

    def result(self, task: Any, result: Any, resumed: bool) -> None:
        self.done += 1
        if self.bar is not None:
            self.bar.advance(self.job)
        else:
            line = said.batch_line(self.done, self.total, task.student, result, resumed, result.time_s)
            err.print(line, highlight=False, markup=False, soft_wrap=True)


@app.command()
def gradescope(
    ctx: typer.Context,
    submission_dir: Annotated[Path, typer.Option(help="The learner's files.")] = Path("/autograder/submission"),
    results: Annotated[Path, typer.Option(help="Where results.json goes.")] = Path("/autograder/results/results.json"),
    problems_: Problems = None,
    hidden_seed: HiddenSeed = None,
    show_hidden: ShowHidden = False,
    sandbox: Sandbox = "auto",
    allow_weak_sandbox: Annotated[
        bool, typer.Option("--allow-weak-sandbox", help="Grade even where nothing keeps learners from the answers.")
    ] = False,
    hidden_visibility: Annotated[
        str,
        typer.Option(
            metavar="WHEN",
            help="When students see each problem's hidden-cases test: after_due_date, after_published, hidden or "
            "visible (Gradescope's visibility).",
        ),
    ] = "after_due_date",
) -> None:
    """The entry point of a Gradescope autograder: writes results.json (exit 0), or exits 2 on a bad command line."""
    context = context_of(ctx, sandbox)
    try:
        done = api.gradescope(
            context,
            submission_dir,
            results,
            problem_list(problems_),
            hidden_seed=hidden_seed,
            show_hidden=show_hidden,
            allow_weak_sandbox=allow_weak_sandbox,
            hidden_visibility=hidden_visibility,
        )
    except UsageError as e:
        raise usage(e, context) from None
    for warning in done.warnings:
        _say(commands.warning(warning))
    _say(commands.wrote_results(results, done.document["score"]))
    if done.failed:  # results.json is written; the exit says the judge failed, so the autograder's run fails
        err.print(commands.judge_failed_on(done.failed), highlight=False, markup=False)
        raise typer.Exit(EXIT_INTERNAL)


@app.command()
def check(
    ctx: typer.Context,
    problem_id: Annotated[Optional[str], typer.Argument(help="Problem id (default: every problem).")] = None,
    sandbox: Sandbox = "auto",
    secrets: Annotated[
        int,
        typer.Option(min=0, help="Secrets whose hidden cases are checked against every known mistake (0 skips it)."),
    ] = 200,
    workers: Annotated[
        Optional[int],
        typer.Option(min=1, metavar="N", help="Problems checked side by side (default: cores, as memory allows)."),
    ] = None,
) -> None:
    """Validate problem folders: metadata, stub, reference, pitfalls caught by public and hidden cases, tolerance."""
    context = context_of(ctx, sandbox)
    failed = checked = 0
    try:
        for pid, checks in api.check(context, problem_id, secrets=secrets, workers=workers):
            checked += 1
            out.print(Text(pid, style="bold"))
            for name, ok, detail in checks:
                failed += not ok
                line = Text.assemble("  ", ("ok  " if ok else "FAIL", "green" if ok else "red"), f" {visible(name)}")
                if detail:
                    line.append(f"  {visible(detail)}", style="dim")
                out.print(line, highlight=False)
    except UsageError as e:
        raise usage(e, context) from None
    out.print(commands.checked(checked, failed))
    raise typer.Exit(EXIT_FAILED if failed else EXIT_PASSED)


@app.command()
def new(
    ctx: typer.Context,
    problem_id: Annotated[str, typer.Argument(help="The new problem's id (also its function's name).")],
    title: Annotated[Optional[str], typer.Option(help="A one-line title.")] = None,
    from_builtin: Annotated[
        bool, typer.Option("--from-builtin", help="Copy the built-in problem of this id into the set instead.")
    ] = False,
) -> None:
    """Scaffold a new problem (a working example to edit), then validate it with `judge check ID`."""
    context = context_of(ctx)
    try:
        written = api.new_problem(context, problem_id, title, from_builtin=from_builtin)
    except UsageError as e:
        raise usage(e, context) from None
    for path in written:
        out.print(visible(commands.wrote(path)), highlight=False, markup=False)
    chosen = ctx.find_root().params.get("problems_dir")
    out.print(
        commands.check_next(problem_id, str(Path(chosen).expanduser().resolve()) if chosen else None), highlight=False
    )


@app.command()
def release(
    ctx: typer.Context,
    out_dir: Annotated[Path, typer.Argument(help="A new (or empty) folder for the learner kit.")],
    problems_: Annotated[Optional[str], typer.Option("--problems", help="Comma-separated ids (default all).")] = None,
    sandbox: Sandbox = "auto",
) -> None:
    """Write a learner kit: one wheel (no reference, no mistakes, only precomputed outputs), a README and a
    practice notebook per problem."""
    context = context_of(ctx, sandbox)
    try:
        wheel = api.release(context, out_dir, problem_list(problems_))
    except UsageError as e:
        raise usage(e, context) from None
    out.print(commands.kit_written(wheel, out_dir / "README.md", out_dir / "notebooks"), highlight=False)


@app.command()
def autograder(
    ctx: typer.Context,
    out_zip: Annotated[Path, typer.Argument(help="The zip to write (upload it to Gradescope).")],
    problems_: Annotated[Optional[str], typer.Option("--problems", help="Comma-separated ids (default all).")] = None,
    hidden_seed: HiddenSeed = None,
    sandbox: Sandbox = "auto",
) -> None:
    """Write a Gradescope autograder zip: setup.sh, run_autograder and the judge with the chosen problems."""
    context = context_of(ctx, sandbox)
    try:
        path = api.autograder(context, out_zip, problem_list(problems_), hidden_seed=hidden_seed)
    except UsageError as e:
        raise usage(e, context) from None
    ids = api.problem_ids(context, problem_list(problems_))
    for line in commands.zip_written(path, bool(hidden_seed), ids):
        out.print(line, highlight=False, markup=False)
