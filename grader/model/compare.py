"""Numeric comparison of a learner's output with the expected one: whether it passes, and how it differs (facts)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from grader.model.problem import Tolerance
from grader.model.verdict import Mismatch, MismatchKind


@dataclass(frozen=True)
class Comparison:
    passed: bool
    mismatch: Mismatch | None = None
    max_abs_err: float | None = None
    max_rel_err: float | None = None
    mismatch_index: list[int] | None = None  # first mismatch, as an index into the expected shape
    got: float | None = None
    expected: float | None = None


def shape_mismatch(got: np.ndarray, expected: np.ndarray) -> Mismatch:
    """Another shape; when the number of values is the same, whether they are the right values."""
    same = got.size == expected.size and bool(
        np.allclose(
            got.astype(np.float64).reshape(-1),
            expected.astype(np.float64).reshape(-1),
            rtol=1e-3,
            atol=1e-4,
            equal_nan=True,
        )
    )
    return Mismatch(kind=MismatchKind.SHAPE, values_right=same)


def compare(got: np.ndarray, expected: np.ndarray, tol: Tolerance, *, exact_shape: bool = True) -> Comparison:
    """Compare values: the same shape, finite where expected is, within rtol/atol.

    The returned shape is part of every problem's contract; `exact_shape=False` compares only the
    flattened values (same count), for a problem that declares it does not pin its output's shape.

    Example:
        >>> compare(np.ones(3), np.ones(3), Tolerance(rtol=1e-5, atol=1e-8)).passed
        True
    """
    if got.size != expected.size or (exact_shape and got.shape != expected.shape):
        return Comparison(False, shape_mismatch(got, expected))
    g = got.astype(np.float64).reshape(-1)
    e = expected.astype(np.float64).reshape(-1)
    where = lambda flat: [int(i) for i in np.unravel_index(flat, expected.shape)]  # noqa: E731

    bad_finite = ~np.isfinite(g) & np.isfinite(e)
    diff = np.abs(g - e)
    with np.errstate(divide="ignore", invalid="ignore"):
        finite = np.isfinite(e) & np.isfinite(g)
        max_abs = float(diff[finite].max()) if finite.any() else None
        nonzero = finite & (e != 0)
        max_rel = float((diff[nonzero] / np.abs(e[nonzero])).max()) if nonzero.any() else None
    if bad_finite.any():
        first = int(np.flatnonzero(bad_finite)[0])
        all_nan = bool(np.isnan(g[bad_finite]).all())
        return Comparison(
            False,
            Mismatch(kind=MismatchKind.NON_FINITE, count=int(bad_finite.sum()), all_nan=all_nan),
            max_abs,
            max_rel,
            where(first),
            float(g[first]),
            float(e[first]),
        )

    # Non-finite expected values must be matched exactly (NaN by NaN, inf by the same inf).
    ok = np.where(np.isfinite(e), diff <= tol.atol + tol.rtol * np.abs(e), (g == e) | (np.isnan(g) & np.isnan(e)))
    if ok.all():
        return Comparison(True, None, max_abs, max_rel)
    first = int(np.flatnonzero(~ok)[0])
    return Comparison(
        False,
        Mismatch(kind=MismatchKind.VALUES, count=int((~ok).sum()), total=e.size, rtol=tol.rtol, atol=tol.atol),
        max_abs,
        max_rel,
        where(first),
        float(g[first]),
        float(e[first]),
    )
