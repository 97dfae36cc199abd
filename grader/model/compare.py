"""Numeric comparison of a learner's output with the expected one."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from grader.model.problem import Tolerance


@dataclass(frozen=True)
class Comparison:
    passed: bool
    message: str = ""
    max_abs_err: float | None = None
    max_rel_err: float | None = None
    mismatch_index: list[int] | None = None  # first mismatch, as an index into the expected shape
    got: float | None = None
    expected: float | None = None


def _fmt(v: float) -> str:
    return f"{v:.6g}"


def shape_message(got: np.ndarray, expected: np.ndarray) -> str:
    """What a learner needs when the shape is wrong: both shapes and, where it is obvious, the fix."""
    want, have = tuple(expected.shape), tuple(got.shape)
    if got.size == expected.size:
        same = np.allclose(
            got.astype(np.float64).reshape(-1),
            expected.astype(np.float64).reshape(-1),
            rtol=1e-3,
            atol=1e-4,
            equal_nan=True,
        )
        values = " (the values themselves are right)" if same else ""
        if len(want) == 1:
            return (
                f"expected a 1-D array of {expected.size} values; you returned shape {have}{values}: add .reshape(-1)"
            )
        return (
            f"expected shape {want}; you returned shape {have} with the same number of values{values}: "
            f"return the array in the shape the spec gives"
        )
    return f"expected shape {want} ({expected.size} values); you returned shape {have} ({got.size} values)"


def compare(got: np.ndarray, expected: np.ndarray, tol: Tolerance, *, exact_shape: bool = True) -> Comparison:
    """Compare values: the same shape, finite where expected is, within rtol/atol.

    The returned shape is part of every problem's contract; `exact_shape=False` compares only the
    flattened values (same count), for a problem that declares it does not pin its output's shape.

    Example:
        >>> compare(np.ones(3), np.ones(3), Tolerance(rtol=1e-5, atol=1e-8)).passed
        True
    """
    if got.size != expected.size or (exact_shape and got.shape != expected.shape):
        return Comparison(False, shape_message(got, expected))
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
        kinds = "NaN" if np.isnan(g[bad_finite]).all() else "NaN or infinite"
        return Comparison(
            False,
            f"{int(bad_finite.sum())} {kinds} values where the expected output is finite, "
            f"first at index {tuple(where(first))}",
            max_abs,
            max_rel,
            where(first),
            float(g[first]),
            float(e[first]),
        )

    # Non-finite expected values must be matched exactly (NaN by NaN, inf by the same inf).
    ok = np.where(np.isfinite(e), diff <= tol.atol + tol.rtol * np.abs(e), (g == e) | (np.isnan(g) & np.isnan(e)))
    if ok.all():
        return Comparison(True, "", max_abs, max_rel)
    first = int(np.flatnonzero(~ok)[0])
    return Comparison(
        False,
        f"{int((~ok).sum())} of {e.size} values differ beyond rtol={tol.rtol:g}, atol={tol.atol:g} "
        f"(max abs error {_fmt(max_abs or 0.0)}); first at index {tuple(where(first))}: "
        f"got {_fmt(g[first])}, expected {_fmt(e[first])}",
        max_abs,
        max_rel,
        where(first),
        float(g[first]),
        float(e[first]),
    )
