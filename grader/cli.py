"""The `judge` command line: a thin typer layer over the library functions."""

from __future__ import annotations

import difflib
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.text import Text

from grader import problem_set, problems
from grader.errors import ProblemError, UnknownProblem, UsageError
from grader.grading import grade
from grader.models import Limits, Result, Status
from grader.feedback import bubblewrap_advice
from grader.report import render, to_json
from grader.textsafe import visible
from grader.sandbox import resolve_level

# Plain click help: rich's help panels cut option names at 80 columns.
app = typer.Typer(
    no_args_is_help=True, add_completion=False, rich_markup_mode=None, help="Grade JAX, Flax and NumPy exercises."
)
out = Console()
err = Console(stderr=True, soft_wrap=True)


def _reader_left() -> None:
    """stdout's reader went away (`judge run ... | head`): write nothing more; the exit code still tells."""
    out.quiet = True
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


out.on_broken_pipe = _reader_left  # rich's default exits with 1, which reads as "not passed"

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


@app.command("list")
def list_cmd() -> None:
    """List the problems, one per line: solved, attempted or new, with your last score."""
    from grader.practice import load_progress, mark

    width = max(map(len, problems.problem_ids()), default=0)
    progress = load_progress().problems
    for pid in problems.problem_ids():
        try:
            title = problems.load_problem(pid).meta.title
        except ProblemError as e:
            title = f"(malformed: {e})"
        state, score = mark(progress.get(pid))
        out.print(
            visible(f"{pid:{width}s}  {state:9s} {score:>5s}  {title}"), highlight=False, soft_wrap=True, markup=False
        )


@app.command()
def show(problem_id: ProblemId) -> None:
    """Show a problem's spec."""
    from rich.markdown import Markdown  # only here: it costs 40 ms to import

    try:
        problem = _problem(problem_id)
    except UsageError as e:
        raise _usage(e) from None
    out.print(Markdown(problem.spec_path.read_text()))


@app.command()
def init(
    problem_id: ProblemId,
    directory: Annotated[Path, typer.Option("--dir", help="Where to write the stub.")] = Path("."),
) -> None:
    """Write a problem's stub to ./ID.py (never overwrites a file)."""
    try:
        problem = _problem(problem_id)
        target = directory / f"{problem_id}.py"
        if target.exists():
            raise UsageError(f"{target} already exists; not overwriting it")
        if not directory.is_dir():
            raise UsageError(f"no such directory: {directory}")
    except UsageError as e:
        raise _usage(e) from None
    shutil.copyfile(problem.stub_path, target)
    out.print(
        visible(f"wrote {target}; read the task with `judge show {problem_id}`, grade with `judge run {problem_id}`"),
        highlight=False,
        markup=False,
    )


# JAX's CPU runtime reserves about 1.5 GB of address space before any code runs: measured, the correct
# mha_cross runs out of memory at 1600 MB and passes at 1700 (judge run ... --memory-limit N).
MIN_MEMORY_MB = 1800


def _limits(problem_id: str, time_limit: float | None, import_limit: float | None, memory: int | None) -> Limits:
    base = _problem(problem_id).meta.limits
    given = {"time_s": time_limit, "import_s": import_limit, "memory_mb": memory}
    for name, value in given.items():
        if value is None:
            continue
        if name == "memory_mb" and value < MIN_MEMORY_MB:
            raise UsageError(
                f"--memory-limit must be at least {MIN_MEMORY_MB} (MB; got {value}): JAX alone "
                "reserves about 1.5 GB of address space, so even the reference fails below it"
            )
        if name != "memory_mb" and not value > 0:
            option = "--time-limit" if name == "time_s" else "--import-limit"
            raise UsageError(f"{option} must be more than 0 seconds (got {value:g})")
    changes = {k: v for k, v in given.items() if v is not None}
    try:
        return Limits(**{**base.model_dump(), **changes})
    except ValidationError as e:
        first = e.errors()[0]
        option = {"time_s": "--time-limit", "import_s": "--import-limit", "memory_mb": "--memory-limit"}
        raise UsageError(f"bad {option.get(str(first['loc'][0]), first['loc'][0])}: {first['msg']}") from None


@app.command()
def run(
    problem_id: ProblemId,
    file: Annotated[
        Optional[Path],
        typer.Option(
            "--file", "-f", metavar="FILE", help="Submission file: .py or .ipynb (default ./ID.py, else ./ID.ipynb)."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print exactly one JSON document on stdout.")] = False,
    sandbox: Sandbox = "auto",
    time_limit: Annotated[
        Optional[float], typer.Option(metavar="SECONDS", help="Seconds for all cases together.")
    ] = None,
    import_limit: Annotated[
        Optional[float], typer.Option(metavar="SECONDS", help="Seconds to import the file.")
    ] = None,
    memory_limit: Annotated[
        Optional[int], typer.Option(metavar="MB", help=f"Address-space limit in MB (at least {MIN_MEMORY_MB}).")
    ] = None,
    watch: Annotated[bool, typer.Option("--watch", help="Grade again after every save; Ctrl-C stops.")] = False,
) -> None:
    """Grade ./ID.py (or --file) on the problem's cases. Exit 0 passed, 1 not passed, 2 usage error, 3 judge error."""
    if watch:
        _watch(problem_id, file or Path(f"{problem_id}.py"), as_json, sandbox, time_limit, import_limit, memory_limit)
    from grader.notebook import find_submission

    path = file or find_submission(Path("."), problem_id)[0]
    try:
        limits = _limits(problem_id, time_limit, import_limit, memory_limit)
        if as_json:
            result = grade(problem_id, path, limits=limits, sandbox=sandbox)
        else:
            result = _grade_with_progress(problem_id, path, limits, sandbox)
    except (UsageError, ValueError) as e:
        raise _usage(e, as_json) from None
    _record(result)
    code = EXIT_INTERNAL if result.status is Status.INTERNAL_ERROR else EXIT_PASSED if result.passed else EXIT_FAILED
    try:
        if as_json:
            sys.stdout.write(to_json(result) + "\n")
        else:
            render(result, out)
            if result.status is Status.INTERNAL_ERROR:
                err.print(visible(result.traceback), highlight=False, markup=False)
            elif result.replay and result.replay.sandbox == "process" and sandbox == "auto":
                err.print(
                    f"note: graded in the weak process-level sandbox; for the strong one, {bubblewrap_advice()}",
                    style="dim",
                    highlight=False,
                    markup=False,
                )
        sys.stdout.flush()
    except BrokenPipeError:  # `judge run ... | head`: the reader left; the verdict stands
        _reader_left()
    raise typer.Exit(code)


def _grade_with_progress(problem_id: str, path: Path, limits: Limits, sandbox: str):
    """Say at once what is being graded; on a terminal, show each step until the result is in."""
    from grader.progress import RunProgress

    n = len(_problem(problem_id).cases)
    try:
        exists = path.is_file()
    except OSError:
        exists = False
    if exists:  # else grade() says what is wrong with the path
        out.print(Text(f"grading {visible(path.name)} on {problem_id} ({n} cases)..."), highlight=False)
    with RunProgress(err, path.name, n) as progress:
        return grade(problem_id, path, limits=limits, sandbox=sandbox, progress=progress.update)


def _record(result: Result) -> None:
    """Keep the outcome in the learner's progress; a data folder that cannot be written costs only that."""
    from grader.practice import record_run

    try:
        record_run(result)
    except OSError as e:
        err.print(f"[yellow]warning:[/] progress not saved: {e}", highlight=False)


def _watch(
    problem_id: str,
    path: Path,
    as_json: bool,
    sandbox: str,
    time_limit: float | None,
    import_limit: float | None,
    memory_limit: int | None,
) -> None:
    """`judge run --watch`: grade, then grade again after every save, with one sandbox zygote throughout."""
    import signal

    from grader.practice import watch
    from grader.sandbox import private_zygote

    try:
        if as_json:
            raise UsageError("--watch prints a table per save; it does not go with --json")
        limits = _limits(problem_id, time_limit, import_limit, memory_limit)
        zygote = private_zygote(resolve_level(sandbox))
    except (UsageError, ValueError) as e:
        raise _usage(e, as_json) from None
    graded = []

    def regrade() -> None:
        try:
            result = grade(problem_id, path, limits=limits, sandbox=sandbox, zygote=zygote)
        except UsageError as e:
            if not graded:
                raise
            err.print(f"[red]error:[/] {e}", highlight=False)  # e.g. the file vanished mid-save: keep watching
        else:
            graded.append(result.status)
            render(result, out)
            if result.status is Status.INTERNAL_ERROR:
                err.print(result.traceback, highlight=False)
            _record(result)
        out.print(f"[dim]watching {path}: save it to grade again, Ctrl-C to stop[/]", highlight=False)
        out.file.flush()

    try:
        watch(path, regrade)
    except UsageError as e:
        raise _usage(e) from None
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not interrupt the cleanup
        out.print("stopped watching")
        raise typer.Exit(EXIT_PASSED) from None
    finally:
        zygote.close()


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


def _problem_list(text: str | None) -> list[str] | None:
    return [p.strip() for p in text.split(",") if p.strip()] if text else None


@app.command("batch")
def batch_cmd(
    class_dir: Annotated[
        Path, typer.Argument(metavar="CLASS_DIR", help="One subfolder per learner, holding <problem-id>.py files.")
    ],
    out: Annotated[
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
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from grader.batch import batch, hidden_folders, learners, progress_printer, stored_statuses, summary

    ids = _problem_list(problems_)
    try:
        for pid in ids or []:
            if pid not in problems.problem_ids():
                raise UnknownProblem(pid, problems.problem_ids())
        n_students = len(learners(class_dir)) if class_dir.is_dir() else 0
        skipped = hidden_folders(class_dir) if class_dir.is_dir() else []
        if skipped:
            err.print(f"not grading hidden folders: {', '.join(skipped)}", highlight=False, markup=False)
        total = n_students * len(ids or problems.problem_ids())
        kwargs: dict[str, Any] = dict(
            problem_ids=ids,
            workers=workers,
            sandbox=sandbox,
            allow_weak_sandbox=allow_weak_sandbox,
            hidden_seed=hidden_seed,
            show_hidden=show_hidden,
            force=force,
            executor=executor,
            address=address,
        )
        before = stored_statuses(out)
        resumed: set[tuple[str, str]] = set()
        printer = progress_printer(total)

        def seen(task, result, was_resumed: bool) -> None:
            if was_resumed:
                resumed.add((task.student, task.problem))

        if err.is_terminal:
            columns = (TextColumn("grading"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
            with Progress(*columns, console=err) as bar:
                job = bar.add_task("grading", total=total)
                results = batch(class_dir, out, on_result=lambda *a: (seen(*a), bar.advance(job)), **kwargs)
        else:
            results = batch(class_dir, out, on_result=lambda *a: (seen(*a), printer(*a)), **kwargs)
    except UsageError as e:
        raise _usage(e) from None
    except KeyboardInterrupt:
        err.print("interrupted: run the same command again to resume where it stopped")
        raise typer.Exit(130) from None
    for line in summary(results, resumed, before, out):
        err.print(visible(line), highlight=False, markup=False, soft_wrap=True)


@app.command()
def gradescope(
    submission_dir: Annotated[Path, typer.Option(help="The learner's files.")] = Path("/autograder/submission"),
    results: Annotated[Path, typer.Option(help="Where results.json goes.")] = Path("/autograder/results/results.json"),
    problems_: Problems = None,
    hidden_seed: HiddenSeed = None,
    show_hidden: ShowHidden = False,
    sandbox: Sandbox = "auto",
) -> None:
    """The entry point of a Gradescope autograder: writes results.json (exit 0), or exits 2 on a bad command line."""
    from grader.batch import grade_submission, read_task
    from grader.notebook import find_submission
    from grader.report import gradescope_doc

    ids = _problem_list(problems_) or problems.problem_ids()
    try:  # a misconfigured autograder must fail loudly, not give every student 0
        for pid in ids:
            _problem(pid)
        level = resolve_level(sandbox)
    except (UsageError, ProblemError) as e:
        raise _usage(e) from None
    warnings: list[str] = []
    try:
        graded, found = [], []
        for pid in ids:
            path, note = find_submission(submission_dir, pid, recursive=True)
            shown = path.relative_to(submission_dir)
            if path.exists():
                found.append(f"{pid}: graded {shown}")
            if note:
                warnings.append(f"{pid}: {note.strip('[]')}")
            result = grade_submission(
                read_task("learner", pid, path, note), level=level, hidden_seed=hidden_seed, limits=None
            )
            graded.append(result.model_copy(update={"submission": str(shown)}))
        doc = gradescope_doc(graded, show_hidden=show_hidden)
        doc["output"] = "\n".join([doc["output"], *found, *(f"warning: {w}" for w in warnings)])
    except Exception as e:  # Gradescope shows a missing results.json as a failed autograder: always write one
        doc = {"score": 0, "output": f"The autograder could not grade this submission: {e}", "tests": []}
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps(doc, indent=2))
    for warning in warnings:
        err.print(visible(f"warning: {warning}"), highlight=False, markup=False)
    err.print(visible(f"wrote {results}: score {doc['score']}"), highlight=False, markup=False)


@app.command()
def check(
    problem_id: Annotated[Optional[str], typer.Argument(help="Problem id (default: every problem).")] = None,
    sandbox: Sandbox = "auto",
    secrets: Annotated[
        int,
        typer.Option(min=0, help="Secrets whose hidden cases are checked against every known mistake (0 skips it)."),
    ] = 200,
) -> None:
    """Validate problem folders: metadata, stub, reference, pitfalls caught by public and hidden cases, tolerance."""
    from grader.check import check_problem

    ids = [problem_id] if problem_id else problems.problem_ids()
    if problem_id and problem_id not in problems.problem_ids():
        raise _usage(UnknownProblem(problem_id, problems.problem_ids()))
    failed = 0
    for pid in ids:
        out.print(Text(pid, style="bold"))
        for name, ok, detail in check_problem(pid, sandbox=sandbox, secrets=secrets):
            failed += not ok
            mark = "ok  " if ok else "FAIL"
            line = Text.assemble("  ", (mark, "green" if ok else "red"), f" {visible(name)}")
            if detail:
                line.append(f"  {visible(detail)}", style="dim")
            out.print(line, highlight=False)
    out.print(f"{len(ids)} problems checked, {failed} checks failed")
    raise typer.Exit(EXIT_FAILED if failed else EXIT_PASSED)


@app.command()
def new(
    problem_id: Annotated[str, typer.Argument(help="The new problem's id (also its function's name).")],
    title: Annotated[Optional[str], typer.Option(help="A one-line title.")] = None,
) -> None:
    """Scaffold a new problem (a working example to edit), then validate it with `judge check ID`."""
    from grader.scaffold import new_problem

    try:
        written = new_problem(problem_id, title)
    except UsageError as e:
        raise _usage(e) from None
    for path in written:
        out.print(visible(f"wrote {path}"), highlight=False, markup=False)
    chosen = os.environ.get(problem_set.ENV)
    out.print(
        f"edit them, then run `judge {f'--problems-dir {chosen} ' if chosen else ''}check {problem_id}`",
        highlight=False,
    )


@app.command()
def release(
    out_dir: Annotated[Path, typer.Argument(help="A new (or empty) folder for the learner kit.")],
    problems_: Annotated[Optional[str], typer.Option("--problems", help="Comma-separated ids (default all).")] = None,
    sandbox: Sandbox = "auto",
) -> None:
    """Write a learner kit: one wheel (no reference, no mistakes, only precomputed outputs) and a README."""
    from grader.release import release as write_kit

    try:
        wheel = write_kit(out_dir, _problem_list(problems_), sandbox=sandbox)
    except UsageError as e:
        raise _usage(e) from None
    out.print(
        f"wrote {wheel} and {out_dir / 'README.md'}; learners install it with `pip install {wheel.name}`",
        highlight=False,
    )


@app.command()
def autograder(
    out_zip: Annotated[Path, typer.Argument(help="The zip to write (upload it to Gradescope).")],
    problems_: Annotated[Optional[str], typer.Option("--problems", help="Comma-separated ids (default all).")] = None,
    hidden_seed: HiddenSeed = None,
    sandbox: Sandbox = "auto",
) -> None:
    """Write a Gradescope autograder zip: setup.sh, run_autograder and the judge with the chosen problems."""
    from grader.release import autograder as write_zip

    try:
        path = write_zip(out_zip, _problem_list(problems_), hidden_seed=hidden_seed, sandbox=sandbox)
    except UsageError as e:
        raise _usage(e) from None
    out.print(
        f"wrote {path}"
        + (" (with hidden cases)" if hidden_seed else "")
        + "; upload it as the assignment's autograder on Gradescope",
        highlight=False,
    )


ProblemArg = Annotated[str, typer.Argument(help="Problem id, as `judge list` shows.")]


@app.command()
def hint(
    problem_id: ProblemArg,
    show_all: Annotated[bool, typer.Option("--all", help="Show every hint at once.")] = False,
) -> None:
    """Show the next hint you have not seen (from a nudge to nearly the answer); --all shows them all."""
    from grader.practice import next_hint

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

    from grader.practice import SolutionUnavailable
    from grader.practice import solution as reference_solution

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
    from grader import practice

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
