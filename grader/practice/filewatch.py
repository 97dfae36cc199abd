"""Regrading on save (`judge run --watch`): a file watched by polling, graded again once a save is complete."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None  # an editor may remove the file for a moment while it saves
    return st.st_mtime_ns, st.st_size, st.st_ino


def saves(path: Path, *, poll_s: float = 0.25, sleep: Callable[[float], None] = time.sleep) -> Iterator[None]:
    """Yield now and after every save of `path`, without end (KeyboardInterrupt, Ctrl-C, propagates).

    Polls the file's mtime, size and inode (no dependency, works on every file system) and waits
    until they stop changing, so a save written in several pieces is yielded once.
    """
    seen = _stamp(path)
    yield
    while True:
        sleep(poll_s)
        now = _stamp(path)
        if now is None or now == seen:
            continue
        sleep(poll_s)
        if _stamp(path) != now:
            continue  # still being written
        seen = now
        yield
