"""The child's proof that a loop can never end (grader/child/forever.py), in this process: both ways. A proven loop
ends the run at once; every loop that can end, or that something else could end, runs on."""

import _thread
import signal
import threading
import time

import pytest

from grader.child import forever


class Found(Exception):
    pass


class Here(forever.Forever):
    probes = 0

    def _others(self) -> bool:
        return False  # the test process shares its PID namespace; everything else `_alone` checks is checked

    def _probe(self, signum, frame):
        Here.probes += 1
        super()._probe(signum, frame)


def watched(fn, *args):
    """Call fn under the watch, as the sandbox's runner does: ("found", line) or ("returned", its value)."""
    lines = []

    def found(frame):
        lines.append(frame.f_lineno)
        raise Found  # out of the loop, so that the test ends

    watch = Here(lambda name: name == __file__, found)
    Here.probes = 0
    watch.start()
    try:
        return "returned", fn(*args)
    except Found:
        return "found", lines[0]
    finally:
        watch.done = True
        signal.signal(forever.PROBE, signal.SIG_DFL)


def spins():
    while True:
        pass


def forgets_the_increment(n):
    i = 0
    while i < n:
        j = i + 1  # noqa: F841
    return i


def counts(n):
    i = 0
    while i < n:
        i += 1
    return i


class Countdown:
    def __init__(self, calls):
        self.calls = calls

    def __lt__(self, other):
        self.calls -= 1
        return self.calls > 0


def compares(c):
    while c < 1:
        pass
    return "ended"


def interrupted():
    threading.Timer(1.6, _thread.interrupt_main).start()
    try:
        while True:
            pass
    except KeyboardInterrupt:
        return "interrupted"


def alarmed():
    def stop(signum, frame):
        raise TimeoutError

    signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, 1.6)
    try:
        while True:
            pass
    except TimeoutError:
        return "alarmed"
    finally:
        signal.signal(signal.SIGALRM, signal.SIG_DFL)


def test_a_loop_that_changes_nothing_is_found_within_seconds():
    start = time.monotonic()
    assert watched(spins) == ("found", spins.__code__.co_firstlineno + 2)
    assert time.monotonic() - start < forever.FIRST_S + 4 * forever.EVERY_S


def test_a_loop_whose_condition_nothing_changes_is_found():
    assert watched(forgets_the_increment, 3)[0] == "found"


@pytest.mark.parametrize(
    "fn, args, value",
    [
        (counts, (40_000_000,), 40_000_000),  # each round changes i: it ends (after about 1.5 s)
        (compares, (Countdown(4_000_000),), "ended"),  # the condition calls the learner's code
        (interrupted, (), "interrupted"),  # another thread may end it
        (alarmed, (), "alarmed"),  # a timer and a handler of the learner's may end it
    ],
)
def test_a_loop_that_can_end_is_left_to_end(fn, args, value):
    assert watched(fn, *args) == ("returned", value)


def sleeps():
    time.sleep(2.2)
    return "slept"


def test_the_main_thread_is_never_signalled_inside_a_call():
    """A library's system call may not retry when a signal interrupts it: the probe waits for plain bytecode."""
    assert watched(sleeps) == ("returned", "slept") and Here.probes == 0
    assert watched(spins)[0] == "found" and Here.probes >= 1
