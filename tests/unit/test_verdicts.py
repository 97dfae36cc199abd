"""Statuses come from facts the learner cannot forge: the keeper's exit status, the judge's clock and reader.

These interpret synthetic outcomes (no sandbox): what the learner prints is shown, never read.
"""

import io

import numpy as np
import pytest

from conftest import context

from grader.child.protocol import Fault, Frame, Kind, Why
from grader.grading import pipeline, runners
from grader.model.problem import Limits
from grader.model.verdict import FaultKind, Status
from grader.sandbox.outcome import Outcome

MASK = "cross_attention_mask"


@pytest.fixture
def interpret(monkeypatch):
    """Interpret an outcome of cross_attention_mask whose expected outputs are all zeros."""
    monkeypatch.setattr(pipeline, "diagnose", lambda *a: None)  # the pitfalls would import JAX: not needed here
    ctx = context()
    problem = ctx.problems.load(MASK)
    cases = list(problem.cases)
    expected = [np.zeros((2, 1, 3, 4)) for _ in cases]

    def run(outcome: Outcome):
        facts = runners.facts(problem, "x = 1", outcome, Limits())
        inputs = [{} for _ in cases]
        return pipeline.interpret(problem, ctx.problems, "stub.py", cases, inputs, expected, facts, Limits())

    return run


def npy(arr) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.asarray(arr))
    return buf.getvalue()


def answered(value: float, n: int = 4) -> list:
    cases = [(Frame(Kind.CASE, index=i, time=0.1), npy(np.full((2, 1, 3, 4), value))) for i in range(n)]
    return [(Frame(Kind.READY), b""), (Frame(Kind.IMPORTED), b""), *cases, (Frame(Kind.DONE), b"")]


@pytest.mark.parametrize(
    "stderr",
    [
        "MemoryError",
        "Killed",
        "Traceback...\nMemoryError: out of memory\n",
        "terminate called after throwing an instance of 'std::bad_alloc'",
    ],
)
def test_printing_memory_words_does_not_change_a_wrong_answer(interpret, stderr):
    result = interpret(Outcome("bwrap", frames=answered(1.0), exit_code=0, stderr=stderr))
    assert result.status is Status.WRONG_ANSWER and stderr in result.stderr


def test_a_right_answer_with_memory_words_on_stderr_still_passes(interpret):
    result = interpret(Outcome("bwrap", frames=answered(0.0), exit_code=0, stderr="MemoryError\nKilled\n"))
    assert result.status is Status.PASSED and result.score == 4


def test_printing_memoryerror_and_exiting_is_a_crash(interpret):
    frames = [(Frame(Kind.READY), b""), (Frame(Kind.IMPORTED), b"")]
    result = interpret(Outcome("bwrap", frames=frames, exit_code=1, stderr="MemoryError\n"))
    assert result.status is Status.CRASHED and "exited (code 1)" in result.message
    assert all(c.fault is not None and c.fault.kind is FaultKind.EXITED for c in result.cases)


def test_a_memory_error_raised_in_the_call_is_a_memory_verdict(interpret):
    frames = answered(0.0, n=1)[:3] + [
        (Frame(Kind.CASE, index=1, fault=Fault(Why.OUT_OF_MEMORY, error="MemoryError")), b"")
    ]
    result = interpret(Outcome("bwrap", frames=frames, exit_code=0))
    assert result.status is Status.MEMORY and "limit 2048 MB" in result.cases[1].message
    assert result.cases[0].status is Status.PASSED


def test_a_kill_by_signal_is_a_crash_naming_the_signal(interpret):
    result = interpret(Outcome("bwrap", frames=answered(0.0, n=0)[:2], signal=9, stderr="Killed"))
    assert result.status is Status.CRASHED and "SIGKILL" in result.message


def test_a_bad_frame_is_the_learners_crash_with_a_clear_message(interpret):
    outcome = Outcome("bwrap", frames=answered(0.0, n=2)[:4], signal=9, bad_frame="a frame header nested too deep")
    result = interpret(outcome)
    assert result.status is Status.CRASHED and result.score == 2
    assert "result channel (a frame header nested too deep)" in result.message and not result.traceback


def test_the_judges_clock_decides_timeouts(interpret):
    result = interpret(Outcome("bwrap", frames=answered(0.0, n=0)[:1], timed_out="import", signal=9))
    assert result.status is Status.TIMEOUT and "importing your file" in result.message
    assert result.fault is not None and result.fault.kind is FaultKind.IMPORT_TIMEOUT  # the file never ran a case
    result = interpret(Outcome("bwrap", frames=answered(0.0, n=1)[:3], timed_out="cases", signal=9))
    assert result.status is Status.TIMEOUT and result.cases[0].status is Status.PASSED
    assert result.cases[1].status is Status.TIMEOUT and not result.cases[1].not_run
    assert [c.not_run for c in result.cases[2:]] == [True, True]  # only case 1 was running
    assert result.cases[2].fault is not None and result.cases[2].fault.case == 1


def test_a_loop_proven_endless_is_a_timeout_that_says_so(interpret):
    """The learner's process said its case loops forever (a FOREVER frame): the timeout it would get by looping,
    with the line; in hidden cases, whose frames are not kept, without it."""
    said = (Frame(Kind.FOREVER, line=3, text="pass"), b"")
    for frames, line in ((answered(0.0, n=1)[:3] + [said], "line 3 (`pass`)"), (answered(0.0, n=1)[:3], "")):
        result = interpret(Outcome("bwrap", frames=frames, timed_out="cases", forever_s=1.04, signal=9))
        case = result.cases[1]
        assert (
            result.status is Status.TIMEOUT
            and case.status is Status.TIMEOUT
            and result.cases[0].status is Status.PASSED
        )
        assert case.fault is not None and case.fault.forever and case.fault.used == 1.0
        assert (
            f"your code loops forever: it came back to {line or 'the same line'} with nothing changed" in case.message
        )
        assert "it was stopped there instead of running to the time limit of 10 s" in case.message
    result = interpret(Outcome("bwrap", frames=answered(0.0, n=0)[:1] + [said], timed_out="import", forever_s=1.5))
    assert result.fault is not None and result.fault.kind is FaultKind.IMPORT_TIMEOUT and result.fault.forever
    assert "instead of running to the import's time limit of" in result.message


def test_an_overflowing_channel_is_a_crash(interpret):
    result = interpret(Outcome("bwrap", frames=[], overflow=True, signal=9))
    assert result.status is Status.CRASHED and "more data" in result.message


def test_a_load_error_fails_every_case_with_its_message(interpret):
    frames = [
        (Frame(Kind.READY), b""),
        (Frame(Kind.LOAD_ERROR, fault=Fault(Why.SYNTAX, error="SyntaxError", text="bad", line=1)), b""),
    ]
    result = interpret(Outcome("bwrap", frames=frames, exit_code=0))
    assert result.status is Status.ERROR and all(c.message.startswith("SyntaxError") for c in result.cases)
    assert result.fault is not None and result.fault.kind is FaultKind.SYNTAX and result.fault.line == 1


def test_a_payload_that_is_not_an_array_of_numbers_is_an_error(interpret):
    frames = answered(0.0, n=1)[:2] + [(Frame(Kind.CASE, index=0), b"not npy")]
    result = interpret(Outcome("bwrap", frames=frames, exit_code=0))
    assert result.cases[0].status is Status.ERROR and "not an array" in result.cases[0].message
