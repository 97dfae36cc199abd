"""The child's proof that a loop can never end (grader/child/forever.py), in this process: both ways. A proven loop
ends the run at once; every loop that can end, or that something else could end, runs on."""

import _thread
import os
import pickle
import select
import signal
import threading
import time

import pytest

from grader.child import forever

DEADLINE_S = 30  # the slowest loop that ends runs about 1.5 s

pytestmark = pytest.mark.skipif(not forever.SUPPORTED, reason="the proof is made on Python 3.11 only")


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
    """Call fn under the watch, as the sandbox's runner does, in a forked child: ("found", line) or ("returned", its
    value). The child has one thread, as the sandbox's learner does (a test runner's worker has more, and the proof
    rightly refuses a loop another thread could end); one that does not answer within DEADLINE_S fails the test."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: answer, then leave without running the parent's exit handlers
        os.close(read)
        try:
            answer = (*_watched(fn, *args), Here.probes)
        except BaseException as e:
            answer = ("raised", repr(e), Here.probes)
        os.write(write, pickle.dumps(answer))
        os._exit(0)
    os.close(write)
    try:
        ready, _, _ = select.select([read], [], [], DEADLINE_S)
        if not ready:
            os.kill(pid, signal.SIGKILL)
            pytest.fail(f"{fn.__name__} ran past {DEADLINE_S} s under the watch")
        with os.fdopen(read, "rb", closefd=False) as pipe:
            what, value, Here.probes = pickle.loads(pipe.read())
    finally:
        os.close(read)
        os.waitpid(pid, 0)
    return what, value


def _watched(fn, *args):
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


def many_locals(n):
    """A counting loop whose instructions need EXTENDED_ARG (over 256 locals): Python 3.11 traces no event for the
    instruction after one."""
    src = (
        "def f(n):\n"
        + "".join(f"    a{i} = {i}\n" for i in range(300))
        + "    i = 0\n    while i < n:\n        i += 1\n"
    )
    namespace = {}
    exec(compile(src + "    return i\n", __file__, "exec"), namespace)
    return namespace["f"](n)


def same_value_another_object(n):
    y, k = n * 1000, 0
    while k < 20_000_000:
        k += 1
        x = y + 0  # equal to y, another object
        while True:  # one more round, then out: `is` tells the two apart
            if x is y:
                break
            x = y
    return "ended"


def minus_zero(w, v, n):
    k = 0
    while k < n:
        k += 1
        z = w
        while True:
            if z**0.5 == v:  # the root's side of the branch cut follows the sign of the zero
                break
            z = z + 0j  # -0.0 becomes 0.0: equal, yet not the same
    return "ended"


def reads_its_locals(n):
    i = 0
    seen = locals()  # a snapshot: tracing would refresh it
    while i < n:
        i += 1
    return seen["i"]


@pytest.mark.parametrize(
    "fn, args, value",
    [
        (many_locals, (30_000_000,), 30_000_000),
        (same_value_another_object, (7,), "ended"),
        (minus_zero, (complex(-1, -0.0), complex(-1, 0.0) ** 0.5, 5_000_000), "ended"),
        (reads_its_locals, (40_000_000,), 0),
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
