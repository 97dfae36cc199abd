"""Why a wrong answer is wrong: the known mistake that gives it, or a hint with the facts that point at it.

Facts only (a `Diagnosis`); grader/render/wording.py words them.
"""

from __future__ import annotations

import numpy as np

from grader.model.problem import Case, Problem
from grader.model.verdict import Diagnosis, DiagnosisKind, Mistake
from grader.sets.answers import COMBINE
from grader.sets.mistakes import passes_as
from grader.sets.store import ProblemSet


def diagnose(
    problem: Problem,
    source: ProblemSet,
    cases: list[Case],
    inputs: list[dict[str, object]],
    expected: list[np.ndarray],
    outputs: dict[int, np.ndarray],
) -> Diagnosis | None:
    """The known mistake when it gives every one of the learner's outputs (NAMED); else a hint with facts that
    help; None when nothing helps."""
    wrong = {i: got for i, got in outputs.items() if not passes_as(problem, got, expected[i])}
    matched: dict[int, list[Mistake]] = {i: [] for i in wrong}
    sentences = source.pitfall_messages(problem)
    for name, sentence in sentences.items():
        fits = {}
        for i, got in outputs.items():
            pit = source.pitfall_output(problem, name, cases[i], inputs[i])
            fits[i] = pit is not None and passes_as(problem, got, pit)
            if not fits[i] and i not in wrong:
                break  # a right answer the pitfall gets wrong: the learner did not make this mistake
        else:
            if outputs and all(fits.values()):
                return Diagnosis(kind=DiagnosisKind.NAMED, mistakes=[Mistake(name=name, sentence=sentence)])
        if len(fits) < len(outputs):
            continue
        for i in wrong:
            if fits.get(i):
                matched[i].append(Mistake(name=name, sentence=sentence))
    both = _together(problem, source, cases, inputs, outputs, sentences)
    if both is not None:
        return both
    explained = {i: m[0] for i, m in matched.items() if m}
    if not explained:
        near = _nearest_pitfall(problem, source, cases, inputs, expected, wrong)
        if near is not None:
            return Diagnosis(kind=DiagnosisKind.NEAR, mistakes=[near])
    if explained:
        distinct = list(dict.fromkeys(m.name for m in explained.values()))
        found = [
            next(m for m in explained.values() if m.name == name).model_copy(
                update={"cases": [i for i, m in explained.items() if m.name == name]}
            )
            for name in distinct
        ]
        if len(found) > 1:
            return Diagnosis(kind=DiagnosisKind.COMBINED, mistakes=found)
        if any(i not in explained for i in wrong):
            return Diagnosis(kind=DiagnosisKind.PARTIAL, mistakes=found)
    for i, got in wrong.items():
        fact = _fact(problem, i, got, expected[i])
        if fact is not None:
            return fact
    return None


def _together(
    problem: Problem,
    source: ProblemSet,
    cases: list[Case],
    inputs: list[dict[str, object]],
    outputs: dict[int, np.ndarray],
    sentences: dict[str, str],
) -> Diagnosis | None:
    """The first combination of known mistakes the author named whose output gives every one of the learner's."""
    for names in source.pitfall_combinations(problem):
        name = COMBINE.join(names)
        if (
            outputs
            and all(n in sentences for n in names)
            and all(
                passes_as(problem, got, source.pitfall_output(problem, name, cases[i], inputs[i]))
                for i, got in outputs.items()
            )
        ):
            return Diagnosis(
                kind=DiagnosisKind.TOGETHER, mistakes=[Mistake(name=n, sentence=sentences[n]) for n in names]
            )
    return None


def _nearest_pitfall(
    problem: Problem,
    source: ProblemSet,
    cases: list[Case],
    inputs: list[dict[str, object]],
    expected: list[np.ndarray],
    wrong: dict[int, np.ndarray],
) -> Mistake | None:
    """The known mistake every wrong output lies at least 3x closer to than to the right answer, if one does."""
    best, best_ratio = None, 1 / 3
    for name, sentence in source.pitfall_messages(problem).items():
        worst_ratio = 0.0
        for i, got in wrong.items():
            pit = source.pitfall_output(problem, name, cases[i], inputs[i])
            if pit is None or not pit.size == got.size == expected[i].size:  # a distance needs one size
                worst_ratio = np.inf
                break
            g = _floats(got)
            to_pit = np.linalg.norm(g - _floats(pit))
            to_exp = np.linalg.norm(g - _floats(expected[i]))
            worst_ratio = max(worst_ratio, to_pit / to_exp if to_exp > 0 else np.inf)
        if worst_ratio < best_ratio:
            best, best_ratio = Mistake(name=name, sentence=sentence), worst_ratio
    return best


def _fact(problem: Problem, i: int, got: np.ndarray, exp: np.ndarray) -> Diagnosis | None:
    """What is true of one wrong output that points at the mistake: shape, zeros, a factor, one slice."""
    tol, exact = problem.meta.tolerance, problem.meta.exact_shape
    if got.size != exp.size or (exact and got.shape != exp.shape):
        return Diagnosis(kind=DiagnosisKind.SHAPE, case=i, shape=list(exp.shape), got_shape=list(got.shape))
    g, e = _floats(got).reshape(exp.shape), _floats(exp).reshape(exp.shape)
    finite = np.isfinite(e) & np.isfinite(g)
    bad = ~np.isclose(g, e, rtol=tol.rtol, atol=tol.atol) & np.isfinite(e)
    if not bad.any():
        return None
    if not g.any() and e.any():
        return Diagnosis(kind=DiagnosisKind.ZEROS, case=i)
    big = finite & (np.abs(e) > 1e-6 * max(1.0, float(np.abs(e[finite]).max(initial=0))))
    if big.sum() >= 2:
        ratio = g[big] / e[big]
        r = float(np.median(ratio))
        rest_zero = np.allclose(g[~big & finite], 0, atol=tol.atol + 1e-9)
        if r != 0 and np.allclose(ratio, r, rtol=1e-3, atol=0) and rest_zero:
            return Diagnosis(kind=DiagnosisKind.FACTOR, case=i, factor=r)
    for axis, size in enumerate(exp.shape):
        where = np.flatnonzero(bad.any(axis=tuple(a for a in range(e.ndim) if a != axis)))
        if size > 1 and len(where) == 1 and e.ndim > 1:
            return Diagnosis(kind=DiagnosisKind.SLICE, case=i, index=int(where[0]), axis=axis, shape=list(e.shape))
    share = float(bad.mean())
    if share >= 0.9:
        seeded = any(a.name == "seed" for a in problem.meta.args)
        return Diagnosis(kind=DiagnosisKind.EVERYWHERE, case=i, share=share, seeded=seeded)
    return Diagnosis(kind=DiagnosisKind.SHARE, case=i, share=share)


def _floats(a: np.ndarray) -> np.ndarray:
    """Any numeric output (bool, int, complex: the real part) as flat float64, for distances and ratios."""
    return np.real(a).astype(np.float64).reshape(-1)
