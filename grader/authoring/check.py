"""`judge check`: validate a problem folder the way CI validates code."""

from __future__ import annotations

import ast
import multiprocessing
import os
import re
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

import numpy as np

from grader.authoring.scaffold import PLACEHOLDERS
from grader.context import Context
from grader.grading.pipeline import grade_file
from grader.grading.submission import Submission
from grader.model.errors import ProblemError
from grader.model.problem import Case, Hints, Problem
from grader.model.verdict import FaultKind, Status
from grader.sets.answers import COMBINE, PROGRAMS_MB, bounded_programs, load_module
from grader.sets.hidden import draw_hidden
from grader.sets.inputs import make_inputs
from grader.sets.mistakes import mistake_names, passes_as, public_only, undetected_mistakes
from grader.sets.store import ProblemSet, parse

SECRETS = 200  # secrets whose hidden cases `judge check` examines
Check = tuple[str, bool, str]  # (what is checked, whether it holds, the detail)
WORKER_DIED = "the process checking problems side by side was killed (out of memory?)"
WORKER_MB = PROGRAMS_MB + 300  # what one problem's check holds: the bound, and a case's programs past it


def check_problems(
    context: Context, ids: list[str], *, secrets: int = SECRETS, workers: int | None = None
) -> Iterator[tuple[str, Iterator[Check]]]:
    """Each problem's checks in order. One problem's stream as they are done; several side by side, a process each
    (one core each: most of a check is JAX compiling, one program at a time), each problem's when it is done."""
    workers = min(len(ids), workers or default_workers())
    if workers <= 1:
        for pid in ids:
            yield pid, check_problem(context, pid, secrets=secrets)
        return
    fresh = replace(cast(Any, context.problems), _memo={})  # both kinds of set are dataclasses; what it computed stays
    recipe = (fresh, context.cache, context.sandbox, context.data_dir)
    # spawn: the judge's process may hold JAX's threads, which a fork would copy half-way
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
    try:
        futures = [pool.submit(_checked_alone, recipe, pid, secrets) for pid in ids]
        for pid, future in zip(ids, futures):
            try:
                yield pid, iter(future.result())
            except BrokenProcessPool:  # a worker killed (out of memory): every problem not done yet is unchecked
                yield pid, iter([("the check ran to its end", False, f"{WORKER_DIED} (try --workers 1)")])
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def default_workers() -> int:
    """One per core, as far as the memory available holds one problem's check each."""
    cores = os.cpu_count() or 1  # as a batch counts them
    try:
        meminfo = Path("/proc/meminfo").read_text()
        available_mb = int(next(line for line in meminfo.splitlines() if line.startswith("MemAvailable:")).split()[1])
        return max(1, min(cores, (available_mb >> 10) // WORKER_MB))
    except (OSError, StopIteration, ValueError):
        return cores  # no /proc (macOS): by cores alone


def _checked_alone(recipe: tuple, problem_id: str, secrets: int) -> list[Check]:
    """One problem's checks in a worker process, with a context of its own (its own zygote)."""
    problems, cache, sandbox, data_dir = recipe
    with Context(problems, cache, sandbox, data_dir) as context:
        return list(check_problem(context, problem_id, secrets=secrets))


def check_problem(context: Context, problem_id: str, *, secrets: int = SECRETS) -> Iterator[Check]:
    """Every check on a problem, as each is done: (check, ok, detail). JAX's memory is bounded throughout, not only
    in the hidden survey (thousands of programs): a process that checks problems one after another would begin
    the next one holding what the last one's survey kept, about 1 GB, and add to it."""
    with bounded_programs():
        yield from _checks(context, problem_id, secrets)


def _checks(context: Context, problem_id: str, secrets: int) -> Iterator[Check]:
    source = context.problems
    try:
        problem = source.load(problem_id)
    except ProblemError as e:
        yield ("metadata and cases parse", False, str(e))
        return
    yield ("metadata and cases parse", True, f"{len(problem.cases)} cases")
    meta = problem.meta

    tree = ast.parse(problem.stub_path.read_text())
    fns = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == meta.function]
    params = [a.arg for a in fns[0].args.args + fns[0].args.kwonlyargs] if fns else []
    wanted = [a.name for a in meta.args]
    yield ("stub has the declared signature", params == wanted, "" if params == wanted else f"{params} vs {wanted}")
    stub = grade_file(context, problem, Submission.read(problem.stub_path))
    starter = all(c.fault is not None and c.fault.kind is FaultKind.STUB for c in stub.cases)
    yield ("stub raises NotImplementedError", stub.status is Status.ERROR and starter, stub.message)

    ref = grade_file(context, problem, Submission.read(source.reference_path(problem_id)))
    yield ("reference passes every case", ref.passed, ref.message)

    same = all(_equal(make_inputs(meta, c), make_inputs(meta, c)) for c in problem.cases)
    yield ("cases are deterministic from their seeds", same, "")

    inputs = [make_inputs(meta, c) for c in problem.cases]
    expected = [source.expected_output(problem, c, x) for c, x in zip(problem.cases, inputs)]
    pitfalls = source.pitfall_messages(problem)
    yield ("declares known pitfalls", bool(pitfalls), f"{len(pitfalls)} in {source.pitfalls_path(problem_id)}")
    broken = _broken(problem, source, inputs)
    for name, why in broken.items():
        yield (f"pitfall {name} runs on every public case", False, why)
    blind = [undetected_mistakes(problem, source, c, x, e) for c, x, e in zip(problem.cases, inputs, expected)]
    for name in pitfalls:
        if name in broken:
            continue
        caught = [case.name for case, b in zip(problem.cases, blind) if name not in b]  # names may hold commas
        yield (f"pitfall {name} fails a case", bool(caught), f"caught by: {'; '.join(caught) or 'no case'}")
    yield from combinations_named(problem, source, inputs, expected, broken)
    yield tolerance_margin(context, problem, inputs, expected)
    if pitfalls and secrets:
        yield from hidden_coverage(problem, source, secrets)

    spec = problem.spec_path.read_text()
    missing = [w for w in [meta.function, *wanted] if not re.search(rf"\b{re.escape(w)}\b", spec)]
    yield ("spec names the function and every argument", not missing, f"missing: {missing}" if missing else "")
    returns = [line for line in spec.splitlines() if line.startswith("**Returns**")]
    states = bool(returns) and bool(re.search(r"shape|1-D", returns[0]))
    yield (
        "spec states the output's shape",
        states and meta.exact_shape,
        "" if states and meta.exact_shape else "a line starting **Returns** gives the shape, and exact_shape is on",
    )
    yield hints_check(problem)
    left = [
        f"{path.name}: {text!r}"
        for path in (problem.spec_path, problem.folder / "hints.json")
        for text in PLACEHOLDERS
        if path.is_file() and text in path.read_text(errors="replace")
    ]
    yield ("no text of the scaffold left", not left, "; ".join(left) + " (write your own)" if left else "")


def _broken(problem: Problem, source: ProblemSet, inputs: list[dict[str, object]]) -> dict[str, str]:
    """Known mistakes whose code raises on a public case: broken, never counted as caught."""
    broken = {}
    for name in mistake_names(problem, source):
        for case, x in zip(problem.cases, inputs):
            try:
                source.pitfall_output(problem, name, case, x, strict=True)
            except ProblemError as e:
                broken[name] = str(e)
                break
    return broken


def _misfit(got, expected, problem: Problem) -> float:
    """How many times the tolerance the worst value misses by (0 is exact; above 1 fails; a wrong shape is inf)."""
    tol = problem.meta.tolerance
    if got is None or got.size != expected.size or (problem.meta.exact_shape and got.shape != expected.shape):
        return float("inf")
    g, e = np.asarray(got, np.float64).reshape(-1), np.asarray(expected, np.float64).reshape(-1)
    finite = np.isfinite(e)
    if not np.array_equal(np.isfinite(g), finite):
        return float("inf")
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.abs(g - e)[finite] / (tol.atol + tol.rtol * np.abs(e[finite]))
    return float(np.nan_to_num(ratio, nan=np.inf).max(initial=0.0))


def correct_forms(context: Context, problem: Problem, inputs: dict) -> list[np.ndarray]:
    """Answers a correct learner could give: the reference in float64, and again on inputs moved by one float32
    rounding (a float32 solution's own rounding is of that size: the reference alone shows none of it)."""
    # The module first: loading it sets the judge's JAX up (its XLA flags) when JAX is not loaded yet. JAX imported
    # before would start without them, and the float32 parts (Flax's initializers) round otherwise: the report's
    # margins then differed between a check that computed the expected outputs here and one that read them.
    reference = load_module(context.problems.reference_path(problem.id), context.cache)
    import jax

    fn = getattr(reference, problem.meta.function)
    rng = np.random.default_rng(0)
    wide = {
        k: v.astype(np.float64) if isinstance(v, np.ndarray) and v.dtype == np.float32 else v for k, v in inputs.items()
    }
    nudged = {
        k: v * (1 + rng.choice([-1.0, 1.0], v.shape) * 2.0**-24)
        if isinstance(v, np.ndarray) and v.dtype == np.float64
        else v
        for k, v in wide.items()
    }
    with jax.enable_x64(True):
        return [np.asarray(fn(**x), dtype=np.float64) for x in (wide, nudged)]


def tolerance_margin(context: Context, problem: Problem, inputs: list[dict], expected: list[np.ndarray]) -> Check:
    """Where the tolerance sits between float rounding of correct answers and the closest known mistake."""
    source = context.problems
    correct = max(
        _misfit(form, e, problem) for x, e in zip(inputs, expected) for form in correct_forms(context, problem, x)
    )
    misses = {
        name: max(
            _misfit(source.pitfall_output(problem, name, c, x), e, problem)
            for c, x, e in zip(problem.cases, inputs, expected)
        )
        for name in source.pitfall_messages(problem)
    }
    closest = min(misses, key=lambda name: misses[name]) if misses else None
    parts = [f"correct float forms use up to {correct:.2g} of it" if correct else "correct float forms match exactly"]
    if closest is not None:
        parts.append(f"the closest mistake ({closest}) misses it {misses[closest]:.3g}x")
        if correct:
            parts.append(f"margin {misses[closest] / correct:.3g}x")
    return (
        "tolerance separates correct float forms from known mistakes",
        correct < 1 < min(misses.values(), default=2),
        "; ".join(parts),
    )


def hidden_coverage(problem: Problem, source: ProblemSet, secrets: int) -> list[Check]:
    """Per known mistake: on how many hidden cases of `secrets` secrets it is caught; how many draws it made redo.
    A mistake whose code raises on a hidden case is broken, not caught."""
    redrawn: Counter[str] = Counter()
    try:
        cases: list[Case] = [c for i in range(secrets) for c in draw_hidden(problem, source, f"check-{i}", 3, redrawn)]
    except ProblemError as e:
        return [("hidden cases tell every known mistake apart", False, str(e))]
    blind: Counter[str] = Counter()
    out = []
    for c in cases:
        try:
            blind.update(undetected_mistakes(problem, source, c, strict=True))
        except ProblemError as e:
            return [("known mistakes run on every hidden case", False, str(e))]
    unknown = [n for n in problem.meta.space.public_only if n not in source.pitfall_messages(problem)]
    if unknown:
        out.append(("space.public_only names known mistakes", False, f"no known mistake {unknown[0]!r}"))
    for name in mistake_names(problem, source):
        if public_only(problem, name):
            out.append((f"hidden cases catch {name}", True, "public cases only (space.public_only)"))
            continue
        caught = len(cases) - blind[name]
        out.append(
            (
                f"hidden cases catch {name}",
                caught == len(cases),
                f"{caught}/{len(cases)} hidden cases of {secrets} secrets ({redrawn[name]} draws redone)",
            )
        )
    return out


def combinations_named(
    problem: Problem, source: ProblemSet, inputs: list[dict], expected: list[np.ndarray], broken: dict[str, str]
) -> Iterator[Check]:
    """Per named combination of known mistakes: its mistakes exist, a public case fails it, and a public case
    tells it from each of its mistakes alone (else that mistake is named first, and the combination never)."""
    sentences = source.pitfall_messages(problem)
    for names in source.pitfall_combinations(problem):
        name = COMBINE.join(names)
        unknown = [n for n in names if n not in sentences]
        why = f"no known mistake {unknown[0]!r}" if unknown else "fewer than two mistakes" if len(names) < 2 else ""
        if why or name in broken:
            yield (f"combination {name} can be named", False, why or broken[name])
            continue
        outs = [source.pitfall_output(problem, name, c, x) for c, x in zip(problem.cases, inputs)]
        caught = [c.name for c, out, e in zip(problem.cases, outs, expected) if not passes_as(problem, out, e)]
        alike = [
            n
            for n in names
            if all(
                passes_as(problem, out, source.pitfall_output(problem, n, c, x))
                for c, x, out in zip(problem.cases, inputs, outs)
                if out is not None
            )
        ]
        detail = f"caught by: {'; '.join(caught) or 'no case'}"
        if alike:
            detail += f"; no public case tells it from {alike[0]} alone"
        yield (f"combination {name} fails a case and can be named", bool(caught) and not alike, detail)


def hints_check(problem: Problem) -> Check:
    """hints.json holds two to four well-formed hints (what `judge hint` shows a learner who is stuck)."""
    try:
        return ("has 2-4 hints", True, f"{len(parse(Hints, problem.folder / 'hints.json').hints)} hints")
    except ProblemError as e:
        return ("has 2-4 hints", False, str(e))


def _equal(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(np.asarray(a[k]), np.asarray(b[k])) for k in a)
