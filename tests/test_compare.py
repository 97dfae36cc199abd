from types import SimpleNamespace

import numpy as np

from grader.grading.pipeline import compared
from grader.model.compare import compare
from grader.model.problem import Tolerance
from grader.render import wording

TOL = Tolerance(rtol=1e-4, atol=1e-5)


def message(got: np.ndarray, expected: np.ndarray, tol: Tolerance = TOL, exact_shape: bool = True) -> str:
    """The sentence a learner reads for this comparison: the case the pipeline builds from it, worded."""
    problem = SimpleNamespace(meta=SimpleNamespace(tolerance=tol, exact_shape=exact_shape))
    base = {"index": 0, "name": "case", "seed": 1, "expected_shape": list(expected.shape)}
    return wording.case_message(compared(problem, base, got, expected, None))


def test_equal_within_tolerance_passes():
    e = np.linspace(-1, 1, 12).reshape(3, 4)
    assert compare(e + 5e-6, e, TOL).passed
    assert message(e + 5e-6, e) == ""


def test_first_mismatch_is_located_in_the_expected_shape():
    e = np.zeros((3, 4))
    g = e.copy()
    g[1, 2], g[2, 3] = 0.5, 0.25
    c = compare(g, e, TOL)
    assert not c.passed and c.mismatch_index == [1, 2] and c.got == 0.5 and c.expected == 0.0
    assert c.max_abs_err == 0.5 and "2 of 12 values differ" in message(g, e)


def test_wrong_size_names_both_shapes():
    c = compare(np.zeros(5), np.zeros((2, 3)), TOL)
    said = message(np.zeros(5), np.zeros((2, 3)))
    assert not c.passed and "(2, 3)" in said and "(5,)" in said


def test_the_shape_is_checked_unless_a_problem_opts_out():
    e = np.zeros((2, 1, 3))
    assert not compare(np.zeros((2, 3)), e, TOL).passed
    assert compare(np.zeros((2, 3)), e, TOL, exact_shape=False).passed


def test_an_unflattened_output_is_told_to_reshape():
    e = np.arange(24.0)
    c = compare(e.reshape(3, 8), e, TOL)
    assert not c.passed
    assert message(e.reshape(3, 8), e) == (
        "expected a 1-D array of 24 values; you returned shape (3, 8) "
        "(the values themselves are right): add .reshape(-1)"
    )
    wrong = message(np.zeros((3, 8)), e)
    assert "(the values themselves are right)" not in wrong and ".reshape(-1)" in wrong


def test_nan_where_expected_is_finite_fails_with_its_position():
    g = np.ones(4)
    g[2] = np.nan
    c = compare(g, np.ones(4), TOL)
    assert not c.passed and "NaN" in message(g, np.ones(4)) and c.mismatch_index == [2]


def test_relative_tolerance_scales_with_magnitude():
    e = np.array([1000.0])
    assert compare(e + 0.05, e, TOL).passed
    assert not compare(e + 0.5, e, TOL).passed
