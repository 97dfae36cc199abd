"""A verdict as data: statuses, and the facts behind them, found where they are found and carried typed.

Every output (terminal, JSON, CSV, Gradescope, report.html, a notebook's table) is rendered from a `Result`.
Code acts only on its facts: a status, a `Fault` (why a case or the file has no answer), a `Mismatch` (how an
answer is wrong), a `Diagnosis` (the known mistake or the hint behind a wrong answer), the notes on what was
graded. The texts (`message`, `diagnosis`, `traceback`) are made from those facts by grader/render/wording.py,
for people; like isolate's `message`, they are never read back by code.
"""

from __future__ import annotations

import enum

from pydantic import BaseModel, ConfigDict, computed_field

from grader.model.problem import Limits

VERSION = 2  # of the result's document: 2 added the facts beside the texts


class Status(str, enum.Enum):
    """One status vocabulary for every output. Values are stable identifiers."""

    PASSED = "passed"
    WRONG_ANSWER = "wrong_answer"
    ERROR = "error"  # exception, syntax error, missing function: could not be graded
    TIMEOUT = "timeout"
    MEMORY = "memory"
    CRASHED = "crashed"
    INTERNAL_ERROR = "internal_error"  # a judge bug, never the learner's fault
    MISSING = "missing"  # batch grading: no file handed in


# Worst first: the overall status of a run is the first of these that any case has.
PRECEDENCE = [
    Status.INTERNAL_ERROR,
    Status.MISSING,
    Status.TIMEOUT,
    Status.MEMORY,
    Status.CRASHED,
    Status.ERROR,
    Status.WRONG_ANSWER,
    Status.PASSED,
]


def worst(statuses: list[Status]) -> Status:
    return min(statuses, key=PRECEDENCE.index, default=Status.PASSED)


class Record(BaseModel):
    """Results: read back from stored JSON, where computed fields such as `score` appear too."""

    model_config = ConfigDict(extra="ignore", frozen=True)


# ---------------------------------------------------------------- why a case or a file has no answer


class FaultKind(str, enum.Enum):
    """Why a case (or the whole file) has no answer. The fields each kind sets are named after it."""

    # found by the learner's process (grader/child/protocol.py: Why)
    RAISED = "raised"  # error, text; a traceback
    OUT_OF_MEMORY = "out_of_memory"  # error; limit (MB) on a case
    SYS_EXIT = "sys_exit"  # code
    STUB = "stub"  # line: the starter's `raise NotImplementedError` ran
    RETURNED = "returned"  # error: the type returned (NoneType, str, dict...)
    NOT_AN_ARRAY = "not_an_array"  # error (the type), text (why numpy could not make an array of it)
    NOT_NUMERIC = "not_numeric"  # error (the type), text (its dtype; "" for ragged or objects)
    MISSING_FUNCTION = "missing_function"  # file, function, near, defines
    SIGNATURE = "signature"  # function, defines (its parameters), code (the arguments passed, comma-separated)
    EMPTY_FILE = "empty_file"  # function: the file holds nothing at all
    SYNTAX = "syntax"  # file, line, text
    # found by the judge
    BAD_ANSWER = "bad_answer"  # the answer's bytes are not an array of numbers
    OVERFLOW = "overflow"  # more data sent back than any answer needs
    BAD_CHANNEL = "bad_channel"  # text: how the result channel broke the protocol
    MEMORY_LIMIT = "memory_limit"  # limit (MB), used (peak MB, when measured)
    CPU_LIMIT = "cpu_limit"  # limit (s), used (s, when measured)
    TASKS_LIMIT = "tasks_limit"  # limit (processes and threads)
    IMPORT_TIMEOUT = "import_timeout"  # limit (s)
    CASES_TIMEOUT = "cases_timeout"  # limit (s)
    KILLED = "killed"  # error: the signal's name
    EXITED = "exited"  # code
    NOT_RUN = "not_run"  # case: the case the run stopped in; status: how it stopped
    # the hand-in itself
    UNREADABLE = "unreadable"  # error: a SourceProblem; file and what it names (see SourceProblem)
    NO_FUNCTION_IN_NOTEBOOK = "no_function_in_notebook"  # function; the notebook note says what it defines
    MISSING = "missing"  # no file handed in: file (the name expected), found (files there that look like one)
    REFUSED = "refused"  # error: a Refusal; file, limit (MiB)
    # the judge's own failures, never the learner's
    SANDBOX_FAILED = "sandbox_failed"  # error: a SandboxFailure; text (detail)
    JUDGE_FAILED = "judge_failed"  # text: the exception
    EXECUTOR_FAILED = "executor_failed"  # error: where (local, Ray); text: the exception


class SourceProblem(str, enum.Enum):
    """Why a hand-in's bytes cannot be read as what its name says (FaultKind.UNREADABLE's error)."""

    NOTEBOOK_AS_SCRIPT = "notebook_as_script"  # a .py file that is a notebook: function
    BINARY = "binary"  # a NUL byte: line
    BAD_CODING = "bad_coding"  # an unknown encoding in the coding line: text
    NOT_TEXT = "not_text"  # line, column, byte, encoding (declared), text (the byte in Windows-1252)
    NOTEBOOK_NOT_UTF8 = "notebook_not_utf8"  # text: the decoder's reason
    NOTEBOOK_JSON = "notebook_json"  # line, column, text
    NOTEBOOK_NESTED = "notebook_nested"
    NOTEBOOK_NO_CELLS = "notebook_no_cells"
    NOTEBOOK_FORMAT = "notebook_format"  # text: the nbformat it declares
    NOTEBOOK_CELLS = "notebook_cells"  # limit: "cells" is not a list of at most that many
    NOTEBOOK_CELL = "notebook_cell"  # cell: not an object
    NOTEBOOK_CELL_SOURCE = "notebook_cell_source"  # cell: a source that is not text
    NOTEBOOK_TOO_LONG = "notebook_too_long"  # limit: top-level statements


class Refusal(str, enum.Enum):
    """Why a file handed in is not graded at all (FaultKind.REFUSED's error)."""

    TOO_LARGE = "too_large"  # file, limit (MiB)
    CELLS_TOO_LARGE = "cells_too_large"  # file, limit (MiB): a notebook's cells
    NOTEBOOK_TOO_COMPLEX = "notebook_too_complex"  # file, limit (MiB): reading it would take more memory
    NOT_A_FILE = "not_a_file"  # file: a link, a folder, a device
    LINKED_FOLDER = "linked_folder"  # file: the learner's folder is a link to another


class Where(Record):
    """The learner's line that was running when a time limit struck: reported by their own process (shown,
    never trusted)."""

    line: int
    code: str
    cell: int | None = None  # in a notebook: the cell holding the line (then `line` counts in that cell)


class CauseKind(str, enum.Enum):
    """What likely made the learner's code raise, found by the judge from the error and the case."""

    REMOVED_KEYWORD = "removed_keyword"  # library, version, function, name (the keyword), replacement ("": none)
    REMOVED_NAME = "removed_name"  # library, version, name (module.attribute), replacement
    SIZES_DIFFER = "sizes_differ"  # arg, axis, last, dim, size; other, other_dim, other_size: assumed equal
    COLAB_ONLY = "colab_only"  # name: a module that exists only in Colab (google.colab)


class Cause(Record):
    """The likely cause of a raised error, in the learner's terms (see CauseKind for the fields each sets)."""

    kind: CauseKind
    library: str = ""
    version: str = ""
    function: str = ""
    name: str = ""
    replacement: str = ""
    arg: str = ""
    axis: int | None = None
    last: bool = False
    dim: str = ""
    size: int | None = None
    other: str = ""
    other_dim: str = ""
    other_size: int | None = None


class Fault(Record):
    """Why a case, or the whole file, has no answer (see FaultKind for which fields each kind sets)."""

    kind: FaultKind
    error: str = ""
    text: str = ""
    file: str = ""
    function: str = ""
    line: int | None = None
    column: int | None = None
    byte: int | None = None
    encoding: str = ""
    near: str = ""
    defines: list[str] = []
    code: str = ""
    limit: float | None = None
    used: float | None = None
    cell: int | None = None
    case: int | None = None
    status: Status | None = None
    where: Where | None = None
    found: list[str] = []
    running: bool = False  # CASES_TIMEOUT in the caller's process: the call could not be stopped and runs on
    forever: bool = False  # CASES_TIMEOUT, IMPORT_TIMEOUT: in a loop that can never end, stopped after `used` s
    cause: Cause | None = None  # RAISED: what likely made the code raise, when the judge can tell


# ---------------------------------------------------------------- how an answer is wrong


class MismatchKind(str, enum.Enum):
    SHAPE = "shape"  # another shape (values_right: the same values, in another shape)
    NON_FINITE = "non_finite"  # NaN or infinite where the expected value is finite (count, all_nan)
    VALUES = "values"  # values beyond the tolerance (count of total, rtol, atol)


class Mismatch(Record):
    kind: MismatchKind
    count: int | None = None
    total: int | None = None
    all_nan: bool | None = None
    values_right: bool | None = None
    rtol: float | None = None
    atol: float | None = None


# ---------------------------------------------------------------- why a wrong answer is wrong


class DiagnosisKind(str, enum.Enum):
    NAMED = "named"  # one known mistake gives every output: its sentence, as the problem's author wrote it
    TOGETHER = "together"  # known mistakes made together give every output: a combination the author named
    NEAR = "near"  # every wrong output is much closer to one known mistake than to the answer, not equal to it
    COMBINED = "combined"  # different wrong cases match different known mistakes
    PARTIAL = "partial"  # one known mistake gives some wrong cases; the others differ from it too
    SHAPE = "shape"  # hints from one wrong case: the expected shape
    ZEROS = "zeros"  # an all-zero output
    FACTOR = "factor"  # the expected output times a constant everywhere
    SLICE = "slice"  # the wrong values all lie at one index of one axis
    EVERYWHERE = "everywhere"  # the values differ almost everywhere
    SHARE = "share"  # how much of the output is wrong


class Mistake(Record):
    """A known mistake the learner's output matches, on these cases."""

    name: str
    sentence: str
    cases: list[int] = []


class Diagnosis(Record):
    """The known mistake behind a wrong answer (NAMED), or a hint with the facts that point at it."""

    kind: DiagnosisKind
    mistakes: list[Mistake] = []
    case: int | None = None  # the case a hint's facts are about
    shape: list[int] | None = None  # SHAPE: expected; SLICE: the output's shape
    got_shape: list[int] | None = None  # SHAPE
    factor: float | None = None  # FACTOR
    index: int | None = None  # SLICE
    axis: int | None = None  # SLICE
    share: float | None = None  # EVERYWHERE, SHARE: the share of wrong values
    seeded: bool = False  # EVERYWHERE: the problem's parameters come from a seed

    @property
    def named(self) -> bool:
        return self.kind in (DiagnosisKind.NAMED, DiagnosisKind.TOGETHER)

    @property
    def cases_named(self) -> set[int]:
        """The cases its sentence names (a hidden one among them would give that case away)."""
        named = {i for m in self.mistakes for i in m.cases}  # a named mistake's cases are not said: it has none
        if self.case is not None and self.kind is not DiagnosisKind.SHAPE:  # a shape hint does not say its case
            named.add(self.case)
        return named


# ---------------------------------------------------------------- what was graded


class NotebookNote(Record):
    """What of a notebook was graded: its code cells, and what was left out of the module made of them."""

    file: str
    function: str
    code_cells: int
    ipython_lines: list[tuple[int, str]] = []  # (cell, line)
    skipped_cells: list[tuple[int, str, str, int | None]] = []  # (cell, why: "magic" or "python", message, line)
    dropped: list[int] = []  # the cell of each top-level statement left out
    defined: list[str] = []  # the functions the notebook defines
    has_function: bool = True
    definitions: list[int] = []  # the cells defining the graded function, in order: the last is graded
    starts: list[tuple[int, int, int]] = []  # where each kept piece of a cell starts: (module line, cell, its line)


class ChoiceNote(Record):
    """Which of a learner's files was graded, when there were several."""

    graded: str
    others: list[str]


class SandboxInfo(Record):
    """Which sandbox level graded, and what it keeps learners from (facts for the people who read a grade)."""

    level: str  # bwrap, process
    landlock_abi: int = 0  # at the process level: Landlock's ABI confining learners (0: unconfined)
    bounds: str = ""  # what sums memory, tasks and CPU time per sandbox: "cgroup v1", "cgroup v2", "keeper"


# ---------------------------------------------------------------- results


class CaseResult(Record):
    index: int
    name: str
    seed: int
    hidden: bool = False
    status: Status
    fault: Fault | None = None  # why it has no answer
    mismatch: Mismatch | None = None  # how its answer is wrong
    message: str = ""  # for people, made from the facts
    traceback: str = ""  # the learner's own frames, when their code raised
    shape: list[int] | None = None
    expected_shape: list[int] | None = None
    max_abs_err: float | None = None
    max_rel_err: float | None = None
    mismatch_index: list[int] | None = None  # first mismatch, in the expected shape
    got: float | None = None
    expected: float | None = None
    time_s: float | None = None  # as the sandbox measured it: informational only

    @computed_field
    @property
    def score(self) -> int:
        return int(self.status is Status.PASSED)

    @property
    def not_run(self) -> bool:
        """It never ran: the run stopped in an earlier case."""
        return self.fault is not None and self.fault.kind is FaultKind.NOT_RUN


class Replay(Record):
    """What is needed to run the same grading again."""

    problem: str
    problem_version: int
    seeds: list[int]
    versions: dict[str, str]
    sandbox: str


class Result(Record):
    version: int = VERSION
    problem: str
    submission: str
    status: Status
    message: str  # for people: the summary, made from the facts
    diagnosis: str = ""  # for people: the likely mistake or a hint, when the answer is wrong
    fault: Fault | None = None  # the file was never run case by case (not loaded, unreadable, missing): why
    stopped_by: Fault | None = None  # what ended the run before it finished on its own (a limit, a crash)
    mistake: Diagnosis | None = None  # the diagnosis as facts
    notebook: NotebookNote | None = None
    choice: ChoiceNote | None = None
    traceback: str = ""  # when the file could not be imported
    cases: list[CaseResult] = []
    stdout: str = ""  # the start of what the learner's code printed, cut at a line end
    stderr: str = ""
    stdout_bytes: int = 0  # how much it printed in all
    stderr_bytes: int = 0
    time_s: float = 0.0
    compile_s: float | None = None  # in the caller's process: seconds JAX spent compiling, not counted in time_s
    peak_memory_mb: float | None = None  # of the whole sandbox where it was measured, else the learner's process
    cpu_s: float | None = None  # CPU seconds of every process of the sandbox together
    limit: str = ""  # the limit that stopped the run: memory, cpu, tasks, wall (clock); "" if none
    limits: Limits = Limits()
    replay: Replay | None = None

    @computed_field
    @property
    def score(self) -> int:
        return sum(c.score for c in self.cases)

    @computed_field
    @property
    def max_score(self) -> int:
        return len(self.cases)

    @computed_field
    @property
    def passed(self) -> bool:
        return self.status is Status.PASSED

    @property
    def file_level(self) -> bool:
        """Every case failed alike (the file was not loaded, or each case failed the same way): shown once."""
        cases = self.cases
        return (
            self.fault is not None
            or bool(cases)
            and all(c.status not in (Status.PASSED, Status.WRONG_ANSWER) for c in cases)
            and all(
                (c.status, c.fault, c.traceback) == (cases[0].status, cases[0].fault, cases[0].traceback) for c in cases
            )
        )
