"""The judge's exceptions, one hierarchy. A learner's code never raises these at the judge's caller: every fault
of theirs comes back as a Result. A bug of the judge's (a ValueError, a KeyError) is none of these either: it is
an internal error, never mistaken for a usage error.

    JudgeError
      UsageError          bad input from the person running the judge: exit code 2, one clear line
        UnknownProblem    a problem id the set does not have (with the valid ones)
        BwrapUnusable     --sandbox bwrap where bubblewrap cannot run
        WeakSandbox       grading others where nothing keeps their code from the judge's files
      SolutionUnavailable `judge solution` before the learner's file passed, or in a kit
      ProblemError        a malformed problem folder: names the file and the field
      SandboxError        the sandbox itself failed: an internal error, never the learner's fault
      Unreadable          a hand-in that cannot be read as what its name says (becomes the learner's Result)

The child side's own exceptions never reach a caller: a `BadFrame` (grader/child/protocol.py) becomes the learner's
crash, and the compile server's `Refused` a local compile in the learner's process.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # at run time only where a hand-in is read: the sandbox imports this before pydantic is loaded
    from grader.model.verdict import Fault, NotebookNote, SourceProblem


class JudgeError(Exception):
    """Every error the judge raises on purpose."""


class UsageError(JudgeError):
    """Bad input from the person running the judge: exit code 2, one clear line."""

    def _render_traceback_(self) -> list[str]:
        """What IPython and Jupyter show instead of a traceback through the judge: the one line."""
        return [f"{type(self).__name__}: {self}"]


class UnknownProblem(UsageError):
    def __init__(self, problem_id: str, valid: list[str], builtin_root: str = ""):
        self.problem_id = problem_id
        self.valid = valid
        self.builtin_root = builtin_root  # the set's folder, when the id is a built-in problem it lacks
        super().__init__(f"unknown problem {problem_id!r}; valid ids: {', '.join(valid)}")

    def worded(self, message: str) -> UnknownProblem:
        """The same error, saying `message` (grader/render/commands.py words it, with the closest id)."""
        self.args = (message,)
        return self


class BwrapUnusable(UsageError):
    """The bwrap level was asked for where bubblewrap cannot run (the command line says how to install it)."""

    def __init__(self) -> None:
        super().__init__("the bwrap sandbox is not usable here: install the 'bubblewrap' package")


class WeakSandbox(UsageError):
    """Grading others (`batch`, `gradescope`) at the process level where nothing keeps their code from the
    judge's files: refused unless asked for (the command line says how to get the strong sandbox)."""

    def __init__(self, command: str):
        self.command = command
        super().__init__(f"{command} refuses the weak process-level sandbox (no bubblewrap, no Landlock)")


class SolutionUnavailable(JudgeError):
    """`judge solution` cannot show the reference: not passed yet, or a kit without solutions (exit 1)."""


class ProblemError(JudgeError):
    """A malformed problem folder: names the file and the field."""


class SandboxFailure(str, enum.Enum):
    """How the sandbox itself failed (a sandbox_failed fault's error): never the learner's fault."""

    CANNOT_IMPORT = "cannot_import"  # the zygote could not import a library: detail
    CANNOT_START = "cannot_start"  # a learner's process could not be set up: detail
    DID_NOT_START = "did_not_start"  # no word from it in time: detail (its stderr)
    ZYGOTE_DIED = "zygote_died"  # twice in a row
    OTHER = "other"  # detail


class SandboxError(JudgeError):
    """The sandbox itself failed (not the learner's code): an internal error."""

    def __init__(self, why: SandboxFailure, detail: str = ""):
        self.why, self.detail = why, detail
        super().__init__(f"{why.value}: {detail}" if detail else why.value)


class Unreadable(JudgeError):
    """A hand-in that cannot be read as what its name says: the fault the learner's Result carries."""

    def __init__(self, fault: Fault, notebook: NotebookNote | None = None):
        self.fault, self.notebook = fault, notebook
        super().__init__(f"{fault.kind.value}: {fault.error}")

    @classmethod
    def source(cls, why: SourceProblem, file: str, **facts: object) -> Unreadable:
        from grader.model.verdict import Fault, FaultKind

        return cls(Fault(kind=FaultKind.UNREADABLE, error=why.value, file=file, **facts))  # type: ignore[arg-type]
