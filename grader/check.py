"""`judge check`: validate a problem folder the way CI validates code."""

from __future__ import annotations

import ast
import re

import numpy as np

from grader import problems
from grader.compare import compare
from grader.errors import ProblemError
from grader.grading import grade
from grader.models import Status


def check_problem(problem_id: str, *, sandbox: str = "auto") -> list[tuple[str, bool, str]]:
    """Run every check on a problem: a list of (check, ok, detail)."""
    try:
        problem = problems.load_problem(problem_id)
    except ProblemError as e:
        return [("metadata and cases parse", False, str(e))]
    out = [("metadata and cases parse", True, f"{len(problem.cases)} cases")]
    meta = problem.meta

    tree = ast.parse(problem.stub_path.read_text())
    fns = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == meta.function]
    params = [a.arg for a in fns[0].args.args + fns[0].args.kwonlyargs] if fns else []
    wanted = [a.name for a in meta.args]
    out.append(("stub has the declared signature", params == wanted, f"{params} vs {wanted}"))
    stub = grade(problem_id, problem.stub_path, sandbox=sandbox)
    raises = stub.status is Status.ERROR and all("NotImplementedError" in c.message for c in stub.cases)
    out.append(("stub raises NotImplementedError", raises, stub.message))

    ref = grade(problem_id, problem.reference_path, sandbox=sandbox)
    out.append(("reference passes every case", ref.passed, ref.message))

    same = all(_equal(problems.make_inputs(meta, c), problems.make_inputs(meta, c)) for c in problem.cases)
    out.append(("cases are deterministic from their seeds", same, ""))

    inputs = [problems.make_inputs(meta, c) for c in problem.cases]
    expected = [problems.expected_output(problem, c, x) for c, x in zip(problem.cases, inputs)]
    pitfalls = problems.pitfall_messages(problem)
    out.append(("declares known pitfalls", bool(pitfalls), f"{len(pitfalls)} in {problems.pitfalls_path(problem)}"))
    for name in pitfalls:
        caught = []
        for case, x, exp in zip(problem.cases, inputs, expected):
            got = problems.pitfall_output(problem, name, case, x)
            if got is None or not compare(got, exp, meta.tolerance, exact_shape=meta.exact_shape).passed:
                caught.append(case.name)
        out.append((f"pitfall {name} fails a case", bool(caught), f"caught by: {', '.join(caught) or 'no case'}"))

    spec = problem.spec_path.read_text()
    missing = [w for w in [meta.function, *wanted] if not re.search(rf"\b{re.escape(w)}\b", spec)]
    out.append(("spec names the function and every argument", not missing, f"missing: {missing}" if missing else ""))
    out.append(hints_check(problem_id))
    return out


def hints_check(problem_id: str) -> tuple[str, bool, str]:
    """hints.json holds two to four well-formed hints (what `judge hint` shows a learner who is stuck)."""
    from grader.practice import load_hints

    try:
        return ("has 2-4 hints", True, f"{len(load_hints(problem_id))} hints")
    except ProblemError as e:
        return ("has 2-4 hints", False, str(e))


def _equal(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(np.asarray(a[k]), np.asarray(b[k])) for k in a)
