"""Golden cases: every folder of tests/golden is a submission and the result it must get (see its README)."""

import json
from pathlib import Path

import pytest

from grader import grade

GOLDEN = sorted(p for p in (Path(__file__).parent / "golden").iterdir() if p.is_dir())


@pytest.mark.parametrize("case", GOLDEN, ids=lambda p: p.name)
def test_golden_case(case):
    expected = json.loads((case / "expected.json").read_text())
    result = grade(expected["problem"], case / "submission.py")
    got = {"status": result.status.value, "score": result.score, "max_score": result.max_score}
    assert got == {k: expected[k] for k in got}, result.message
    for text in expected.get("message", []):
        assert text in result.message, result.message
    for text in expected.get("stderr", []):
        assert text in result.stderr
    assert not result.traceback or result.status.value == "error"  # never a judge traceback
