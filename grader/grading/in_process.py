"""The in-process runner (`check_function` in a notebook's kernel): the learner's function called in a thread of
this process, watched from the caller's thread. No sandbox and no memory limit: it is the learner's own kernel.

Why a thread: the caller stays in charge whatever the function does. A Python loop is stopped by an exception
raised into the thread at the limit. Compiled code (a `lax.while_loop` that never ends) cannot be stopped from
Python at all: the check still ends at the limit, says that the call runs on, and the kernel answers. Jupyter's
interrupt reaches the caller's thread, which is only waiting.

Why JAX's compiling is not counted: a fresh kernel's first call compiles a program for every operation and
shape (6.4 s of the 6.9 s of a first check of mha_cross on a quiet 2-core machine; the second check takes
0.15 s), which says nothing about the learner's code and would fail correct code on a slow or busy CPU. JAX
reports each compilation's duration (jax.monitoring); the limit is on the rest, and compiling is allowed
COMPILE_ALLOWANCE_S more at most.
"""

from __future__ import annotations

import contextlib
import ctypes
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from grader.child import runner as child
from grader.grading.runners import LEVEL_IN_PROCESS, Answer, Run, Tell, Work, from_child
from grader.model.cache import Cache
from grader.model.problem import Problem
from grader.model.verdict import Fault, FaultKind, Where
from grader.render import wording

COMPILE_EVENTS = ("/jax/core/compile/backend_compile_duration", "/jax/core/compile/jaxpr_to_mlir_module_duration")
COMPILE_ALLOWANCE_S = 120.0  # JAX's compiling that is not counted, at most
POLL_S = 0.02
STOP_GRACE_S = 1.0  # after the limit, how long a stopped call has to unwind before it is left running


class _TimeUp(BaseException):
    """Raised into the learner's thread at the limit; a BaseException so `except Exception` lets it by."""


class _Compiling:
    """Seconds JAX spent compiling in each watched thread, as JAX reports them after each compilation."""

    lock = threading.Lock()
    spent: dict[int, float] = {}
    listening = False

    @classmethod
    def listen(cls) -> None:
        """Start listening once JAX is loaded (never loaded here: a NumPy learner's check does without it)."""
        jax = sys.modules.get("jax")
        if cls.listening or jax is None:
            return
        with contextlib.suppress(Exception):  # an older or odd JAX: its compiling is then counted
            import jax.monitoring

            jax.monitoring.register_event_duration_secs_listener(cls._heard)
            cls.listening = True

    @classmethod
    def _heard(cls, event: str, duration: float, **_: Any) -> None:
        if event in COMPILE_EVENTS:
            ident = threading.get_ident()
            with cls.lock:
                if ident in cls.spent:
                    cls.spent[ident] += duration

    @classmethod
    def of(cls, ident: int | None) -> float:
        with cls.lock:
            return cls.spent.get(ident or 0, 0.0)


def kernel_cell(filename: str) -> int | None:
    """The execution count of the IPython cell whose code is in `filename` ("In[4]"), when in IPython."""
    shell = sys.modules.get("IPython")
    try:
        ip = shell.get_ipython() if shell is not None else None
        name = ip.compile.format_code_name(filename) if ip is not None else None
    except Exception:
        return None
    if not name or name[0] != "Cell" or not name[1].startswith("In["):
        return None
    count = name[1][3:-1]
    return int(count) if count.isdigit() else None


def on_cpu() -> contextlib.AbstractContextManager[object]:
    """JAX's CPU as the default device, as in the judge's sandbox: on a GPU (Colab) float32 matmuls may use
    TF32 and miss the tolerance. When JAX is not loaded yet, the reference loads it on the CPU anyway.
    Thread-local: entered in the thread that calls."""
    jax = sys.modules.get("jax")
    if jax is None:
        return contextlib.nullcontext()
    try:
        return jax.default_device(jax.devices("cpu")[0])
    except Exception:  # no JAX, or a kernel started without its CPU backend: the default device, then
        return contextlib.nullcontext()


_JUDGE = str(Path(__file__).resolve().parents[1])
_LIBRARIES = tuple({p for p in (sys.prefix, sys.base_prefix, sys.exec_prefix) if p})


def _own(filename: str) -> bool:
    """A frame of the learner's code: not the judge's, nor a library's or Python's own."""
    outside = filename.startswith((_JUDGE, "<frozen", *_LIBRARIES))
    return not (outside or "site-packages" in filename or "dist-packages" in filename)


class _Cases(threading.Thread):
    """The learner's function called on each case in turn; each answer kept as it comes, until given up."""

    def __init__(self, fn: Callable[..., Any], problem: Problem, inputs: list[dict[str, object]], tell: Tell):
        super().__init__(name="judge check_function", daemon=True)  # a call left running never holds Python open
        self.fn, self.inputs, self.tell = fn, inputs, tell
        self.function, self.arg_names = problem.meta.function, [a.name for a in problem.meta.args]
        self.places = child.Places(kernel_cell=kernel_cell)
        self.answers: dict[int, Answer] = {}
        self.lock = threading.Lock()
        self.given_up = False

    def run(self) -> None:
        with _Compiling.lock:
            _Compiling.spent[threading.get_ident()] = 0.0
        try:
            with on_cpu():
                for i, x in enumerate(self.inputs):
                    answer = self._case(x)
                    with self.lock:
                        if self.given_up:
                            return
                        self.answers[i] = answer
                    self.tell("case", i)
        except BaseException:  # the stop, raised anywhere in this thread: nothing more is kept
            return

    def _case(self, x: dict[str, object]) -> Answer:
        kwargs = {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in x.items()}  # theirs to change
        t0, c0 = time.perf_counter(), _Compiling.of(self.ident)
        try:
            got, found = child.to_array(child.call(self.fn, self.arg_names, kwargs), np)
        except _TimeUp:
            raise
        except BaseException as e:
            fault, trace = from_child(child.fault_of(e, _own, self.places), "", self.function)
            return Answer(fault=fault, traceback=trace)
        if found is not None:
            return Answer(fault=from_child(found, "", self.function)[0])
        own = time.perf_counter() - t0 - (_Compiling.of(self.ident) - c0)
        return Answer(output=got, time_s=round(max(own, 0.0), 4))

    def where(self) -> Where | None:
        """The learner's line this thread is running now."""
        frame = sys._current_frames().get(self.ident or 0)
        found = child.where(frame, _own, self.places) if frame is not None else None
        return Where(cell=found[0], line=found[1], code=found[2]) if found else None

    def stop(self) -> bool:
        """Keep nothing more and raise the stop into the call; whether it ended (compiled code does not)."""
        with self.lock:
            self.given_up = True
        deadline = time.monotonic() + STOP_GRACE_S
        while self.is_alive() and time.monotonic() < deadline:
            ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(self.ident or 0), ctypes.py_object(_TimeUp))
            self.join(0.05)  # raised again while it lasts: learner code may catch it once
        return not self.is_alive()


class InProcessRunner:
    """The learner's function, called in this process (a notebook's kernel), in a thread the caller watches.

    `fn` None: the function was not found, and `names` are those the caller's namespace defines. `cache`: where
    JAX keeps what the learner's code compiles here (Cache.configure_kernel); None leaves JAX as it is.
    """

    level = LEVEL_IN_PROCESS

    def __init__(self, fn: Callable[..., Any] | None, names: list[str] | None = None, cache: Cache | None = None):
        self.fn, self.names, self.cache = fn, names or [], cache

    def run(self, problem: Problem, work: Work, tell: Tell) -> Run:
        function = problem.meta.function
        if self.fn is None:
            fault, _ = from_child(child.missing_function(function, self.names), wording.your_namespace(), function)
            return Run(level=self.level, load_fault=fault)
        limit = work.limits.time_s
        if self.cache is not None:
            self.cache.configure_kernel()
        cases = _Cases(self.fn, problem, work.inputs, tell)
        _Compiling.listen()
        start = time.perf_counter()
        cases.start()
        try:
            while cases.is_alive():
                cases.join(POLL_S)
                _Compiling.listen()  # the learner's code may load JAX itself
                if time.perf_counter() - start - min(_Compiling.of(cases.ident), COMPILE_ALLOWANCE_S) > limit:
                    break
            wall = time.perf_counter() - start
            fate = None
            if cases.is_alive():  # the limit struck
                where = cases.where()
                running = not cases.stop()
                fate = Fault(kind=FaultKind.CASES_TIMEOUT, limit=limit, where=where, running=running)
        except KeyboardInterrupt:  # the learner stopping their own cell: stop the call too, then let it through
            if not cases.stop():
                print(wording.still_running(), file=sys.stderr)
            raise
        finally:
            with _Compiling.lock:
                compiling = _Compiling.spent.pop(cases.ident or 0, 0.0)
        with cases.lock:
            cases.given_up = True
            answers = dict(cases.answers)
        return Run(
            level=self.level,
            answers=answers,
            fate=fate,
            limit="wall" if fate is not None else "",
            wall_s=round(max(wall - compiling, 0.0), 3),
            compile_s=round(compiling, 3) if _Compiling.listening else None,
        )
