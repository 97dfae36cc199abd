"""The instructor's commands: `judge batch`, `gradescope`, `check`, `new`, `release` and `autograder`."""

from __future__ import annotations

import json
import os
from pathlib import Path
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer
from rich.text import Text

from grader.sets import store as problem_set
from grader.sets import problems
from grader.cli.app import EXIT_FAILED, EXIT_PASSED, Problems, Sandbox, _problem, _usage, app, err, out
from grader.model.errors import ProblemError, UnknownProblem, UsageError
from grader.sandbox.policy import resolve_level
from grader.sandbox.policy import describe, guarded
from grader.render.textsafe import visible

if TYPE_CHECKING:
    from grader.model.problem import Result
    from grader.batch.tasks import Task

    OnResult = Callable[[Task, Result, bool], None]

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

    from grader.batch.run import batch, hidden_folders, learners, progress_printer, stored_statuses, summary

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

        def noting(then: OnResult) -> OnResult:
            """`then`, after noting which results were resumed rather than graded (the summary counts them)."""

            def on_result(task: Task, result: Result, was_resumed: bool) -> None:
                if was_resumed:
                    resumed.add((task.student, task.problem))
                then(task, result, was_resumed)

            return on_result

        if err.is_terminal:
            columns = (TextColumn("grading"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
            with Progress(*columns, console=err) as bar:
                job = bar.add_task("grading", total=total)
                results = batch(class_dir, out, on_result=noting(lambda *_: bar.advance(job)), **kwargs)
        else:
            results = batch(class_dir, out, on_result=noting(progress_printer(total)), **kwargs)
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
    allow_weak_sandbox: Annotated[
        bool, typer.Option("--allow-weak-sandbox", help="Grade even where nothing keeps learners from the answers.")
    ] = False,
) -> None:
    """The entry point of a Gradescope autograder: writes results.json (exit 0), or exits 2 on a bad command line."""
    from grader.batch.tasks import grade_submission, read_task
    from grader.grading.submission import find_submission
    from grader.render.report import gradescope_doc

    ids = _problem_list(problems_) or problems.problem_ids()
    try:  # a misconfigured autograder must fail loudly, not give every student 0
        for pid in ids:
            _problem(pid)
        level = resolve_level(sandbox)
        if not guarded(level) and not allow_weak_sandbox:
            raise UsageError(
                "refusing to grade: neither bubblewrap nor Landlock can keep learner code from the references and "
                "the results here; pass --allow-weak-sandbox to grade anyway"
            )
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
        doc["output"] = "\n".join(
            [doc["output"], *found, *(f"warning: {w}" for w in warnings), f"sandbox: {describe(level)}"]
        )
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
    from grader.authoring.check import check_problem

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
    from grader.authoring.scaffold import new_problem

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
    from grader.package.release import release as write_kit

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
    from grader.package.release import autograder as write_zip

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
