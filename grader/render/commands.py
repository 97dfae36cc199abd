"""What the commands say besides a verdict: which sandbox graded and how to get the strong one, what was
written where, hints and progress, a batch's end. Like every sentence of the judge's, through the locale (`_`).
"""

from __future__ import annotations

import difflib

from grader.model.errors import UnknownProblem
from grader.model.verdict import SandboxInfo
from grader.render.wording import _


# ---------------------------------------------------------------- the sandbox, for the people who read a grade


def describe(info: SandboxInfo) -> str:
    """What a level keeps a learner from, and what sums a sandbox's memory, tasks and CPU time."""
    if info.level == "bwrap":
        said = _("bwrap: namespaces; nothing of the judge, no network, no other process in view")
    elif info.landlock_abi:
        said = _(
            "process, confined by Landlock (ABI {abi}) and seccomp: the judge's files, the caches and the results "
            "out of reach, no sockets"
        ).format(abi=info.landlock_abi)
    else:
        said = _("process, unconfined: learner code could read the judge's files and write where the judge can")
    bounds = _("the keeper's supervision (sums every 0.1 s)") if info.bounds == "keeper" else info.bounds
    return _("{said}; memory, tasks and CPU time summed per sandbox by {bounds}").format(said=said, bounds=bounds)


def bubblewrap_advice(installed: bool, command: str | None) -> str:
    """Why the strong sandbox is missing and what to do, in one sentence."""
    if installed:
        return _(
            "bubblewrap is installed but cannot create namespaces here (a container without user namespaces?): "
            "run the judge on a host or VM that allows them"
        )
    if command:
        return _("install bubblewrap: {command}").format(command=command)
    return _("install bubblewrap with your system's package manager")


def sandbox_line(info: SandboxInfo) -> str:
    return _("sandbox: {level}").format(level=describe(info))


def warning(text: str) -> str:
    return _("warning: {text}").format(text=text)


def gradescope_found(problem_id: str, file: str) -> str:
    return _("{problem}: graded {file}").format(problem=problem_id, file=file)


def unknown_problem(e: UnknownProblem) -> str:
    """An id the set lacks: the closest valid id, or how to copy in a built-in problem of that id."""
    problem_id, valid, builtin_root = e.problem_id, e.valid, e.builtin_root
    found = difflib.get_close_matches(problem_id, valid, n=1, cutoff=0.6)
    near = found[0] if found else None
    if builtin_root:
        return _(
            "{id!r} is a built-in problem, not one of this set's ({valid}); copy it in with "
            "`judge --problems-dir {root} new {id} --from-builtin`"
        ).format(id=problem_id, valid=", ".join(valid), root=builtin_root)
    said = (
        _("unknown problem {id!r}; did you mean {near!r}? valid ids: {valid}")
        if near
        else _("unknown problem {id!r}; valid ids: {valid}")
    )
    return said.format(id=problem_id, near=near, valid=", ".join(valid))


def bwrap_unusable(advice: str) -> str:
    return _("the bwrap sandbox is not usable here: {advice}").format(advice=advice)


def weak_sandbox(command: str, advice: str) -> str:
    """Why `judge batch` or `judge gradescope` refuses to grade others at the weak level, and what to do."""
    if command == "gradescope":
        return _(
            "refusing to grade: neither bubblewrap nor Landlock can keep learner code from the references and the "
            "results here; pass --allow-weak-sandbox to grade anyway"
        )
    return _(
        "batch grading refuses the weak process-level sandbox (no bubblewrap, no Landlock): {advice}; or pass "
        "--allow-weak-sandbox to grade without isolation of files and network"
    ).format(advice=advice)


# ---------------------------------------------------------------- the command line's own lines


def mark(state: str) -> str:
    """`judge list`'s mark of a problem: solved, attempted or new."""
    return {"solved": _("solved"), "attempted": _("attempted"), "new": _("new")}.get(state, state)


def malformed(error: str) -> str:
    return _("(malformed: {error})").format(error=error)


def stub_written(path: object, problem_id: str) -> str:
    return _("wrote {path}; read the task with `judge show {id}`, grade with `judge run {id}`").format(
        path=path, id=problem_id
    )


def grading(file: str, problem_id: str, cases: int) -> str:
    return _("grading {file} on {problem} ({n} cases)...").format(file=file, problem=problem_id, n=cases)


def not_counted(file: str) -> str:
    return _("not counted in your progress: {file} is one of the judge's own files").format(file=file)


def progress_unsaved(why: str) -> str:
    return _("progress not saved: {why}").format(why=why)


def weak_note(info: SandboxInfo, advice: str) -> str:
    """After a `judge run` at the process level: which sandbox graded, and how to get the strong one, in a line
    or two (a learner reads it after every run; `judge batch` and `gradescope` describe the level in full)."""
    level = _("process level, Landlock") if info.landlock_abi else _("process level, unconfined")
    return _("note: graded without bubblewrap ({level}); for the strong sandbox, {advice}").format(
        level=level, advice=advice
    )


def watching(path: object) -> str:
    return _("watching {path}: save it to grade again, Ctrl-C to stop").format(path=path)


def stopped_watching() -> str:
    return _("stopped watching")


def not_grading(folders: list[str]) -> str:
    return _("not grading hidden folders: {folders}").format(folders=", ".join(folders))


def grading_bar() -> str:
    return _("grading")


def interrupted() -> str:
    return _("interrupted: run the same command again to resume where it stopped")


def internal_errors(tasks: list[str]) -> str:
    """A batch in which the judge failed on some tasks: everything else is graded and written."""
    shown = ", ".join(tasks[:5]) + (_(" and {n} more").format(n=len(tasks) - 5) if len(tasks) > 5 else "")
    return _(
        "internal error: the judge failed on {n} of the tasks ({tasks}); everything else is graded and written, "
        "and those are in the reports as internal errors"
    ).format(n=len(tasks), tasks=shown)


def judge_failed_on(problems: list[str]) -> str:
    if problems == ["*"]:
        return _("internal error: the judge could not grade this submission (results.json says so)")
    return _("internal error: the judge failed on {problems} (results.json says so)").format(
        problems=", ".join(problems)
    )


def wrote_results(path: object, score: object) -> str:
    return _("wrote {path}: score {score}").format(path=path, score=score)


def checked(problems: int, failed: int) -> str:
    one, many = _("1 problem checked, {failed} checks failed"), _("{n} problems checked, {failed} checks failed")
    return (one if problems == 1 else many).format(n=problems, failed=failed)


def wrote(path: object) -> str:
    return _("wrote {path}").format(path=path)


def check_next(problem_id: str, problems_dir: str | None) -> str:
    option = f"--problems-dir {problems_dir} " if problems_dir else ""
    return _("edit them, then run `judge {option}check {id}`").format(option=option, id=problem_id)


def kit_written(wheel: object, readme: object, notebooks: object) -> str:
    name = getattr(wheel, "name", wheel)
    return _(
        "wrote {wheel}, {readme} and a practice notebook per problem in {notebooks}; learners install it with "
        "`pip install {name}`"
    ).format(wheel=wheel, readme=readme, notebooks=notebooks, name=name)


def zip_written(path: object, hidden: bool, problem_ids: list[str]) -> list[str]:
    """What `judge autograder` wrote, what it grades, and the file names for Gradescope's settings."""
    said = _("wrote {path} (with hidden cases)") if hidden else _("wrote {path}")
    cases = (
        _("it grades the public and the hidden cases")
        if hidden
        else _(
            "it grades the public cases only, whose expected outputs a learner kit holds; "
            "--hidden-seed SECRET adds hidden cases"
        )
    )
    names = ", ".join(f"{pid}.py" for pid in problem_ids)
    return [
        said.format(path=path) + _("; upload it as the assignment's autograder on Gradescope"),
        cases,
        _("required files, for the assignment's settings on Gradescope: {names}").format(names=names),
    ]


def hint_heading(i: int, total: int) -> str:
    return _("Hint {i} of {n}").format(i=i, n=total)


def hint_next(problem_id: str, more: bool) -> str:
    if more:
        return _("`judge hint {id}` again for the next one").format(id=problem_id)
    return _("that was the last one; `judge solution {id}` opens once your file passes").format(id=problem_id)


def hint_not_remembered() -> str:
    return _("the data folder cannot be written: the next `judge hint` shows this one again")


def progress_cleared(path: object) -> str:
    return _("progress cleared ({path})").format(path=path)


def runs(n: int) -> str:
    return (_("{n} run") if n == 1 else _("{n} runs")).format(n=n)


def hints_seen(seen: int, total: int | None) -> str:
    return _("no hints") if total is None else _("{seen}/{total} hints").format(seen=seen, total=total)


def progress_total(solved: int, total: int, attempted: int, path: object) -> str:
    return _("{solved} of {n} solved, {attempted} attempted; kept in {path}").format(
        solved=solved, n=total, attempted=attempted, path=path
    )


def hints_in_notebook(problem_id: str, first: int, shown: list[str], total: int, remembered: bool) -> str:
    """`judge hint` as the text a notebook's hint cell prints: each hint under its heading, then what next."""
    parts = [f"{hint_heading(i, total)} ({problem_id})\n{text}" for i, text in enumerate(shown, start=first)]
    if len(shown) == 1:
        parts.append(_("(run this cell again for the next one)") if first < total else _("(that was the last one)"))
    if not remembered:
        parts.append(_("(the data folder cannot be written: the next run shows this one again)"))
    return "\n\n".join(parts)


# ---------------------------------------------------------------- a practice notebook (`judge init ID --notebook`)


def notebook_written(path: object, problem_id: str) -> str:
    return _(
        "wrote {path}; open it in Jupyter or upload it to Colab: run the cells from the top, fill in the function, "
        "run the check cell (or grade the notebook with `judge run {id} --file {path}`)"
    ).format(path=path, id=problem_id)


def notebook_intro(problem_id: str, function: str) -> str:
    """The notebook's first cell (Markdown)."""
    return _(
        "*Practice notebook for `{id}`.* Run the setup cell below, read the task, fill in `{fn}` and run the "
        "check cell (again after each change): it grades your function on the problem's public cases, here in "
        "this notebook. Stuck? The last cell shows one hint each time you run it, from a nudge to nearly the "
        "answer."
    ).format(id=problem_id, fn=function)


def notebook_your_code(function: str) -> str:
    return _("## Your code\n\nFill in `{fn}` below, then run the cell.").format(fn=function)


def notebook_check() -> str:
    return _("## Check it\n\nGrades your function on the public cases and shows a table, as `judge run` does.")


def notebook_hint() -> str:
    return _("## Stuck?\n\nEach run of the next cell shows one more hint (and remembers which you have seen).")


def notebook_setup_comment() -> str:
    return _("Setup: the judge's check_function and hints, from the judge installed in this notebook's Python.")


def notebook_wheel_comment() -> str:
    return _("the kit's wheel beside this notebook (in Colab: uploaded with the Files pane) is installed here")


def notebook_not_installed(wheel: str | None) -> str:
    """What the setup cell prints when the judge cannot be imported in the notebook's Python."""
    if wheel:
        return _(
            "The judge is not installed in this notebook's Python. In Colab: upload {wheel} with the Files pane "
            "(left), then run this cell again. In Jupyter: run `%pip install path/to/{wheel}` in a cell (or start "
            "Jupyter from the environment where you installed the kit), then run this cell again."
        ).format(wheel=wheel)
    return _(
        "The judge is not installed in this notebook's Python. Install it there: `%pip install "
        "path/to/judge-<version>-py3-none-any.whl` (your instructor's kit) or, from a clone of the judge, "
        "`%pip install -e path/to/clone`; then run this cell again."
    )
