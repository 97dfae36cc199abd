"""A case's arguments: whether a case gives every value its problem needs, and its inputs from its seed.

This file is part of every cached expected output's key: a change to the generators recomputes them.
"""

from __future__ import annotations

import numpy as np

from grader.model.problem import Case, ProblemMeta


def check_case(meta: ProblemMeta, case: Case) -> None:
    """Raise ValueError when a case lacks a dimension or value its problem needs."""
    for arg in meta.args:
        if arg.kind == "int":
            if arg.name not in case.values and not arg.optional:
                raise ValueError(f"values.{arg.name} is missing")
        else:
            for dim in arg.shape or []:
                if isinstance(dim, str) and dim not in case.dims and dim not in case.values:
                    raise ValueError(f"dims.{dim} (of {arg.name}) is missing")
    known = {a.name for a in meta.args} | {"pad_id"}
    for name in case.values:
        if name not in known:
            raise ValueError(f"values.{name} is not an argument")


def make_inputs(meta: ProblemMeta, case: Case) -> dict[str, object]:
    """The arguments of one case, generated deterministically from its seed."""
    rng = np.random.default_rng(case.seed)
    inputs: dict[str, object] = {}
    for arg in meta.args:
        if arg.kind == "int":
            if arg.name in case.values:
                value = case.values[arg.name]
                inputs[arg.name] = float(value) if arg.as_float else int(value)
            continue
        # A dimension may also be an int argument (mha_self's d_model).
        shape: tuple[int, ...] = tuple(
            (case.dims[d] if d in case.dims else case.values[d]) if isinstance(d, str) else d for d in arg.shape or []
        )
        if arg.kind == "normal":
            scale = case.scales.get(arg.name, arg.scale)
            inputs[arg.name] = (rng.standard_normal(shape) * scale).astype(np.float32)
        else:
            inputs[arg.name] = _token_ids(rng, (shape[0], shape[1]), arg.vocab, case.values.get("pad_id", 0))
    return inputs


def _token_ids(rng: np.random.Generator, shape: tuple[int, int], vocab: int, pad_id: int) -> np.ndarray:
    """Ids never equal to pad_id, with padding on the right, on the left, or scattered by row."""
    n, s = shape
    ids = rng.integers(1, vocab, size=shape)
    ids[ids == pad_id] = vocab + 1
    for row in range(n):
        if s < 2:
            break
        k = int(rng.integers(1, s))  # pads in this row: at least one, never all
        if row % 3 == 0:
            where = np.arange(s - k, s)
        elif row % 3 == 1:
            where = np.arange(0, k)
        else:
            where = rng.choice(s, size=k, replace=False)
        ids[row, where] = pad_id
    return ids.astype(np.int64)
