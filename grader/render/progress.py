"""Progress of one `judge run` on a terminal: a transient status line that says what the judge is doing.

A cold first run spends seconds computing the expected outputs and compiling; a learner's infinite loop
spends the whole time limit. The line says which step is under way and how many cases are done, and
disappears when the result is printed. Off a terminal (pipes, files, CI logs) it prints nothing.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console
    from rich.status import Status


class RunProgress:
    """`with RunProgress(console, "mha_cross.py", 4) as p: grade(..., progress=p.update)`."""

    def __init__(self, console: Console, filename: str, n_cases: int):
        self.console, self.filename, self.n_cases = console, filename, n_cases
        self._status: Status | None = None
        self._lock = threading.Lock()
        self._step, self._since, self._done = "starting the sandbox", time.monotonic(), 0

    def __enter__(self) -> RunProgress:
        if self.console.is_terminal:
            self._status = self.console.status(self._text(), spinner="dots")
            self._status.__enter__()
            self._ticker = threading.Thread(target=self._tick, daemon=True)
            self._ticker.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._status is not None:
            status, self._status = self._status, None
            status.__exit__(*exc)

    def update(self, event: str, index: int) -> None:
        """The grading's progress callback (see `grade`); called from the sandbox's reader thread too."""
        with self._lock:
            if event == "reference":
                self._step = "computing the expected outputs (only the first run is slow)"
            elif event == "import":
                self._step = f"importing {self.filename}"
            elif event == "imported":
                self._step = "running"
            elif event == "case":
                self._done = min(self.n_cases, index + 1)
                self._step = "running" if self._done < self.n_cases else "comparing with the expected outputs"
            self._since = time.monotonic()
        self._refresh()

    def _text(self) -> str:
        with self._lock:
            step, done, since = self._step, self._done, self._since
        if step == "running":
            step = f"case {done + 1} of {self.n_cases} running"
        return f"grading {self.filename}: {step} ({time.monotonic() - since:.0f} s)"

    def _refresh(self) -> None:
        status = self._status
        if status is not None:
            status.update(self._text())

    def _tick(self) -> None:
        while self._status is not None:
            self._refresh()
            time.sleep(0.5)
