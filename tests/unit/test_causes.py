"""Why code raised, in the learner's terms, and only where the facts hold on every case it is said of."""

from conftest import context

from grader.grading.causes import removed_api, sizes_differ
from grader.model.verdict import CauseKind, Fault, FaultKind
from grader.render import wording

SDPA = "scaled_dot_product_attention"  # q (H, T_q, d_k), k (H, T_k, d_k), v (H, T_k, d_v)


def raised(error: str, text: str) -> Fault:
    return Fault(kind=FaultKind.RAISED, error=error, text=text)


def test_a_keyword_the_installed_jax_removed_names_its_replacement():
    cause = removed_api(raised("TypeError", "clip() got an unexpected keyword argument 'a_max'"))
    assert cause is not None and cause.kind is CauseKind.REMOVED_KEYWORD
    assert (cause.function, cause.name, cause.replacement) == ("clip", "a_max", "max")
    assert "no longer takes `clip`'s keyword `a_max`: use `max=` instead" in wording.cause(cause)


def test_a_name_the_installed_jax_removed_names_its_replacement():
    cause = removed_api(raised("AttributeError", "module 'jax' has no attribute 'tree_map'"))
    assert cause is not None and cause.replacement == "jax.tree.map"


def test_an_unknown_keyword_or_another_error_has_no_cause():
    assert removed_api(raised("TypeError", "clip() got an unexpected keyword argument 'lower'")) is None
    assert removed_api(raised("ValueError", "clip() got an unexpected keyword argument 'a_max'")) is None
    assert removed_api(raised("AttributeError", "module 'jax' has no attribute 'no_such_thing'")) is None


def test_sizes_assumed_equal_only_where_the_error_names_both_and_equal_sizes_ran():
    problem = context().problems.load(SDPA)
    cases = list(problem.cases)  # 0: d_k 4, d_v 6; 1: d_k 8, d_v 2; 2: d_k 16, d_v 4; 3: d_k = d_v = 4
    faults = {
        0: raised("ValueError", "value shape should be [1, 5, 2, 4]: but got (1, 5, 2, 6)"),
        1: raised("TypeError", "add got incompatible shapes for broadcasting: (3, 4, 8), (3, 4, 2)"),
    }
    found = sizes_differ(problem, cases, faults)
    assert set(found) == {0, 1}
    assert wording.cause(found[0]) == "your code assumes v has the same last axis as k; here d_v = 6 and d_k = 4"
    # an error that does not name both sizes is not said to come from them
    assert sizes_differ(problem, cases, {0: raised("ValueError", "bad shape (1, 5)")}) == {}
    # code that raises where d_k == d_v too has another cause
    equal_too = {**faults, 3: raised("ValueError", "shape mismatch (2, 5, 4) and (2, 3, 4)")}
    assert sizes_differ(problem, cases, equal_too) == {}


def test_google_colab_is_said_to_exist_only_in_colab_and_no_other_module_is():
    cause = removed_api(raised("ModuleNotFoundError", "No module named 'google.colab'"))
    assert cause is not None and cause.kind is CauseKind.COLAB_ONLY and cause.name == "google.colab"
    assert "exists only in Colab" in wording.cause(cause) and "statement of its own" in wording.cause(cause)
    assert removed_api(raised("ModuleNotFoundError", "No module named 'googlemaps'")) is None
    assert removed_api(raised("ModuleNotFoundError", "No module named 'torch'")) is None
