"""The learner's call compiled whole with `jax.jit`, where that gives what the eager call would give.

Part of the child side with `runner.py`: stdlib only, and JAX only as the module the learner's process already
imported (passed in). Eagerly, every jnp operation is a small program of its own, lowered and compiled in this
fresh process; one program for the whole call compiles several times faster. Whatever could make the compiled
call differ from the eager one makes `runner` call eagerly instead: a trace that raises (NumPy code), prints
(it would show tracers, not values), returns anything but one array, or is too long to compile quickly.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys
import weakref
from collections.abc import Callable, Iterator
from typing import Any

# Compiling grows faster than the program (unrolled Python loops): past this many operations, eager dispatch is
# the quicker (12,800 operations: 9 s to compile, 0.8 s eagerly).
MAX_TRACED_OPS = 1000


class Printed(BaseException):
    """Learner code wrote output while traced: it would show tracers, not values."""


class HeldBack:
    """sys.stdout and sys.stderr while traced: the first write stops the attempt, and eager code prints again."""

    encoding = "utf-8"
    wrote = False

    def write(self, text: str) -> int:
        if text:
            self.wrote = True
            raise Printed
        return 0

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


@contextlib.contextmanager
def fds_to(target: int) -> Iterator[None]:
    """Descriptors 1 and 2 pointed at `target` meanwhile: what Python streams buffered goes there too."""
    flush_output()
    saved = [os.dup(1), os.dup(2)]
    try:
        os.dup2(target, 1)
        os.dup2(target, 2)
        yield
    finally:
        flush_output()
        for fd, old in zip((1, 2), saved):
            os.dup2(old, fd)
            os.close(old)


@contextlib.contextmanager
def held_output() -> Iterator[HeldBack]:
    """Output held back, at the descriptors too (streams the learner kept, C code): `.wrote` says if any came."""
    held, streams = HeldBack(), (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__)
    read, write = os.pipe()
    os.set_blocking(write, False)  # a full pipe fails the writer, which stops the attempt, never blocks it
    try:
        with fds_to(write):
            sys.stdout = sys.stderr = sys.__stdout__ = sys.__stderr__ = held  # type: ignore[misc,assignment]
            try:
                yield held
            finally:
                sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__ = streams  # type: ignore[misc]
        os.set_blocking(read, False)
        with contextlib.suppress(BlockingIOError):
            held.wrote = held.wrote or bool(os.read(read, 1))
    finally:
        os.close(read)
        os.close(write)


@contextlib.contextmanager
def discarded() -> Iterator[None]:
    """Output thrown away meanwhile (a second import's), the Python streams left as they are: a learner's module
    may keep them."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
    except OSError:
        yield
        return
    try:
        with fds_to(null):
            yield
    finally:
        os.close(null)


def operations(jaxpr: Any) -> int:
    """How many operations a (closed) jaxpr holds, those of the jaxprs inside its operations too."""
    total = 0
    for eqn in getattr(jaxpr, "jaxpr", jaxpr).eqns:
        total += 1
        for param in eqn.params.values():
            for inner in param if isinstance(param, (list, tuple)) else (param,):
                if hasattr(getattr(inner, "jaxpr", inner), "eqns"):
                    total += operations(inner)
    return total


def traced_call(
    jax: Any, call: Callable[..., Any], fn: Callable[..., Any], arg_names: list[str], kwargs: dict[str, Any]
) -> tuple[bool, Any, bool]:
    """`call(fn, arg_names, kwargs)` compiled whole with jax.jit: (used, output, spoiled). `used` is False where
    eager must run instead: the trace raised or printed, the output is not one array, the program is too long
    to compile quickly. `spoiled` says the learner's module may hold what eager code would not: their code ran
    and eager code runs it again (a counter would count twice), or a tracer outlived the trace (a cache keeps it).

    The scalars are constants of the trace, the arrays its arguments; a fresh function per case is traced
    afresh, so learner code with side effects (a counter, a file read) runs once per case, as eagerly.
    """
    arrays = {k: v for k, v in kwargs.items() if hasattr(v, "shape")}
    seen: dict[str, Any] = {}

    def traced(given: dict[str, Any]) -> Any:
        seen["trace"] = weakref.ref(next(iter(given.values()))._trace)
        out = call(fn, arg_names, {**kwargs, **given})
        seen["one"] = isinstance(out, jax.core.Tracer)  # not a constant, a tuple, a dict: eager decides those
        return out if seen["one"] else None

    def attempt() -> tuple[bool, Any]:
        try:
            with held_output() as held:
                staged = jax.jit(traced).trace(arrays)
                if not seen.get("one") or operations(staged.jaxpr) > MAX_TRACED_OPS:
                    return False, None
                out = jax.block_until_ready(staged.lower().compile()(arrays))
                jax.effects_barrier()  # jax.debug.print's output comes now, and is held back too
            return not held.wrote, out
        except BaseException:
            seen["raised"] = True
            return False, None

    if not arrays:
        return False, None, False
    used, out = attempt()
    if seen.get("raised") or "trace" not in seen:  # a trace that raised is kept by JAX itself: no leak to look for
        return False, None, "trace" in seen
    # A finished trace is freed as its function returns, unless a tracer of it outlived it (or a cycle holds it).
    leaked = seen["trace"]() is not None and (gc.collect() >= 0 and seen["trace"]() is not None)
    return used and not leaked, out, leaked or not used  # not used: eager runs their code once more


def flush_output() -> None:
    """Flush Python's output streams, whatever learner code made of them."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            pass
