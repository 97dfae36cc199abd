import json

import numpy as np
import pytest

from conftest import context

from grader.model.errors import ProblemError, UnknownProblem
from grader.model.problem import Case
from grader.sets.inputs import make_inputs

BUILT_IN = context().problems  # ids and loading only: expected outputs need the session's cache (context())
IDS = BUILT_IN.ids()


def test_the_five_seed_problems_are_there():
    assert set(IDS) >= {"mha_cross", "mha_self_attention", "mha_self", "cross_attention_block", "cross_attention_mask"}


@pytest.mark.parametrize("pid", IDS)
def test_problem_loads_and_cases_discriminate(pid):
    p = BUILT_IN.load(pid)
    seeds = [c.seed for c in p.cases]
    assert len(p.cases) >= 3 and len(set(seeds)) == len(seeds) and all(seeds)
    for arg in p.meta.args:
        if arg.kind == "int" and arg.name in ("seed", "num_heads"):
            values = {c.values[arg.name] for c in p.cases}
            assert len(values) > 1, f"{arg.name} should vary across cases"
            if arg.name == "seed":
                assert 0 not in values


@pytest.mark.parametrize("pid", IDS)
def test_inputs_are_deterministic_from_the_seed(pid):
    p = BUILT_IN.load(pid)
    for case in p.cases:
        a, b = make_inputs(p.meta, case), make_inputs(p.meta, case)
        assert a.keys() == b.keys()
        for k in a:
            assert np.array_equal(np.asarray(a[k]), np.asarray(b[k]))
    other = make_inputs(p.meta, p.cases[0].model_copy(update={"seed": p.cases[0].seed + 1}))
    first = make_inputs(p.meta, p.cases[0])
    arrays = [k for k, v in first.items() if isinstance(v, np.ndarray)]
    assert any(not np.array_equal(first[k], other[k]) for k in arrays)


def test_cross_inputs_differ_in_length_and_content():
    p = BUILT_IN.load("mha_cross")
    assert any(c.dims["T_q"] != c.dims["T_kv"] for c in p.cases)
    x = make_inputs(p.meta, p.cases[0])
    assert x["x_q"].shape != x["x_kv"].shape


def test_floats_arrive_where_the_spec_says():
    p = BUILT_IN.load("mha_self")
    x = make_inputs(p.meta, p.cases[0])
    assert all(isinstance(x[k], float) for k in ("seed", "num_heads", "d_model"))


def test_padding_falls_in_different_places():
    p = BUILT_IN.load("cross_attention_mask")
    case = p.cases[0]
    ids = make_inputs(p.meta, case)["encoder_ids"]
    pad = case.values.get("pad_id", 0)
    rows = ids == pad
    assert rows[0, -1] and not rows[0, 0]  # right padding
    assert rows[1, 0] and not rows[1, -1]  # left padding
    assert rows.any(axis=1).all() and (~rows).any(axis=1).all()
    nonzero = p.cases[2]
    assert nonzero.values["pad_id"] != 0
    assert not (make_inputs(p.meta, nonzero)["encoder_ids"] == 0).any()


def test_unknown_problem_lists_valid_ids():
    with pytest.raises(UnknownProblem) as e:
        BUILT_IN.load("nope")
    assert "mha_cross" in str(e.value)


def test_a_valid_copy_loads(scratch_set):
    ctx, folder = scratch_set
    problem = ctx.problems.load("cross_attention_mask")
    assert problem.meta.function == "cross_attention_mask" and problem.folder == folder


def test_malformed_metadata_names_file_and_field(scratch_set):
    ctx, folder = scratch_set
    meta = json.loads((folder / "problem.json").read_text())
    meta["tolerance"]["rtol"] = -1
    (folder / "problem.json").write_text(json.dumps(meta))
    with pytest.raises(ProblemError, match=r"problem\.json: tolerance\.rtol"):
        ctx.problems.load("cross_attention_mask")


def test_case_missing_a_dimension_names_the_case(scratch_set):
    ctx, folder = scratch_set
    cases = json.loads((folder / "cases.json").read_text())
    del cases["cases"][1]["dims"]["S"]
    (folder / "cases.json").write_text(json.dumps(cases))
    with pytest.raises(ProblemError, match=r"cases\.json: cases\.1 .*dims\.S"):
        ctx.problems.load("cross_attention_mask")


def test_missing_spec_is_reported(scratch_set):
    ctx, folder = scratch_set
    (folder / "spec.md").unlink()
    with pytest.raises(ProblemError, match="spec.md: file is missing"):
        ctx.problems.load("cross_attention_mask")


def test_unknown_field_is_rejected():
    with pytest.raises(ValueError):
        Case.model_validate({"name": "x", "seed": 1, "sede": 2})
