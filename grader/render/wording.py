"""Every sentence the judge says about a verdict, made from its facts (grader/model/verdict.py), in one place.

Nothing else words a fault, a mismatch, a diagnosis or a summary, and no code reads these sentences back: they
are for people. Each literal passes through `_`, the active locale (English unless a caller says otherwise, as
the pseudo-locale test does: `with translated(pseudo): ...`), before its facts are filled in.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar

from grader.model.errors import SandboxFailure
from grader.model.verdict import (
    CaseResult,
    Cause,
    CauseKind,
    ChoiceNote,
    Diagnosis,
    DiagnosisKind,
    Fault,
    FaultKind,
    MismatchKind,
    NotebookNote,
    Refusal,
    Result,
    SourceProblem,
    Status,
)

_locale: ContextVar[Callable[[str], str]] = ContextVar("locale", default=str)


def _(text: str) -> str:
    """A sentence (or a piece of one, with {placeholders}) in the active locale."""
    return _locale.get()(text)


@contextlib.contextmanager
def translated(translate: Callable[[str], str]) -> Iterator[None]:
    """Every sentence made meanwhile, in this thread, passes through `translate` (a locale)."""
    token = _locale.set(translate)
    try:
        yield
    finally:
        _locale.reset(token)


# A pseudo-locale: every letter of a template, outside its {placeholders}, becomes a look-alike one column
# wide, so every sentence reads differently and lays out the same. `unpseudo` maps the letters back.
# (Each look-alike's upper case is its capital's look-alike, so `.upper()` of a sentence maps back too.)
_PLAIN = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_LOOKALIKE = "àƀçďéƒĝĥíĵķľṁñöṗɋřšťüṽŵẋýžÀɃÇĎÉƑĜĤÍĴĶĽṀÑÖṖɊŘŠŤÜṼŴẊÝŽ"
_TO_PSEUDO, _FROM_PSEUDO = str.maketrans(_PLAIN, _LOOKALIKE), str.maketrans(_LOOKALIKE, _PLAIN)
_FIELD = re.compile(r"(\{[^{}]*\})")


def pseudo(text: str) -> str:
    return "".join(p if _FIELD.fullmatch(p) else p.translate(_TO_PSEUDO) for p in _FIELD.split(text))


def unpseudo(text: str) -> str:
    return text.translate(_FROM_PSEUDO)


# ---------------------------------------------------------------- labels


def label(status: Status) -> str:
    """A status in words: "wrong answer"."""
    return {
        Status.PASSED: _("passed"),
        Status.WRONG_ANSWER: _("wrong answer"),
        Status.ERROR: _("error"),
        Status.TIMEOUT: _("timeout"),
        Status.MEMORY: _("memory"),
        Status.CRASHED: _("crashed"),
        Status.INTERNAL_ERROR: _("internal error"),
        Status.MISSING: _("missing"),
    }[status]


def case_label(case: CaseResult) -> str:
    """A case's status as shown: "not run" for the cases after the one a time limit or crash stopped."""
    return _("not run") if case.not_run else label(case.status)


def case_name(case: CaseResult) -> str:
    """A case's name, marked when hidden (hidden cases' own names say so already)."""
    if case.name.startswith("hidden") or not case.hidden:
        return case.name
    return _("{name} (hidden)").format(name=case.name)


# ---------------------------------------------------------------- why a case or the file has no answer


def fault(f: Fault, notebook: NotebookNote | None = None) -> str:
    """One fault in one sentence, with the fix where the facts show it (a notebook without the function: its
    note says what it does define)."""
    k = f.kind
    if k is FaultKind.RAISED:
        said = f"{f.error}: {f.text}" if f.text else f.error
        return f"{said} ({cause(f.cause)})" if f.cause is not None else said
    if k is FaultKind.OUT_OF_MEMORY:
        said = _("{error}: ran out of memory").format(error=f.error)
        if f.limit is None:
            return said
        return _("ran out of memory (limit {limit:g} MB): {said}").format(limit=f.limit, said=said)
    if k is FaultKind.SYS_EXIT:
        return _("called sys.exit({code}); return the result instead of exiting").format(code=f.code)
    if k is FaultKind.STUB:
        return _("still has the starter `raise NotImplementedError` ({line}): replace it with your code").format(
            line=place(f.line or 0, f.cell)
        )
    if k is FaultKind.RETURNED:
        if f.error == "NoneType":
            return _("`{function}` returned None: did you forget `return`?").format(function=f.function)
        return _("returned {type}; expected an array of numbers").format(type=f.error)
    if k is FaultKind.NOT_AN_ARRAY:
        return _("returned {type} that is not an array of numbers ({why})").format(type=f.error, why=f.text)
    if k is FaultKind.NOT_NUMERIC:
        values = f.text or _("ragged or non-numeric")
        return _("returned {type} of {values} values; expected an array of real numbers").format(
            type=f.error, values=values
        )
    if k is FaultKind.MISSING_FUNCTION:
        if f.near:
            return _(
                "{file} has no function `{function}` (the name the judge calls); it defines `{near}`: "
                "rename it to `{function}`"
            ).format(file=f.file, function=f.function, near=f.near)
        return _("{file} has no function '{function}'; it defines: {names}").format(
            file=f.file, function=f.function, names=", ".join(f.defines) or _("nothing")
        )
    if k is FaultKind.SIGNATURE:
        return _(
            "`{function}({params})` cannot take the arguments the judge passes: `{function}({passed})`, "
            "as the problem's signature says"
        ).format(function=f.function, params=", ".join(f.defines), passed=f.code)
    if k is FaultKind.EMPTY_FILE:
        return _(
            "{function}.py is empty: write `def {function}(...)` in it "
            "(`judge init {function}` writes the starter file)"
        ).format(function=f.function)
    if k is FaultKind.SYNTAX:
        return _("SyntaxError in {file} line {line}: {text}").format(file=f.file, line=f.line, text=f.text)
    if k is FaultKind.BAD_ANSWER:
        return _("returned something that is not an array of numbers")
    if k is FaultKind.NOT_RUN:
        status = label(f.status) if f.status is not None else ""
        return _("not run: the run stopped in case {case} ({status})").format(case=f.case, status=status)
    if k in _RUN_FATES:
        return run_fate(f)
    if k is FaultKind.UNREADABLE:
        return _unreadable(f)
    if k is FaultKind.NO_FUNCTION_IN_NOTEBOOK:
        return notebook_note(notebook) if notebook is not None else ""
    if k is FaultKind.MISSING:
        return missing(f)
    if k is FaultKind.REFUSED:
        return _refused(f)
    return internal(f)


_RUN_FATES = {
    FaultKind.OVERFLOW,
    FaultKind.BAD_CHANNEL,
    FaultKind.MEMORY_LIMIT,
    FaultKind.CPU_LIMIT,
    FaultKind.TASKS_LIMIT,
    FaultKind.IMPORT_TIMEOUT,
    FaultKind.CASES_TIMEOUT,
    FaultKind.KILLED,
    FaultKind.EXITED,
}


def place(line: int, cell: int | None) -> str:
    """A line of the learner's code as they see it: "line 4", or in a notebook "Cell In[3], line 4", as Jupyter says."""
    if cell is None:
        return _("line {line}").format(line=line)
    return _("Cell In[{cell}], line {line}").format(cell=cell, line=line)


def still_running() -> str:
    """Said when a call in the learner's own kernel could not be stopped at the limit."""
    return _(
        "your function could not be stopped (compiled code, such as a lax.while_loop, does not listen to Python) "
        "and still runs in the background, using a CPU core: restart the kernel to end it"
    )


def seconds(result: Result) -> str:
    """A run's time: the learner's own, and JAX's compiling beside it where it was not counted."""
    said = _("{s:.2f} s").format(s=result.time_s)
    if result.compile_s is not None and result.compile_s >= 0.01:
        said += _("; JAX compiling {c:.2f} s, not counted").format(c=result.compile_s)
    return said


def run_fate(f: Fault) -> str:
    """Why the run ended before every case had a result; where the learner's code was, when it told."""
    k = f.kind
    if k is FaultKind.OVERFLOW:
        said = _("sent back more data than any answer needs; the run was stopped")
    elif k is FaultKind.BAD_CHANNEL:
        said = _(
            "wrote something that is not a result on the judge's result channel ({why}); "
            "the run was stopped before returning all results"
        ).format(why=f.text)
    elif k is FaultKind.MEMORY_LIMIT:
        used = _(" (peak {mb:.0f} MB)").format(mb=f.used) if f.used else ""
        said = _(
            "ran out of memory: all the processes your code started together went over the limit of "
            "{limit:g} MB{used}; the run was stopped"
        ).format(limit=f.limit, used=used)
    elif k is FaultKind.CPU_LIMIT:
        used = _(": {s:.1f} s").format(s=f.used) if f.used else ""
        said = _(
            "used more than the CPU time limit of {limit:g} s (the CPU time of all the processes and threads "
            "your code started, together{used})"
        ).format(limit=f.limit, used=used)
    elif k is FaultKind.TASKS_LIMIT:
        said = _(
            "started more than {limit:g} processes and threads at once (the sandbox's limit: a fork bomb?); "
            "the run was stopped"
        ).format(limit=f.limit)
    elif k in (FaultKind.IMPORT_TIMEOUT, FaultKind.CASES_TIMEOUT) and f.forever:
        limit = (
            _("the import's time limit of {limit:g} s")
            if k is FaultKind.IMPORT_TIMEOUT
            else _("the time limit of {limit:g} s (all cases together)")
        ).format(limit=f.limit)
        back = (
            _("it came back to {line} (`{code}`)").format(line=place(f.where.line, f.where.cell), code=f.where.code)
            if f.where is not None
            else _("it came back to the same line")  # hidden cases: the learner's frames are not kept
        )
        said = _(
            "your code loops forever: {back} with nothing changed, so it could never finish; it was stopped there "
            "instead of running to {limit}"
        ).format(back=back, limit=limit)  # no measure in the sentence: a regrade says the same (the fault keeps `used`)
        return said
    elif k is FaultKind.IMPORT_TIMEOUT:
        said = _("importing your file took longer than the limit of {limit:g} s").format(limit=f.limit)
    elif k is FaultKind.CASES_TIMEOUT:
        said = _("the cases took longer than the time limit of {limit:g} s (all cases together)").format(limit=f.limit)
    elif k is FaultKind.KILLED:
        said = _("the process was killed by {signal} before returning all results").format(signal=f.error)
    else:
        said = _(
            "the process exited (code {code}) before returning all results; "
            "do not call os._exit() or exit the interpreter"
        ).format(code=f.code)
    if f.where is not None:
        said += _("; your code was at {line} (`{code}`)").format(
            line=place(f.where.line, f.where.cell), code=f.where.code
        )
    if f.running:
        said += "; " + still_running()
    return said


def _unreadable(f: Fault) -> str:
    why = SourceProblem(f.error)
    if why is SourceProblem.NOTEBOOK_AS_SCRIPT:
        return _(
            "{file} is a Jupyter notebook, not a Python file: export it as a script (in Jupyter: "
            "File > Save and Export Notebook As > Executable Script, or `jupyter nbconvert --to script`) "
            "and keep only the `def {function}(...)` and what it needs"
        ).format(file=f.file, function=f.function)
    if why is SourceProblem.BINARY:
        return _("{file} is not a Python source file: it holds binary data (a NUL byte on line {line})").format(
            file=f.file, line=f.line
        )
    if why is SourceProblem.BAD_CODING:
        return f"{f.file}: {f.text}"
    if why is SourceProblem.NOT_TEXT:
        byte = f.byte or 0
        seen = _(" ({char!r} in Windows-1252)").format(char=f.text) if f.text else ""
        declared = _(" (its coding line says {encoding})").format(encoding=f.encoding) if f.encoding else ""
        return _(
            "{file} is not valid {encoding} text{declared}: line {line}, column {column} has the byte "
            "0x{byte:02x}{seen}. Save the file as UTF-8 (in VS Code: click the encoding in the status bar, "
            "'Save with Encoding', 'UTF-8'), or declare its encoding on line 1, e.g. `# -*- coding: cp1252 -*-`"
        ).format(
            file=f.file,
            encoding=f.encoding or "UTF-8",
            declared=declared,
            line=f.line,
            column=f.column,
            byte=byte,
            seen=seen,
        )
    if why is SourceProblem.NOTEBOOK_NOT_UTF8:
        return _("{file} is not a notebook: it is not UTF-8 text ({why})").format(file=f.file, why=f.text)
    if why is SourceProblem.NOTEBOOK_JSON:
        return _(
            "{file} is not a notebook: invalid JSON at line {line} column {column} ({why}); save it again from Jupyter"
        ).format(file=f.file, line=f.line, column=f.column, why=f.text)
    if why is SourceProblem.NOTEBOOK_NESTED:
        return _("{file} is not a notebook: its JSON is nested too deeply").format(file=f.file)
    if why is SourceProblem.NOTEBOOK_NO_CELLS:
        return _('{file} is not a notebook: no "cells" in its JSON').format(file=f.file)
    if why is SourceProblem.NOTEBOOK_FORMAT:
        return _(
            "{file} is nbformat {version}; the judge reads nbformat 4 (open and save it with Jupyter 4 or later)"
        ).format(file=f.file, version=f.text)
    if why is SourceProblem.NOTEBOOK_CELLS:
        return _('{file} is not a valid notebook: "cells" is not a list of at most {limit:g} cells').format(
            file=f.file, limit=f.limit
        )
    if why is SourceProblem.NOTEBOOK_CELL:
        return _("{file} is not a valid notebook: cell {cell} is not an object").format(file=f.file, cell=f.cell)
    if why is SourceProblem.NOTEBOOK_CELL_SOURCE:
        return _("{file} is not a valid notebook: cell {cell} has a source that is not text").format(
            file=f.file, cell=f.cell
        )
    return _(
        "{file} has more than {limit:g} top-level statements; the judge reads notebooks of at most that many"
    ).format(file=f.file, limit=f.limit)


def _refused(f: Fault) -> str:
    why = Refusal(f.error)
    if why is Refusal.TOO_LARGE:
        return _("{file} is larger than {limit:g} MiB").format(file=f.file, limit=f.limit)
    if why is Refusal.CELLS_TOO_LARGE:
        return _("{file} holds more than {limit:g} MiB of cells").format(file=f.file, limit=f.limit)
    if why is Refusal.NOTEBOOK_TOO_COMPLEX:
        return _(
            "{file} could not be read in {limit:g} MiB of memory (millions of cells or outputs?); "
            "clear its outputs and remove empty cells"
        ).format(file=f.file, limit=f.limit)
    if why is Refusal.NOT_A_FILE:
        return _("{file} is not a regular file").format(file=f.file)
    return _("{file} is a link to another folder; links are not followed").format(file=f.file)


def internal(f: Fault) -> str:
    """A judge's own failure: which part failed, and the exception, for whoever fixes the judge."""
    if f.kind is FaultKind.EXECUTOR_FAILED:
        return _("internal error: the {where} task failed: {detail}").format(where=f.error, detail=f.text)
    if f.kind is FaultKind.JUDGE_FAILED:
        return _("internal error: the judge failed: {detail}").format(detail=f.text)
    return _("internal error: the sandbox failed: {detail}").format(detail=sandbox_failure(f))


def sandbox_failure(f: Fault) -> str:
    why = SandboxFailure(f.error) if f.error in SandboxFailure._value2member_map_ else SandboxFailure.OTHER
    if why is SandboxFailure.CANNOT_IMPORT:
        return _("the sandbox could not import {what}").format(what=f.text)
    if why is SandboxFailure.CANNOT_START:
        return _("the sandbox could not start: {what}").format(what=f.text)
    if why is SandboxFailure.DID_NOT_START:
        return _("the sandbox did not start: {what}").format(what=f.text or _("no output"))
    if why is SandboxFailure.ZYGOTE_DIED:
        return _("the sandbox's zygote died twice in a row")
    return f.text


# ---------------------------------------------------------------- how an answer is wrong


def _fmt(v: float | None) -> str:
    return f"{v or 0.0:.6g}"


def mismatch(case: CaseResult) -> str:
    """How a case's answer differs from the expected one."""
    m = case.mismatch
    if m is None:
        return ""
    want, have = tuple(case.expected_shape or ()), tuple(case.shape or ())
    if m.kind is MismatchKind.SHAPE:
        n_want, n_have = _size(want), _size(have)
        values = _(" (the values themselves are right)") if m.values_right else ""
        if n_want == n_have and len(want) == 1:
            return _("expected a 1-D array of {n} values; you returned shape {have}{values}: add .reshape(-1)").format(
                n=n_want, have=have, values=values
            )
        if n_want == n_have:
            return _(
                "expected shape {want}; you returned shape {have} with the same number of values{values}: "
                "return the array in the shape the spec gives"
            ).format(want=want, have=have, values=values)
        return _("expected shape {want} ({n} values); you returned shape {have} ({m} values)").format(
            want=want, n=n_want, have=have, m=n_have
        )
    index = tuple(case.mismatch_index or ())
    if m.kind is MismatchKind.NON_FINITE:
        kinds = _("NaN") if m.all_nan else _("NaN or infinite")
        return _("{count} {kinds} values where the expected output is finite, first at index {index}").format(
            count=m.count, kinds=kinds, index=index
        )
    return _(
        "{count} of {total} values differ beyond rtol={rtol:g}, atol={atol:g} (max abs error {max}); "
        "first at index {index}: got {got}, expected {expected}"
    ).format(
        count=m.count,
        total=m.total,
        rtol=m.rtol,
        atol=m.atol,
        max=_fmt(case.max_abs_err),
        index=index,
        got=_fmt(case.got),
        expected=_fmt(case.expected),
    )


def _size(shape: tuple[int, ...]) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def case_message(case: CaseResult, notebook: NotebookNote | None = None) -> str:
    """What is wrong with one case, in one sentence ("" when it passed)."""
    if case.fault is not None:
        return fault(case.fault, notebook)
    return mismatch(case)


# ---------------------------------------------------------------- tracebacks


def traceback(frames: Sequence[str], raised_inside: str, shapes: Sequence[str], error: str) -> str:
    """The learner's traceback: their own frames (as Python formats them), the library file it was raised in,
    the shapes of the arrays on the failing line, and Python's lines for the exception."""
    lines = []
    if frames:
        lines.append(_("Traceback (your code, most recent call last):") + "\n")
        lines.extend(frames)
        if raised_inside:
            lines.append(_("  (raised inside {file})").format(file=raised_inside) + "\n")
        if shapes:
            lines.append(_("  shapes there: {shapes}").format(shapes=", ".join(shapes)) + "\n")
    lines.append(error)
    return "".join(lines)


# ---------------------------------------------------------------- why a wrong answer is wrong


def _cases(indices: list[int]) -> str:
    if len(indices) == 1:
        return _("case {i}").format(i=indices[0])
    return _("cases {list}").format(list=", ".join(map(str, indices)))


def diagnosis(d: Diagnosis | None) -> str:
    """The named mistake (its author's sentence, as it is), or a hint that starts "Hint:"."""
    if d is None:
        return ""
    head, text = diagnosis_parts(d)
    return text if d.named else f"{head} {text}"


def diagnosis_parts(d: Diagnosis) -> tuple[str, str]:
    """A diagnosis as its label and its text: ("Likely mistake:", the author's sentence) or ("Hint:", facts)."""
    if d.kind is DiagnosisKind.TOGETHER:
        return _("Likely mistakes:"), together(d)
    if d.named:
        return _("Likely mistake:"), d.mistakes[0].sentence
    return _("Hint:"), hint(d)


# ---------------------------------------------------------------- why code raised, in the learner's terms


def cause(c: Cause) -> str:
    """The likely cause of a raised error: an API the installed library removed, or two sizes assumed equal."""
    if c.kind is CauseKind.REMOVED_KEYWORD:
        use = (
            _("use `{replacement}=` instead").format(replacement=c.replacement)
            if c.replacement
            else _("leave it out: nothing replaced it")
        )
        return _("the installed {library} {version} no longer takes `{function}`'s keyword `{name}`: {use}").format(
            library=c.library,
            version=c.version,
            name=c.name,
            function=c.function,
            use=use,
        )
    if c.kind is CauseKind.COLAB_ONLY:
        return _(
            "{name} exists only in Colab, not where the judge runs: import it in a statement of its own (a "
            "notebook's statement the function does not need is left out), e.g. `from google.colab import drive` "
            "on its own line"
        ).format(name=c.name)
    if c.kind is CauseKind.REMOVED_NAME:
        return _("the installed {library} {version} no longer has `{name}`: use `{replacement}` instead").format(
            library=c.library,
            version=c.version,
            name=c.name,
            replacement=c.replacement,
        )
    axis = _("last axis") if c.last else _("axis {axis}").format(axis=c.axis)
    return _(
        "your code assumes {arg} has the same {axis} as {other}; here {dim} = {size} and {other_dim} = {other_size}"
    ).format(
        arg=c.arg, axis=axis, other=c.other, dim=c.dim, size=c.size, other_dim=c.other_dim, other_size=c.other_size
    )


def likely_cause(c: Cause) -> str:
    """The cause as a line of its own, under the traceback it explains."""
    return _("Likely cause: {cause}.").format(cause=cause(c))


# ---------------------------------------------------------------- known mistakes made together


def together(d: Diagnosis) -> str:
    """A named combination: every one of its mistakes' sentences, as their author wrote them, numbered."""
    parts = " ".join(f"({n}) {m.sentence}" for n, m in enumerate(d.mistakes, 1))
    return _("Your output matches {count} known mistakes made together; fix each: {parts}").format(
        count=len(d.mistakes), parts=parts
    )


def hint(d: Diagnosis) -> str:
    k = d.kind
    if k is DiagnosisKind.NEAR:
        return _(
            "your output is much closer to this known mistake than to the right answer, though not "
            "equal to it, so it combined with another mistake is likely: {sentence}"
        ).format(sentence=d.mistakes[0].sentence)
    if k is DiagnosisKind.COMBINED:
        parts = [_("in {cases}: {sentence}").format(cases=_cases(m.cases), sentence=m.sentence) for m in d.mistakes]
        return _("a combination of known mistakes is likely; {parts}").format(parts="; ".join(parts))
    if k is DiagnosisKind.PARTIAL:
        m = d.mistakes[0]
        return _(
            "in {cases}: {sentence} The other wrong cases differ from it too, so a combination with another "
            "mistake is likely."
        ).format(cases=_cases(m.cases), sentence=m.sentence)
    if k is DiagnosisKind.SHAPE:
        return _("expected shape {want}, got {got}.").format(want=tuple(d.shape or ()), got=tuple(d.got_shape or ()))
    if k is DiagnosisKind.ZEROS:
        return _("in case {i} your output is all zeros.").format(i=d.case)
    if k is DiagnosisKind.FACTOR:
        return _(
            "in case {i} your output is the expected one times {factor:.4g} everywhere: a constant factor "
            "(a scale such as 1/sqrt(d), or a missing or extra normalisation)."
        ).format(i=d.case, factor=d.factor)
    if k is DiagnosisKind.SLICE:
        return _("in case {i} the wrong values all lie at index {index} of axis {axis} (shape {shape}).").format(
            i=d.case, index=d.index, axis=d.axis, shape=tuple(d.shape or ())
        )
    if k is DiagnosisKind.EVERYWHERE:
        check = (
            _("check how the parameters come from `seed` (the PRNG key, the init functions, use_bias)")
            if d.seeded
            else _("check the computation from its first step")
        )
        return _("in case {i} the values differ almost everywhere ({share:.0%} of them): {check}.").format(
            i=d.case, share=d.share, check=check
        )
    return _("in case {i}, {share:.0%} of the values are wrong.").format(i=d.case, share=d.share)


# ---------------------------------------------------------------- what was graded


def notebook_note(n: NotebookNote) -> str:
    """One sentence for the result: what of a notebook was graded."""
    left = []
    if n.ipython_lines:
        shown = ", ".join(
            _("`{text}` (cell {cell})").format(text=text[:40], cell=cell) for cell, text in n.ipython_lines[:3]
        )
        more = _(" and {n} more").format(n=len(n.ipython_lines) - 3) if len(n.ipython_lines) > 3 else ""
        left.append(_("IPython lines {shown}{more}").format(shown=shown, more=more))
    for cell, why, message, line in n.skipped_cells[:3]:
        if why == "magic":
            reason = _("a cell magic whose body is not Python")
        elif line is None:
            reason = _("not valid Python: {error}").format(error=message)
        else:
            reason = _("not valid Python: {error}, line {line}").format(error=message, line=line)
        left.append(_("cell {cell} ({why})").format(cell=cell, why=reason))
    if n.dropped:
        cells = sorted(set(n.dropped))
        shown = ", ".join(map(str, cells[:8])) + (", ..." if len(cells) > 8 else "")
        left.append(
            (
                _("{n} top-level statement {function} does not need (cell {cells})")
                if len(n.dropped) == 1
                else _("{n} top-level statements {function} does not need (cells {cells})")
                if len(cells) > 1
                else _("{n} top-level statements {function} does not need (cell {cells})")
            ).format(n=len(n.dropped), function=n.function, cells=shown)
        )
    text = (_("{file}: {n} code cell") if n.code_cells == 1 else _("{file}: {n} code cells")).format(
        file=n.file, n=n.code_cells
    )
    if left:
        text += _("; left out: {what}").format(what="; ".join(left))
    if len(n.definitions) > 1:
        named = ", ".join(_("In[{cell}]").format(cell=c) for c in n.definitions)
        text += _(
            "; {function} is defined in {n} cells ({cells}): the last, In[{last}], was graded, as Restart & Run All "
            "would run them; delete the others if it is not the one you mean"
        ).format(function=n.function, n=len(n.definitions), cells=named, last=n.definitions[-1])
    if not n.has_function:
        text += _no_function(n)
    return text


def _no_function(n: NotebookNote) -> str:
    import difflib

    near = difflib.get_close_matches(n.function, n.defined, n=1)
    if near:
        return _("; no code cell defines {function} (did you mean {near}?)").format(function=n.function, near=near[0])
    if n.defined:
        return _("; no code cell defines {function} (it defines {names})").format(
            function=n.function, names=", ".join(n.defined[:6])
        )
    return _("; no code cell defines {function}").format(function=n.function)


def missing(f: Fault) -> str:
    """Nothing handed in under the expected name: that name, and the files that look like a hand-in."""
    if not f.file:
        return _("no file handed in")
    if not f.found:
        return _("no file handed in: expected {file}").format(file=f.file)
    seen = ", ".join(f.found[:5]) + (_(" and more") if len(f.found) > 5 else "")
    return _("no file named {file} handed in; found {seen}: rename the one to grade to {file}").format(
        file=f.file, seen=seen
    )


def choice_note(c: ChoiceNote) -> str:
    others = ", ".join(c.others[:3]) + (_(" and more") if len(c.others) > 3 else "")
    return _(
        "graded {graded}; not graded: {others} (the shallowest file is graded, and a .py file before a notebook)"
    ).format(graded=c.graded, others=others)


def notes(result: Result) -> str:
    """The bracketed notes on what was graded, for the end of the message ("" when there are none)."""
    said = []
    if result.notebook is not None and result.notebook.has_function:
        said.append(f"[{notebook_note(result.notebook)}]")
    if result.choice is not None:
        said.append(f"[{choice_note(result.choice)}]")
    return " ".join(said)


# ---------------------------------------------------------------- the result in one line


def counts(cases: list[CaseResult], *, all_passed: bool = False) -> str:
    """ "3 of 4 public cases passed; all 3 hidden cases passed": public and hidden apart."""
    parts = []
    for hidden in (False, True):
        group = [c for c in cases if c.hidden is hidden]
        if group:
            ok = sum(c.status is Status.PASSED for c in group)
            if ok == len(group):
                template = _("all {n} hidden cases passed") if hidden else _("all {n} public cases passed")
            else:
                template = _("{ok} of {n} hidden cases passed") if hidden else _("{ok} of {n} public cases passed")
            parts.append(template.format(ok=ok, n=len(group)))
    return (_(" and ") if all_passed else "; ").join(parts)


def summary(result: Result, *, show_hidden: bool = True) -> str:
    """The result in one line, honest about public and hidden cases, with the diagnosis and the notes; a hidden
    case's details only when `show_hidden`."""
    if result.fault is not None and result.fault.kind not in _RUN_FATES:  # said once: it is the file's
        return " ".join(p for p in (fault(result.fault, result.notebook), notes(result)) if p)
    cases = result.cases
    if result.status is Status.PASSED:
        said = counts(cases, all_passed=True)
    else:
        first = next(c for c in cases if c.status is result.status)
        if first.hidden and not show_hidden:
            return _("{counts}; a hidden case failed ({status})").format(
                counts=counts(cases), status=label(result.status)
            )
        where = _("a hidden case") if first.hidden else _("case {i} ({name})").format(i=first.index, name=first.name)
        said = _("{counts}; {where}: {message}").format(counts=counts(cases), where=where, message=first.message)
    stopped = result.stopped_by
    if stopped is not None and stopped.kind in _LIMITS and not any(c.fault == stopped for c in cases):
        said += f" ({run_fate(stopped)})"  # every case had its result when the limit struck
    if result.diagnosis and not said.endswith((".", "!", "?")):
        said += "."  # the diagnosis is a sentence of its own: "... expected 0. Your output matches ..."
    return " ".join(p for p in (said, result.diagnosis, notes(result)) if p)


_LIMITS = {FaultKind.MEMORY_LIMIT, FaultKind.CPU_LIMIT, FaultKind.TASKS_LIMIT}


# ---------------------------------------------------------------- names of what was graded


def function_named(name: str) -> str:
    """What check_function graded, as its results name it."""
    return _("function {name}").format(name=name)


def your_namespace() -> str:
    """Where check_function looked for the function, when it was not given one."""
    return _("your notebook")
