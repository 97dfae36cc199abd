import json

import numpy as np
import pytest

from grader.sets import problems
from grader.model.errors import ProblemError, UnknownProblem
from grader.model.problem import Case

IDS = problems.problem_ids()


def test_the_five_seed_problems_are_there():
    assert set(IDS) >= {"mha_cross", "mha_self_attention", "mha_self", "cross_attention_block", "cross_attention_mask"}


@pytest.mark.parametrize("pid", IDS)
def test_problem_loads_and_cases_discriminate(pid):
    p = problems.load_problem(pid)
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
    p = problems.load_problem(pid)
    for case in p.cases:
        a, b = problems.make_inputs(p.meta, case), problems.make_inputs(p.meta, case)
        assert a.keys() == b.keys()
        for k in a:
            assert np.array_equal(np.asarray(a[k]), np.asarray(b[k]))
    other = problems.make_inputs(p.meta, p.cases[0].model_copy(update={"seed": p.cases[0].seed + 1}))
    first = problems.make_inputs(p.meta, p.cases[0])
    arrays = [k for k, v in first.items() if isinstance(v, np.ndarray)]
    assert any(not np.array_equal(first[k], other[k]) for k in arrays)


def test_cross_inputs_differ_in_length_and_content():
    p = problems.load_problem("mha_cross")
    assert any(c.dims["T_q"] != c.dims["T_kv"] for c in p.cases)
    x = problems.make_inputs(p.meta, p.cases[0])
    assert x["x_q"].shape != x["x_kv"].shape


def test_floats_arrive_where_the_spec_says():
    p = problems.load_problem("mha_self")
    x = problems.make_inputs(p.meta, p.cases[0])
    assert all(isinstance(x[k], float) for k in ("seed", "num_heads", "d_model"))


def test_padding_falls_in_different_places():
    p = problems.load_problem("cross_attention_mask")
    case = p.cases[0]
    ids = problems.make_inputs(p.meta, case)["encoder_ids"]
    pad = case.values.get("pad_id", 0)
    rows = ids == pad
    assert rows[0, -1] and not rows[0, 0]  # right padding
    assert rows[1, 0] and not rows[1, -1]  # left padding
    assert rows.any(axis=1).all() and (~rows).any(axis=1).all()
    nonzero = p.cases[2]
    assert nonzero.values["pad_id"] != 0
    assert not (problems.make_inputs(p.meta, nonzero)["encoder_ids"] == 0).any()


def test_unknown_problem_lists_valid_ids():
    with pytest.raises(UnknownProblem) as e:
        problems.load_problem("nope")
    assert "mha_cross" in str(e.value)


def test_a_valid_copy_loads(scratch_problem):
    assert problems.load_problem("cross_attention_mask").meta.function == "cross_attention_mask"


def test_malformed_metadata_names_file_and_field(scratch_problem):
    meta = json.loads((scratch_problem / "problem.json").read_text())
    meta["tolerance"]["rtol"] = -1
    (scratch_problem / "problem.json").write_text(json.dumps(meta))
    with pytest.raises(ProblemError, match=r"problem\.json: tolerance\.rtol"):
        problems.load_problem("cross_attention_mask")


def test_case_missing_a_dimension_names_the_case(scratch_problem):
    cases = json.loads((scratch_problem / "cases.json").read_text())
    del cases["cases"][1]["dims"]["S"]
    (scratch_problem / "cases.json").write_text(json.dumps(cases))
    with pytest.raises(ProblemError, match=r"cases\.json: cases\.1 .*dims\.S"):
        problems.load_problem("cross_attention_mask")


def test_missing_spec_is_reported(scratch_problem):
    (scratch_problem / "spec.md").unlink()
    with pytest.raises(ProblemError, match="spec.md: file is missing"):
        problems.load_problem("cross_attention_mask")


def test_unknown_field_is_rejected():
    with pytest.raises(ValueError):
        Case.model_validate({"name": "x", "seed": 1, "sede": 2})
