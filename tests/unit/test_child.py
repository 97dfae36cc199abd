"""The child side's pure parts, imported as the judge's own modules (no sandbox)."""

import io

import numpy as np

from grader.child import runner
from grader.sandbox.capture import Capture
from grader.child.protocol import CaseStatus


def test_exceptions_are_classified_by_type():
    assert runner.classify(MemoryError())[0] is CaseStatus.MEMORY
    assert runner.classify(ValueError("bad shape\nmore"))[1] == "ValueError: bad shape"
    assert "sys.exit(3)" in runner.classify(SystemExit(3))[1]


def test_return_values_must_be_arrays_of_real_numbers():
    assert runner.to_array([[1, 2], [3, 4]], np)[0].shape == (2, 2)
    assert "returned NoneType" in runner.to_array(None, np)[1]
    assert "ragged or non-numeric" in runner.to_array([None, 1], np)[1]
    assert "complex" in runner.to_array(np.ones(2) * 1j, np)[1]


def test_learners_are_called_by_keyword_or_in_declared_order():
    assert runner.call(lambda a, b: (a, b), ["a", "b"], {"b": 2, "a": 1}) == (1, 2)
    assert runner.call(lambda x, y: (x, y), ["a", "b"], {"b": 2, "a": 1}) == (1, 2)


def test_capture_keeps_the_start_and_counts_everything():
    c = Capture(io.BufferedReader(io.BytesIO(b"abc" * 10_000)), keep=5)
    c.thread.join(timeout=5)
    assert c.text() == "abcab" and c.total == 30_000
