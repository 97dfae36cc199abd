"""Text from learner code made safe to show: control characters visible, long output cut at a line end.

A learner's print can hold terminal escape sequences (`ESC]0;` sets the window title and, left
unterminated, swallows everything after it, the verdict included; `ESC[2J` clears the screen), carriage
returns that overwrite a line, or bidirectional overrides that reorder what is shown. Every output path
(terminal, pipe, CSV, HTML, Gradescope) shows such characters as visible escapes, like `\\x1b`.
"""

from __future__ import annotations

import re

# C0 and C1 controls but newline and tab, DEL, and the Unicode controls that reorder or hide text.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2069\ufeff]")


def _escape(m: re.Match) -> str:
    code = ord(m.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """`text` with every control character but newline and tab written out as an escape.

    Example:
        >>> visible("\\x1b]0;title\\rok")
        '\\\\x1b]0;title\\\\x0dok'
    """
    return _UNSAFE.sub(_escape, text)


def visible_line(text: str) -> str:
    """Like `visible`, for a one-line field (a CSV cell, a table cell): newlines and tabs escaped too."""
    return visible(text).replace("\t", "\\t").replace("\n", "\\n")


def clip(text: str, max_chars: int = 2000, max_lines: int = 40) -> str:
    """At most `max_lines` lines and about `max_chars` characters of `text`, cut at a line end, with a note
    saying how much was left out. A single line longer than `max_chars` is cut at a space where there is one.

    Example:
        >>> clip("a\\nb\\nc\\n", max_lines=2)
        'a\\nb\\n[... 1 more line (2 characters) not shown]'
    """
    lines = text.splitlines(keepends=True)
    kept: list[str] = []
    size = 0
    for line in lines:
        if len(kept) >= max_lines or size + len(line) > max_chars:
            break
        kept.append(line)
        size += len(line)
    if not kept and lines:  # one huge first line: keep its start, cut between words
        head = lines[0][:max_chars]
        cut = head.rfind(" ")
        head = head[: cut if cut > max_chars // 2 else max_chars]
        rest = len(text) - len(head)
        return f"{head}\n[... {rest:,} more characters not shown]"
    left = lines[len(kept) :]
    if not left:
        return text
    n_chars = sum(map(len, left))
    plural = "line" if len(left) == 1 else "lines"
    body = "".join(kept)
    return (
        f"{body}{'' if body.endswith(chr(10)) or not body else chr(10)}"
        f"[... {len(left):,} more {plural} ({n_chars:,} characters) not shown]"
    )
