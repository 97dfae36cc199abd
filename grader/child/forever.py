"""Telling a loop that can never end, so that a learner's process in one stops at once instead of at its limit.

A busy loop costs its whole time limit (10 s for most problems) and, in a batch, a worker for that long. This
proves the plain cases, and only those: the learner's code goes round a loop that touches nothing but its own
local variables, holding Python's plain immutable values (numbers, strings, None), and comes back to the loop's
head with each of them as it was. From there it repeats forever: nothing else can change anything, as the loop
calls nothing, and the process is alone in its sandbox (no other process to signal it, no other Python thread, no
timer, no signal handler of the learner's). Anything else (a loop that calls a function, a counter that grows,
code in a library) is left to the time limit, as before.

How: once a case (or the import) has run FIRST_S, a thread of ours looks at the main thread every EVERY_S, and
signals it when it runs one of the instructions below in the learner's file (never inside a call). The handler,
in the main thread, follows the running frame of the learner's file instruction by instruction for at
most BUDGET instructions (a trace function with f_trace_opcodes) and gives up at the first one outside `PURE`, at
any call or exception, or when the budget is spent. Learner code may take the signal or the trace function for
itself: it then only loses this. Child side: stdlib only.
"""

from __future__ import annotations

import dis
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from types import CodeType, FrameType
from typing import Any

SUPPORTED = sys.version_info[:2] == (3, 11)  # the Python whose tracing this was checked against
FIRST_S = 1.0  # how long a case or the import runs before it is looked at
EVERY_S = 0.5
BUDGET = 5000  # instructions followed at each look
PROBE = signal.SIGUSR2

# Instructions that call nothing and change nothing outside the frame's own variables and stack, when every value
# they meet is PLAIN (names from Python 3.11 to 3.13; those a version lacks are skipped).
# Left out on purpose: EXTENDED_ARG (Python 3.11 runs the instruction after it without an event of its own, so what
# that one does would go unseen), IS_OP (identity: two equal values may be two objects), COPY and SWAP (they reach
# into the stack below).
PURE = frozenset(
    dis.opmap[name]
    for name in """
        NOP RESUME CACHE POP_TOP JUMP_FORWARD JUMP_BACKWARD JUMP_BACKWARD_NO_INTERRUPT
        POP_JUMP_IF_FALSE POP_JUMP_IF_TRUE POP_JUMP_IF_NONE POP_JUMP_IF_NOT_NONE
        POP_JUMP_FORWARD_IF_FALSE POP_JUMP_FORWARD_IF_TRUE POP_JUMP_FORWARD_IF_NONE POP_JUMP_FORWARD_IF_NOT_NONE
        POP_JUMP_BACKWARD_IF_FALSE POP_JUMP_BACKWARD_IF_TRUE POP_JUMP_BACKWARD_IF_NONE POP_JUMP_BACKWARD_IF_NOT_NONE
        JUMP_IF_FALSE_OR_POP JUMP_IF_TRUE_OR_POP LOAD_CONST LOAD_FAST LOAD_FAST_CHECK LOAD_FAST_LOAD_FAST
        STORE_FAST STORE_FAST_LOAD_FAST STORE_FAST_STORE_FAST
        BINARY_OP COMPARE_OP UNARY_NOT UNARY_NEGATIVE UNARY_INVERT TO_BOOL
    """.split()
    if name in dis.opmap
)
PLAIN = (bool, int, float, complex, str, bytes, type(None))  # exact types: no subclass, no method of the learner's
_LOCAL = {"LOAD_FAST", "LOAD_FAST_CHECK", "LOAD_FAST_LOAD_FAST", "STORE_FAST", "STORE_FAST_LOAD_FAST"}
_LOCAL.add("STORE_FAST_STORE_FAST")


def plain(value: object) -> bool:
    return type(value) in PLAIN


# Names of code that may read its own frame's variables as a dict: tracing refreshes that dict at each instruction
# (Python 3.11), which such code would see.
INTROSPECTS = frozenset({"locals", "vars", "_getframe", "currentframe", "f_locals"})


class _Code:
    """What the tracer needs of a code object: each instruction's opcode and the local names or constant it uses,
    and the loops' heads (the targets of backward jumps), where the frame's state is compared."""

    def __init__(self, code: CodeType):
        self.ops: dict[int, tuple[int, tuple[str, ...], object]] = {}
        self.heads: set[int] = set()
        if INTROSPECTS & set(code.co_names):
            return  # never followed: no instruction of it is known
        for ins in dis.get_instructions(code):
            names = ins.argval if isinstance(ins.argval, tuple) else (ins.argval,)
            local = tuple(n for n in names if isinstance(n, str)) if ins.opname in _LOCAL else ()
            const = ins.argval if ins.opname == "LOAD_CONST" else None
            self.ops[ins.offset] = (ins.opcode, local, const)
            if "JUMP_BACKWARD" in ins.opname and isinstance(ins.argval, int):
                self.heads.add(ins.argval)


class Forever:
    """Watches the learner's process for a loop that can never end; `found(frame)` is called, in the main thread,
    when one is proven (at most once). `own(filename)`: whether a file is the learner's; `judges`: the signal
    handlers the child set itself (they only report)."""

    def __init__(self, own: Callable[[str], bool], found: Callable[[FrameType], None], judges: tuple[object, ...] = ()):
        self.own, self.found, self.judges = own, found, judges  # judges: the child's own signal handlers
        self.since: float | None = None  # when the running phase (the import, or a case) began; None: not watching
        self.done = False
        self._main = threading.get_ident()
        self._thread: threading.Thread | None = None
        self._codes: dict[CodeType, _Code] = {}
        self._frame: FrameType | None = None  # the frame followed now, if any
        self._code = _Code((lambda: None).__code__)
        self._left = 0  # instructions still to follow
        self._seen: tuple[int, dict[str, object]] | None = None  # the last loop head met, and the locals there
        self._used: set[str] = set()  # the locals used since

    def start(self) -> None:
        """Begin watching (from the main thread, before learner code runs). Only on the Python whose tracing this
        was checked against (3.11): on another, every loop runs to its limit, as before."""
        if not SUPPORTED:
            return
        try:
            signal.signal(PROBE, self._probe)
            signal.siginterrupt(PROBE, False)  # a system call it interrupts is restarted
        except (ValueError, OSError):
            return
        self._thread = threading.Thread(target=self._watch, name="judge-forever", daemon=True)
        self._thread.start()
        self.phase()

    def phase(self) -> None:
        """A new phase begins (a case): it gets FIRST_S before it is looked at."""
        self.since = time.monotonic()

    def _watch(self) -> None:
        while not self.done:
            time.sleep(EVERY_S)
            since = self.since
            if since is None or time.monotonic() - since < FIRST_S:
                continue
            if signal.getsignal(PROBE) != self._probe:  # the learner took the signal for itself
                return
            if not self._spinning(sys._current_frames().get(self._main)):
                continue
            try:
                signal.pthread_kill(self._main, PROBE)
            except OSError:
                return

    def _spinning(self, frame: FrameType | None) -> bool:
        """Whether the main thread runs an instruction of `PURE` in the learner's code, not a call: only then is it
        signalled, so that no library's system call is ever interrupted."""
        if frame is None or not self.own(frame.f_code.co_filename):
            return False
        op = self._of(frame.f_code).ops.get(frame.f_lasti)
        return op is not None and op[0] in PURE

    def _of(self, code: CodeType) -> _Code:
        if code not in self._codes:
            self._codes[code] = _Code(code)
        return self._codes[code]

    # -- in the main thread

    def _probe(self, signum: int, frame: FrameType | None) -> None:
        if self.done or self._frame is not None or frame is None or not self.own(frame.f_code.co_filename):
            return
        if sys.gettrace() is not None or not self._alone():
            return
        self._frame, self._left, self._seen, self._used = frame, BUDGET, None, set()
        self._code = self._of(frame.f_code)
        frame.f_trace_lines, frame.f_trace_opcodes = False, True
        frame.f_trace = self._step
        sys.settrace(self._call)  # tracing on in this thread; a call from the loop ends it

    def _alone(self) -> bool:
        """Nothing but this loop can change what the process does: no other process in its PID namespace (so none
        to signal it), no other Python thread, no timer, and no signal handled by Python code but the judge's."""
        try:
            if self._others():
                return False
            if set(sys._current_frames()) - {self._main, getattr(self._thread, "ident", None)}:
                return False
            if any(signal.getitimer(t) != (0.0, 0.0) for t in (signal.ITIMER_REAL, signal.ITIMER_VIRTUAL)):
                return False
            if signal.getitimer(signal.ITIMER_PROF) != (0.0, 0.0):
                return False
            allowed = (signal.SIG_DFL, signal.SIG_IGN, None, signal.default_int_handler, self._probe, *self.judges)
            if any(signal.getsignal(sig) not in allowed for sig in signal.valid_signals()):
                return False
        except (OSError, ValueError):
            return False
        return True

    def _others(self) -> bool:
        """Whether this process may share its PID namespace (the sandbox's, where it has one of its own): only a
        process alone in it has nothing outside it that could signal it."""
        return [n for n in os.listdir("/proc") if n.isdigit()] != [str(os.getpid())]

    def _call(self, frame: FrameType, event: str, arg: Any) -> None:
        self._stop()  # the loop called something: not ours to prove

    def _stop(self) -> None:
        if self._frame is not None:
            self._frame.f_trace = None
            self._frame.f_trace_opcodes = False
        self._frame = None
        sys.settrace(None)

    def _step(self, frame: FrameType, event: str, arg: Any) -> Any:
        if frame is not self._frame:
            return None
        if event != "opcode":
            if event in ("exception", "return"):  # the loop ends, one way or another
                self._stop()
                return None
            return self._step
        self._left -= 1
        op = self._code.ops.get(frame.f_lasti)
        if self._left < 0 or op is None or op[0] not in PURE or (op[2] is not None and not plain(op[2])):
            self._stop()
            return None
        if frame.f_lasti in self._code.heads:
            values = frame.f_locals
            now = {name: values.get(name, _UNBOUND) for name in self._used}
            if self._seen is not None and self._seen[0] == frame.f_lasti and _same(self._seen[1], now):
                self.done = True
                self._stop()
                self.found(frame)
                return None
            self._seen, self._used = (frame.f_lasti, dict(values)), set()
        self._used.update(op[1])
        return self._step


_UNBOUND = object()


def _same(before: dict[str, object], now: dict[str, object]) -> bool:
    """Every local the last round used held the same plain value at both heads (floats by their repr: 0.0 and -0.0
    are equal, yet not the same to every operation)."""
    for name, value in now.items():
        old = before.get(name, _UNBOUND)
        if not (plain(value) and type(old) is type(value) and old == value):
            return False
        if isinstance(value, (float, complex)) and repr(old) != repr(value):
            return False
    return True
