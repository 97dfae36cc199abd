"""A hand-in as grading reads it: which file of a learner's folder, its bytes (read once), and the Python source
they stand for (a .py file decoded as Python decodes it, a notebook's cells made into a module).

Its bytes travel with it (to a batch's threads, to a Ray node): nothing is written back to a file to be read
again. Whatever cannot be read becomes a fault of the learner's Result (`Unreadable`), never an exception.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
import tokenize
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from grader.grading import notebook_strip
from grader.grading.notebook import notebook_module
from grader.grading.notebook_strip import strip_outputs
from grader.model.errors import Unreadable
from grader.model.verdict import ChoiceNote, Fault, FaultKind, NotebookNote, Refusal, SourceProblem

NOTEBOOK_MAX_BYTES = 64 << 20  # outputs (plots) make notebooks large; they are dropped before grading
PARSE_HERE_BYTES = 4 << 20  # a notebook this small parses in the judge's process in at most about 110 MB
PARSE_MEMORY_BYTES = 512 << 20  # address space of the process that reads a larger one (a plot: twice its size)
SOURCE_MAX_BYTES = 1 << 20  # a batch's hand-in: far above any solution
MAX_LOOKED_AT = 20_000  # entries of a learner's folder or upload looked through for a misnamed file


@dataclass(frozen=True)
class Submission:
    """A learner's hand-in: how it is named in every output, and its bytes (None: nothing to grade, see
    `refused`). `choice` says which of several files it is."""

    name: str
    data: bytes | None
    suffix: str = ".py"
    refused: Fault | None = None  # why a file there is not graded; None with no data: nothing handed in
    choice: ChoiceNote | None = None

    @classmethod
    def read(
        cls, path: Path, name: str | None = None, *, choice: ChoiceNote | None = None, max_source: int | None = None
    ) -> Submission:
        """The hand-in at `path` (named `name` in the outputs): a notebook without its outputs; a link, a folder
        or a file over the size limit refused; a missing file as not handed in. Raises OSError when it cannot
        be read."""
        shown = name or str(path)
        if path.is_symlink() or (path.exists() and not path.is_file()):
            return cls(
                shown, None, path.suffix, Fault(kind=FaultKind.REFUSED, error=Refusal.NOT_A_FILE.value, file=path.name)
            )
        if not path.exists():
            return cls(shown, None, path.suffix)
        notebook = path.suffix == ".ipynb"
        limit = NOTEBOOK_MAX_BYTES if notebook else max_source
        if limit is not None and path.stat().st_size > limit:
            refused = Fault(kind=FaultKind.REFUSED, error=Refusal.TOO_LARGE.value, file=path.name, limit=limit >> 20)
            return cls(shown, None, path.suffix, refused, choice)
        data = path.read_bytes()
        if notebook:
            stripped = strip_outputs(data) if len(data) <= PARSE_HERE_BYTES else strip_outputs_bounded(data)
            if stripped is None:
                refused = Fault(
                    kind=FaultKind.REFUSED,
                    error=Refusal.NOTEBOOK_TOO_COMPLEX.value,
                    file=path.name,
                    limit=PARSE_MEMORY_BYTES >> 20,
                )
                return cls(shown, None, path.suffix, refused, choice)
            data = stripped
            if max_source is not None and len(data) > max_source:
                refused = Fault(
                    kind=FaultKind.REFUSED, error=Refusal.CELLS_TOO_LARGE.value, file=path.name, limit=max_source >> 20
                )
                return cls(shown, None, path.suffix, refused, choice)
        return cls(shown, data, path.suffix, None, choice)

    def source(self, function: str) -> tuple[str, NotebookNote | None]:
        """The Python module to grade, and for a notebook what of it was kept. Raises Unreadable."""
        assert self.data is not None
        filename = Path(self.name).name
        if self.suffix != ".ipynb":
            return decode_source(self.data, filename, function), None
        source, note = notebook_module(self.data, filename, function)
        if not note.has_function:
            raise Unreadable(Fault(kind=FaultKind.NO_FUNCTION_IN_NOTEBOOK, file=filename, function=function), note)
        return source, note


def find_submission(
    folder: Path, problem_id: str, *, recursive: bool = False, others: Collection[str] = ()
) -> tuple[Path, ChoiceNote | None]:
    """The file of a problem in a learner's folder, and which others were not graded, if any.

    `<id>.py` and `<id>.ipynb` are both hand-ins. With `recursive` (Gradescope uploads) they are looked
    for at any depth. The rule: the shallowest file is graded, and at the same depth the .py file before
    the notebook (it is the plain file every command has always graded; a notebook next to it is usually
    where it was written). Files named like the problem but not for it (`<id>_v2.py`; not those of
    `others`, the set's other problems) are named as not graded.
    Returns `folder/<id>.py` when there is neither, so a missing file reads as before.
    """
    names = (f"{problem_id}.py", f"{problem_id}.ipynb")
    if recursive:
        found = [p for name in names for p in folder.rglob(name) if not p.is_dir()]  # a folder `<id>.py/`: not it
    else:
        found = [folder / name for name in names if (folder / name).exists() or (folder / name).is_symlink()]
    if not found:
        return folder / names[0], None
    found.sort(key=lambda p: (len(p.parts), p.suffix != ".py", str(p)))
    shown = [str(p.relative_to(folder)) for p in found]
    ignored = shown[1:] + similar_files(folder, problem_id, recursive=recursive, others=others)
    return found[0], ChoiceNote(graded=shown[0], others=ignored) if ignored else None


def similar_files(folder: Path, problem_id: str, *, recursive: bool = False, others: Collection[str] = ()) -> list[str]:
    """The .py and .ipynb files of a folder named like the problem but not for it (`<id>_final.py`, `hw1_<id>.py`),
    shallowest first: what a learner who misnamed their file handed in."""
    return _named_like(_hand_in_files(folder, recursive), folder, problem_id, others)


def _hand_in_files(folder: Path, recursive: bool) -> list[Path]:
    """The .py and .ipynb files of a learner's folder (at any depth with `recursive`), one walk, bounded."""
    try:
        entries = folder.rglob("*") if recursive else folder.iterdir()
        return [p for _, p in zip(range(MAX_LOOKED_AT), entries) if p.suffix in (".py", ".ipynb") and p.is_file()]
    except OSError:
        return []


def _named_like(files: list[Path], folder: Path, problem_id: str, others: Collection[str]) -> list[str]:
    key = problem_id.lower()
    like = [p for p in files if key in p.stem.lower() and p.stem != problem_id and p.stem not in others]
    like.sort(key=lambda p: (len(p.parts), str(p)))
    return [str(p.relative_to(folder)) for p in like]


def missing(
    folder: Path, problem_id: str, name: str, *, recursive: bool = False, others: Collection[str] = ()
) -> Submission:
    """Nothing handed in under the problem's name: which name was expected, and the files there that could be it
    (named like the problem, else every .py and .ipynb file but the hand-ins of `others`, the set's problems)."""
    files = _hand_in_files(folder, recursive)
    seen = (
        _named_like(files, folder, problem_id, others)
        or sorted(str(p.relative_to(folder)) for p in files if p.stem not in others)[:10]
    )
    fault = Fault(kind=FaultKind.MISSING, file=f"{problem_id}.py", found=seen)
    return Submission(name, None, ".py", fault)


def strip_outputs_bounded(data: bytes) -> bytes | None:
    """`strip_outputs` in a process of its own whose memory is bounded; None when reading the notebook needed
    more than PARSE_MEMORY_BYTES."""
    script = [sys.executable, "-I", "-S", notebook_strip.__file__, str(PARSE_MEMORY_BYTES)]
    try:
        done = subprocess.run(script, input=data, capture_output=True, timeout=120)
    except subprocess.TimeoutExpired:
        return None
    return done.stdout if done.returncode == 0 else None


# ---------------------------------------------------------------- a .py file's bytes as Python reads them

# PEP 263: a coding declaration on line 1 or 2.
_CODING = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")


def decode_source(data: bytes, name: str, function: str) -> str:
    """The submission as text, decoded as Python would (UTF-8, or the encoding its coding line declares).

    A file in another declared encoding is returned with its coding line changed to utf-8 (the sandbox
    writes it back as UTF-8); line numbers stay the same. Raises Unreadable with the facts of the problem.
    """
    if _is_notebook(data):
        raise Unreadable.source(SourceProblem.NOTEBOOK_AS_SCRIPT, name, function=function)
    if b"\x00" in data:
        raise Unreadable.source(SourceProblem.BINARY, name, line=data[: data.index(b"\x00")].count(b"\n") + 1)
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as e:  # an unknown encoding in the coding line
        raise Unreadable.source(SourceProblem.BAD_CODING, name, text=str(e.msg if hasattr(e, "msg") else e)) from None
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as e:
        byte = data[e.start]
        guess = bytes([byte]).decode("cp1252", errors="replace")
        raise Unreadable.source(
            SourceProblem.NOT_TEXT,
            name,
            line=data[: e.start].count(b"\n") + 1,
            column=e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1,
            byte=byte,
            text=guess if guess != "\ufffd" and byte >= 0x80 else "",
            encoding="" if encoding.startswith("utf-8") else encoding,
        ) from None
    if not encoding.startswith("utf-8"):
        text = _utf8_coding_line(text)
    return text


def _is_notebook(data: bytes) -> bool:
    head = data[:4096].lstrip()
    return head.startswith(b"{") and b'"cells"' in data[: 1 << 20] and b'"nbformat"' in data


def _utf8_coding_line(text: str) -> str:
    lines = text.split("\n", 2)
    for i in range(min(2, len(lines))):
        m = _CODING.match(lines[i].encode())
        if m:
            raw = lines[i].encode()
            lines[i] = (raw[: m.start(1)] + b"utf-8" + raw[m.end(1) :]).decode()
            break
        if lines[i].strip() and not lines[i].lstrip().startswith("#"):
            break  # a coding line after code does not count
    return "\n".join(lines)
