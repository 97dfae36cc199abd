"""What a package of a problem set holds of each problem: the files learners may see (refusing a line of the
answers among them), and the check every packaged set must pass first (`judge check`, as CI checks code)."""

from __future__ import annotations

import json
from pathlib import Path

from grader.authoring.check import check_problems
from grader.context import Context
from grader.model.errors import ProblemError, UsageError
from grader.model.problem import Problem
from grader.package.wheels import engine_paths, made_at
from grader.sets.hidden import hidden_cases
from grader.sets.store import KIT_DATA, KIT_INFO, KIT_MARKER, ROOT, ProblemSet, chosen

NOT_SHIPPED = {"__pycache__", KIT_DATA, KIT_INFO, KIT_MARKER}


def packaged_ids(context: Context, ids: list[str] | None) -> list[str]:
    """The problems to package: all of the set's by default; an unknown id is a usage error."""
    if context.problems.kit:
        raise UsageError("this is a learner kit: releasing needs the instructor's install of the judge")
    if not context.problems.ids():
        raise UsageError(f"the problem set {context.problems.root} has no problems")
    return chosen(context.problems, ids)


def course_name(source: ProblemSet) -> str:
    """The course a package holds: its set's folder name (`builtin` for the judge's own set)."""
    root = source.root.resolve()
    return "builtin" if root == ROOT.resolve() else root.name


def stamp(source: ProblemSet, ids: list[str]) -> tuple[str, int]:
    """A package's course and date: the set's name, and when the newest file it is made from changed (the
    engine, each problem folder's public files, its reference and known mistakes: a kit carries their outputs,
    an autograder ships them)."""
    paths = engine_paths()
    for pid in ids:
        paths += public_files(source.load(pid).folder)
        paths += [p for p in (source.reference_path(pid), source.pitfalls_path(pid)) if p.is_file()]
    return course_name(source), made_at(paths)


def require_checked(context: Context, ids: list[str], hidden_seed: str | None = None) -> None:
    """Refuse a set whose problems fail `judge check` (or whose hidden cases cannot be drawn).

    The hidden-case survey over many secrets is left out (secrets=0): a kit has no hidden cases, and the
    autograder's own secret is drawn below, where every hidden case must catch every known mistake.
    """
    for pid, checks in check_problems(context, ids, secrets=0):  # side by side, as `judge check` runs them
        for name, ok, detail in checks:
            if not ok:
                raise UsageError(
                    f"problem {pid!r} fails `judge check {pid}`: {name}" + (f" ({detail})" if detail else "")
                )
    if not hidden_seed:
        return
    for pid in ids:
        try:
            hidden_cases(context.problems.load(pid), context.problems, hidden_seed)
        except ProblemError as e:
            raise UsageError(f"problem {pid!r} cannot have hidden cases: {e}") from None


def public_files(folder: Path) -> list[Path]:
    """Every file of a problem folder that learners may see: all of it but caches and the kit's own data."""
    out = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if any(part in NOT_SHIPPED or part.startswith(".") for part in rel.parts) or path.suffix == ".pyc":
            continue
        if path.is_symlink():
            raise UsageError(f"{path} is a symbolic link: a problem folder ships plain files only")
        if path.is_file():
            out.append(path)
    return out


def _secret_lines(source: ProblemSet, problem: Problem) -> set[str]:
    """Lines of the reference and mistake modules that say something (the stub's own lines are public)."""
    public = {line.strip() for line in problem.stub_path.read_text().splitlines()}
    lines = set()
    for path in (source.reference_path(problem.id), source.pitfalls_path(problem.id)):
        if path.is_file():
            lines |= {s for line in path.read_text().splitlines() if len(s := line.strip()) >= 20 and s not in public}
    return lines


def _refuse_leaks(source: ProblemSet, problem: Problem, files: list[Path]) -> None:
    secret = _secret_lines(source, problem)
    for path in files:
        text = path.read_bytes().decode("utf-8", "replace")
        for line in text.splitlines():
            if line.strip() in secret:
                raise UsageError(
                    f"{path} contains a line of the reference or its mistakes ({line.strip()[:60]!r}); "
                    "answers belong in reference/, not in the problem folder"
                )


def refuse_notebook_leaks(source: ProblemSet, problem: Problem, name: str, notebook: str) -> None:
    """A UsageError when a practice notebook's cells hold a line of the reference or its mistakes, or a known
    mistake's sentence (a kit ships those as data for the verdicts, never as text to read beforehand)."""
    cells = ["".join(c["source"]) for c in json.loads(notebook)["cells"]]  # as notebook_make writes them: lists
    secret = _secret_lines(source, problem)
    said = [s for s in source.pitfall_messages(problem).values() if len(s.strip()) >= 20]
    for text in cells:
        leak = next((line.strip() for line in text.splitlines() if line.strip() in secret), None)
        leak = leak or next((s for s in said if s.strip() in text), None)
        if leak:
            raise UsageError(
                f"the practice notebook {name} would contain a line of the reference or its mistakes "
                f"({leak[:60]!r}); answers belong in reference/, not in the problem folder"
            )


def problem_files(source: ProblemSet, problem: Problem) -> dict[str, bytes]:
    """A problem folder's public files, as the wheel holds them; UsageError when one holds a line of the answers."""
    shipped = public_files(problem.folder)
    _refuse_leaks(source, problem, shipped)
    return {f"problems/{problem.id}/{p.relative_to(problem.folder).as_posix()}": p.read_bytes() for p in shipped}
