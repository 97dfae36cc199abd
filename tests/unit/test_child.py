"""The child side's pure parts, imported as the judge's own modules (no sandbox): facts, never sentences."""

import io

import numpy as np

from grader.child import runner
from grader.child.protocol import Why
from grader.sandbox.capture import Capture


def own(name: str) -> bool:
    return name == __file__


def raised(exc: BaseException) -> BaseException:
    try:
        raise exc
    except BaseException as e:
        return e


def test_exceptions_become_facts_by_type():
    assert runner.fault_of(raised(MemoryError()), own).why is Why.OUT_OF_MEMORY
    fault = runner.fault_of(raised(ValueError("bad shape\nmore")), own)
    assert (fault.why, fault.error, fault.text) == (Why.RAISED, "ValueError", "bad shape")
    assert fault.trace is not None and fault.trace.error.startswith("ValueError: bad shape")
    assert runner.fault_of(raised(SystemExit(3)), own).code == "3"


def stub():
    raise NotImplementedError


def test_the_starters_raise_is_a_stub_with_its_line():
    fault = runner.fault_of(raised_by(stub), own)
    assert fault.why is Why.STUB and fault.line == stub.__code__.co_firstlineno + 1
    other = runner.fault_of(raised(NotImplementedError("mine")), own)  # raised here, not by a `raise` line
    assert other.why is Why.RAISED


def raised_by(fn):
    try:
        fn()
    except BaseException as e:
        return e


def test_return_values_must_be_arrays_of_real_numbers():
    assert runner.to_array([[1, 2], [3, 4]], np)[0].shape == (2, 2)
    assert runner.to_array(None, np)[1].why is Why.RETURNED and runner.to_array(None, np)[1].error == "NoneType"
    ragged = runner.to_array([None, 1], np)[1]
    assert ragged.why is Why.NOT_NUMERIC and ragged.text == ""
    assert runner.to_array(np.ones(2) * 1j, np)[1].text == "complex128"


def test_a_missing_function_names_the_closest_name_and_what_is_defined():
    fault = runner.missing_function("mha_cross", ["np", "mha_cros", "__name__"])
    assert (fault.why, fault.near, fault.defines) == (Why.MISSING_FUNCTION, "mha_cros", ("np", "mha_cros"))
    assert runner.missing_function("f", []).defines == ()


def test_learners_are_called_by_keyword_or_in_declared_order():
    assert runner.call(lambda a, b: (a, b), ["a", "b"], {"b": 2, "a": 1}) == (1, 2)
    assert runner.call(lambda x, y: (x, y), ["a", "b"], {"b": 2, "a": 1}) == (1, 2)


def test_capture_keeps_the_start_and_counts_everything():
    c = Capture(io.BufferedReader(io.BytesIO(b"abc" * 10_000)), keep=5)
    c.thread.join(timeout=5)
    assert c.text() == "abcab" and c.total == 30_000


def test_a_recursion_is_folded_as_python_folds_it():
    def deep(n):
        return deep(n + 1)

    try:
        deep(0)
    except RecursionError as e:
        trace = runner.trace_of(e, lambda filename: filename == __file__, runner.Places(__file__))
    assert len(trace.frames) == 5  # test -> deep x3 -> the count of the rest
    assert trace.frames[-1].startswith("  [Previous line repeated ") and "more times]" in trace.frames[-1]
    assert all(f.startswith('  File "test_child.py", line ') for f in trace.frames[:-1])
