"""Why learner code raised, in the learner's terms: an API the installed JAX or Flax removed, or code that
assumes two sizes the case makes different are equal. Facts only (a `Cause`); grader/render/wording.py words them.
"""

from __future__ import annotations

import re

from grader.model.problem import Case, Problem
from grader.model.verdict import Cause, CauseKind, CaseResult, Fault, FaultKind
from grader.sets.answers import library_versions

# Keywords the installed JAX no longer takes, as the TypeError names the function: (function, keyword) -> what
# replaced it ("" where nothing did).
REMOVED_KEYWORDS = {
    ("clip", "a_min"): "min",
    ("clip", "a_max"): "max",
    ("reshape", "newshape"): "shape",
    ("softmax", "initial"): "",
    ("log_softmax", "initial"): "",
}
# Names the installed JAX no longer has, as the AttributeError names them: module.attribute -> what replaced it.
REMOVED_NAMES = {
    "jax.tree_map": "jax.tree.map",
    "jax.tree_util.tree_multimap": "jax.tree.map",
    "jax.numpy.DeviceArray": "jax.Array",
    "jax.numpy.round_": "jax.numpy.round",
    "jax.numpy.product": "jax.numpy.prod",
    "jax.numpy.cumproduct": "jax.numpy.cumprod",
    "jax.numpy.alltrue": "jax.numpy.all",
    "jax.numpy.sometrue": "jax.numpy.any",
    "jax.numpy.row_stack": "jax.numpy.vstack",
    "jax.numpy.in1d": "jax.numpy.isin",
    "jax.nn.normalize": "jax.nn.standardize",
}
_NO_MODULE = re.compile(r"^No module named '(google(?:\.colab)?)(?:\.\w+)*'")  # CPython's fixed message
_KEYWORD = re.compile(r"^(\w+)\(\) got an unexpected keyword argument '(\w+)'")
_ATTRIBUTE = re.compile(r"^module '([\w.]+)' has no attribute '(\w+)'")
SHAPE_ERRORS = {"ValueError", "TypeError", "IndexError"}  # what JAX and NumPy raise on shapes that do not fit
_SHAPE_WORDS = re.compile(r"shape|broadcast|dimension|size", re.IGNORECASE)


def removed_api(fault: Fault) -> Cause | None:
    """A keyword or a name the installed JAX removed, when the raised error names one of the table's; or a module
    that exists only in Colab."""
    if fault.kind is not FaultKind.RAISED:
        return None
    colab = _NO_MODULE.match(fault.text) if fault.error == "ModuleNotFoundError" else None
    if colab:
        return Cause(kind=CauseKind.COLAB_ONLY, name=colab.group(1))
    keyword = _KEYWORD.match(fault.text) if fault.error == "TypeError" else None
    if keyword and keyword.groups() in REMOVED_KEYWORDS:
        return Cause(
            kind=CauseKind.REMOVED_KEYWORD,
            library="JAX",
            version=library_versions().get("jax", ""),
            function=keyword.group(1),
            name=keyword.group(2),
            replacement=REMOVED_KEYWORDS[keyword.group(1), keyword.group(2)],
        )
    attribute = _ATTRIBUTE.match(fault.text) if fault.error == "AttributeError" else None
    name = ".".join(attribute.groups()) if attribute else ""
    if name in REMOVED_NAMES:
        return Cause(
            kind=CauseKind.REMOVED_NAME,
            library="JAX",
            version=library_versions().get("jax", ""),
            name=name,
            replacement=REMOVED_NAMES[name],
        )
    return None


def _axis_pairs(problem: Problem) -> list[tuple[str, str, int, bool, str, str]]:
    """Two array arguments whose shapes differ in one named axis only (k (H, T_k, d_k) and v (H, T_k, d_v)):
    code written for one often assumes that axis has the other's size. (earlier, later, axis, last, dims)"""
    arrays = [a for a in problem.meta.args if a.shape]
    pairs = []
    for i, a in enumerate(arrays):
        for b in arrays[i + 1 :]:
            assert a.shape is not None and b.shape is not None
            differ = [j for j, (x, y) in enumerate(zip(a.shape, b.shape)) if x != y]
            if len(a.shape) == len(b.shape) and len(differ) == 1:
                j = differ[0]
                x, y = a.shape[j], b.shape[j]
                if isinstance(x, str) and isinstance(y, str):
                    pairs.append((a.name, b.name, j, j == len(a.shape) - 1, x, y))
    return pairs


def sizes_differ(problem: Problem, cases: list[Case], faults: dict[int, Fault]) -> dict[int, Cause]:
    """Per case that raised a shape error: the two sizes its code likely assumed equal. Said only where the
    error's text names both sizes, the case makes them differ, and no case where they are equal raised so."""
    shape_raised = {
        i
        for i, f in faults.items()
        if f.kind is FaultKind.RAISED and f.error in SHAPE_ERRORS and _SHAPE_WORDS.search(f.text)
    }
    found: dict[int, Cause] = {}
    for first, later, axis, last, dim, other_dim in _axis_pairs(problem):
        equal = [i for i, c in enumerate(cases) if c.dims.get(dim) == c.dims.get(other_dim)]
        if any(i in shape_raised for i in equal):
            continue  # it raises where they are equal too: not (only) this assumption
        for i in shape_raised - found.keys():
            size, other_size = cases[i].dims.get(dim), cases[i].dims.get(other_dim)
            text = faults[i].text
            if size is None or other_size is None or size == other_size:
                continue
            if re.search(rf"\b{size}\b", text) and re.search(rf"\b{other_size}\b", text):
                found[i] = Cause(
                    kind=CauseKind.SIZES_DIFFER,
                    arg=later,
                    axis=axis,
                    last=last,
                    dim=other_dim,
                    size=other_size,
                    other=first,
                    other_dim=dim,
                    other_size=size,
                )
    return found


def with_cause(fault: Fault | None, cause: Cause | None = None) -> Fault | None:
    """The fault with its likely cause (the one given, else a removed API it names), when one is found."""
    if fault is None or fault.kind is not FaultKind.RAISED:
        return fault
    cause = cause or removed_api(fault)
    return fault if cause is None else fault.model_copy(update={"cause": cause})


def explained(problem: Problem, cases: list[Case], results: list[CaseResult]) -> list[CaseResult]:
    """The cases' results, each raised error with its likely cause where the judge can tell it."""
    faults = {r.index: r.fault for r in results if r.fault is not None}
    sizes = sizes_differ(problem, cases, faults)
    return [
        r if r.fault is None else r.model_copy(update={"fault": with_cause(r.fault, sizes.get(r.index))})
        for r in results
    ]
