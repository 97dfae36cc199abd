"""Learner-facing wording, crafted on the judge's side from the facts the sandbox reports.

The child process reports terse facts ("returned NoneType", "has no function 'f'; did you mean 'g'?",
"NotImplementedError" with its traceback); here they become the sentence a learner needs, with the
fix in it. Also: reading a submission's bytes as Python source the way Python does (PEP 263), and the
one command that installs bubblewrap on this system.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import tokenize

# PEP 263: a coding declaration on line 1 or 2.
_CODING = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")


class SourceError(ValueError):
    """The bytes of a submission cannot be read as Python source; the message says why and what to do."""


def decode_source(data: bytes, name: str, function: str) -> str:
    """The submission as text, decoded as Python would (UTF-8, or the encoding its coding line declares).

    A file in another declared encoding is returned with its coding line changed to utf-8 (the sandbox
    writes it back as UTF-8); line numbers stay the same. Raises SourceError with the learner's fix.
    """
    if _is_notebook(data):
        return _raise(
            f"{name} is a Jupyter notebook, not a Python file: export it as a script (in Jupyter: "
            f"File > Save and Export Notebook As > Executable Script, or `jupyter nbconvert --to script`) "
            f"and keep only the `def {function}(...)` and what it needs"
        )
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        return _raise(f"{name} is not a Python source file: it holds binary data (a NUL byte on line {line})")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as e:  # an unknown encoding in the coding line
        return _raise(f"{name}: {e.msg if hasattr(e, 'msg') else e}")
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        column = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
        byte = data[e.start]
        guess = bytes([byte]).decode("cp1252", errors="replace")
        seen = f" ({guess!r} in Windows-1252)" if guess != "\ufffd" and byte >= 0x80 else ""
        declared = "" if encoding.startswith("utf-8") else f" (its coding line says {encoding})"
        return _raise(
            f"{name} is not valid {'UTF-8' if not declared else encoding} text{declared}: line {line}, "
            f"column {column} has the byte 0x{byte:02x}{seen}. Save the file as UTF-8 (in VS Code: click "
            f"the encoding in the status bar, 'Save with Encoding', 'UTF-8'), or declare its encoding on "
            f"line 1, e.g. `# -*- coding: cp1252 -*-`"
        )
    if not encoding.startswith("utf-8"):
        text = _utf8_coding_line(text)
    return text


def _raise(message: str) -> str:
    raise SourceError(message)


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


# ---------------------------------------------------------------- messages about one case or the file

_MISSING_FN = re.compile(r"^(?P<file>\S+) has no function '(?P<fn>\w+)'; did you mean '(?P<near>\w+)'\?$")
_DEFINES_NOTHING = re.compile(r"^(?P<file>\S+) has no function '(?P<fn>\w+)'; it defines: nothing$")
_STUB_LINE = re.compile(r"line (\d+), in \w+\n\s*raise NotImplementedError\b")


def learner_message(message: str, traceback: str, source: str, function: str) -> str:
    """A case's or the file's message, with the fix spelled out where the facts show the mistake."""
    m = _MISSING_FN.match(message)
    if m:  # the child offers the closest name the file defines: that is the learner's typo, not the fix
        return (
            f"{m['file']} has no function `{m['fn']}` (the name the judge calls); it defines `{m['near']}`: "
            f"rename it to `{m['fn']}`"
        )
    if _DEFINES_NOTHING.match(message) and not source.strip():
        return (
            f"{function}.py is empty: write `def {function}(...)` in it "
            f"(`judge init {function}` writes the starter file)"
        )
    if message.startswith("returned NoneType"):
        return f"`{function}` returned None: did you forget `return`?"
    if message.strip() == "NotImplementedError" or message.startswith("NotImplementedError:"):
        found = _STUB_LINE.findall(traceback)
        if found:
            return f"still has the starter `raise NotImplementedError` (line {found[-1]}): replace it with your code"
    return message


# ---------------------------------------------------------------- stderr: the learner's or JAX's own

# absl/XLA log lines (`E0000 00:00:1700000000.123456  1234 file.cc:12] ...`) and JAX's own warnings.
_LIBRARY_LINE = re.compile(
    r"^(?:[EWIF]\d{4} [\d:.]+\s+\d+ \S+:\d+\]|WARNING: All log messages before "
    r"absl::InitializeLog|\S*(?:jax|xla|flax)\S*\.py:\d+: \w*Warning:|  warnings\.warn\()"
)


def split_stderr(text: str) -> tuple[str, str]:
    """(the learner's own lines, JAX/XLA's log lines) of a captured stderr."""
    own: list[str] = []
    library: list[str] = []
    for line in text.splitlines(keepends=True):
        (library if _LIBRARY_LINE.match(line) else own).append(line)
    return "".join(own), "".join(library)


# ---------------------------------------------------------------- installing bubblewrap

_MANAGERS = (
    ("apt-get", "apt-get install -y bubblewrap"),
    ("dnf", "dnf install -y bubblewrap"),
    ("yum", "yum install -y bubblewrap"),
    ("zypper", "zypper install -y bubblewrap"),
    ("pacman", "pacman -S --noconfirm bubblewrap"),
    ("apk", "apk add bubblewrap"),
)


def bubblewrap_install_command() -> str | None:
    """The one command that installs bubblewrap here: with `sudo` only when not root and sudo exists."""
    for tool, command in _MANAGERS:
        if shutil.which(tool):
            if os.geteuid() != 0:
                command = f"sudo {command}" if shutil.which("sudo") else f"{command} (as root)"
            return command
    return None


def bubblewrap_advice() -> str:
    """Why the strong sandbox is missing and what to do, in one sentence."""
    if shutil.which("bwrap"):
        return (
            "bubblewrap is installed but cannot create namespaces here (a container without user "
            "namespaces?): run the judge on a host or VM that allows them"
        )
    command = bubblewrap_install_command()
    return f"install bubblewrap: {command}" if command else "install bubblewrap with your system's package manager"
