"""Why a wrong answer is wrong: the known mistake that gives it, or a "Hint:" with facts that point at it."""

from __future__ import annotations

import numpy as np

from grader.sets import problems
from grader.sets.mistakes import passes_as
from grader.model.problem import Case
from grader.sets.problems import Problem


def diagnose(
    problem: Problem,
    cases: list[Case],
    inputs: list[dict[str, object]],
    expected: list[np.ndarray],
    outputs: dict[int, np.ndarray],
) -> str:
    """Name the mistake when a known pitfall gives the learner's outputs; else a "Hint:" with facts that help.

    A named mistake is its pitfall's sentence as it is; a hint starts with "Hint:".
    """
    wrong = {i: got for i, got in outputs.items() if not passes_as(problem, got, expected[i])}
    matched: dict[int, list[str]] = {i: [] for i in wrong}
    sentences = problems.pitfall_messages(problem)
    for name, sentence in sentences.items():
        fits = {}
        for i, got in outputs.items():
            pit = problems.pitfall_output(problem, name, cases[i], inputs[i])
            fits[i] = pit is not None and passes_as(problem, got, pit)
            if not fits[i] and i not in wrong:
                break  # a right answer the pitfall gets wrong: the learner did not make this mistake
        else:
            if outputs and all(fits.values()):
                return sentence
        if len(fits) < len(outputs):
            continue
        for i in wrong:
            if fits.get(i):
                matched[i].append(sentence)
    explained = {i: m[0] for i, m in matched.items() if m}
    if not explained:
        near = _nearest_pitfall(problem, cases, inputs, expected, wrong)
        if near:
            return (
                f"Hint: your output is much closer to this known mistake than to the right answer, though not "
                f"equal to it, so it combined with another mistake is likely: {near}"
            )
    if explained:
        distinct = list(dict.fromkeys(explained.values()))
        where = lambda s: _cases([i for i, m in explained.items() if m == s])  # noqa: E731
        if len(distinct) > 1:
            return "Hint: a combination of known mistakes is likely; " + "; ".join(
                f"in {where(s)}: {s}" for s in distinct
            )
        others = [i for i in wrong if i not in explained]
        if others:
            return (
                f"Hint: in {where(distinct[0])}: {distinct[0]} The other wrong cases differ from it too, "
                "so a combination with another mistake is likely."
            )
    for i, got in wrong.items():
        fact = _fact(problem, i, got, expected[i])
        if fact:
            return f"Hint: {fact}"
    return ""


def _nearest_pitfall(
    problem: Problem,
    cases: list[Case],
    inputs: list[dict[str, object]],
    expected: list[np.ndarray],
    wrong: dict[int, np.ndarray],
) -> str:
    """The known mistake every wrong output lies at least 3x closer to than to the right answer, if one does."""
    best, best_ratio = "", 1 / 3
    for name, sentence in problems.pitfall_messages(problem).items():
        worst_ratio = 0.0
        for i, got in wrong.items():
            pit = problems.pitfall_output(problem, name, cases[i], inputs[i])
            if pit is None or pit.size != got.size:
                worst_ratio = np.inf
                break
            g = got.reshape(-1).astype(np.float64)
            to_pit = np.linalg.norm(g - pit.reshape(-1).astype(np.float64))
            to_exp = np.linalg.norm(g - expected[i].reshape(-1).astype(np.float64))
            worst_ratio = max(worst_ratio, to_pit / to_exp if to_exp > 0 else np.inf)
        if worst_ratio < best_ratio:
            best, best_ratio = sentence, worst_ratio
    return best


def _cases(indices: list[int]) -> str:
    return f"case {indices[0]}" if len(indices) == 1 else "cases " + ", ".join(map(str, indices))


def _fact(problem: Problem, i: int, got: np.ndarray, exp: np.ndarray) -> str:
    """What is true of one wrong output that points at the mistake: shape, zeros, a factor, one slice."""
    tol, exact = problem.meta.tolerance, problem.meta.exact_shape
    if got.size != exp.size or (exact and got.shape != exp.shape):
        return f"expected shape {tuple(exp.shape)}, got {tuple(got.shape)}."
    g, e = got.reshape(exp.shape).astype(np.float64), exp.astype(np.float64)
    finite = np.isfinite(e) & np.isfinite(g)
    bad = ~np.isclose(g, e, rtol=tol.rtol, atol=tol.atol) & np.isfinite(e)
    if not bad.any():
        return ""
    if not g.any() and e.any():
        return f"in case {i} your output is all zeros."
    big = finite & (np.abs(e) > 1e-6 * max(1.0, float(np.abs(e[finite]).max(initial=0))))
    if big.sum() >= 2:
        ratio = g[big] / e[big]
        r = float(np.median(ratio))
        rest_zero = np.allclose(g[~big & finite], 0, atol=tol.atol + 1e-9)
        if r != 0 and np.allclose(ratio, r, rtol=1e-3, atol=0) and rest_zero:
            return (
                f"in case {i} your output is the expected one times {r:.4g} everywhere: a constant factor "
                "(a scale such as 1/sqrt(d), or a missing or extra normalisation)."
            )
    for axis, size in enumerate(e.shape):
        where = np.flatnonzero(bad.any(axis=tuple(a for a in range(e.ndim) if a != axis)))
        if size > 1 and len(where) == 1 and e.ndim > 1:
            return f"in case {i} the wrong values all lie at index {where[0]} of axis {axis} (shape {e.shape})."
    share = float(bad.mean())
    if share >= 0.9:
        seeded = any(a.name == "seed" for a in problem.meta.args)
        check = (
            "check how the parameters come from `seed` (the PRNG key, the init functions, use_bias)"
            if seeded
            else "check the computation from its first step"
        )
        return f"in case {i} the values differ almost everywhere ({share:.0%} of them): {check}."
    return f"in case {i}, {share:.0%} of the values are wrong."
