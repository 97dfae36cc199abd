"""Text from learner code made safe to show: control characters visible.

A learner's print can hold terminal escape sequences (`ESC]0;` sets the window title and, left
unterminated, swallows everything after it, the verdict included; `ESC[2J` clears the screen), carriage
returns that overwrite a line, or bidirectional overrides that reorder what is shown. Every output path
(terminal, pipe, CSV, HTML, Gradescope) shows such characters as visible escapes, like `\\x1b`.
"""

from __future__ import annotations

import re

# C0 and C1 controls but newline and tab, DEL, the Unicode controls that reorder or hide text, and lone
# surrogates: a file name's bytes that are not UTF-8 (0xff as U+DCFF), which no UTF-8 output can hold.
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2069\ufeff\ud800-\udfff]"
)


def _escape(m: re.Match) -> str:
    code = ord(m.group())
    if 0xDC80 <= code <= 0xDCFF:  # the byte a file name held, as os.fsdecode kept it
        code -= 0xDC00
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
