"""Executors behind one interface: a task any executor loses has the same cases and max_score as a grading."""

import sys
import types

import pytest

from grader.batch import executors
from grader.sets import problems
from grader.batch import tasks
from grader.model.errors import UsageError
from grader.model.problem import Status
from grader.batch.tasks import Options, Task

MASK = "cross_attention_mask"
SOURCE = b"def cross_attention_mask(encoder_ids, decoder_len, pad_id=0):\n    return None\n"


def fake_ray(monkeypatch):
    """A stand-in for Ray whose every task fails, as a lost node or a broken worker does."""
    ray = types.ModuleType("ray")

    class Ref:
        pass

    ray.init = lambda **kw: None
    ray.shutdown = lambda: None
    ray.cancel = lambda ref, force=False: None
    ray.remote = lambda **kw: lambda fn: types.SimpleNamespace(remote=lambda *a: Ref())
    ray.wait = lambda pending, num_returns=1: (pending[:1], pending[1:])

    def get(ref):
        raise RuntimeError("ray.exceptions.WorkerCrashedError: the worker died\nThe worker died unexpectedly")

    ray.get = get
    monkeypatch.setitem(sys.modules, "ray", ray)
    monkeypatch.setattr(executors, "ray_available", lambda: True)


def test_a_ray_failed_task_has_the_max_score_of_a_local_grading_with_a_hidden_seed(monkeypatch):
    fake_ray(monkeypatch)
    options = Options(level="process", hidden_seed="s3cret")
    [(task, result)] = list(executors.get_executor("ray")([Task("zoe", MASK, SOURCE)], options, 1))
    local_cases = problems.grading_cases(problems.load_problem(MASK), "s3cret")
    assert result.max_score == len(local_cases) == 7 and sum(c.hidden for c in result.cases) == 3
    assert result.status is Status.INTERNAL_ERROR and "the Ray task failed" in result.message
    assert "The worker died unexpectedly" in result.message and result.submission == f"zoe/{MASK}.py"


def test_a_locally_failed_task_is_built_the_same_way(monkeypatch):
    def broken(task, options):
        raise RuntimeError("boom")

    monkeypatch.setattr(executors, "run_task", broken)
    options = Options(level="process", hidden_seed="s3cret")
    [(_, result)] = list(executors.run_local([Task("zoe", MASK, SOURCE)], options, 1))
    assert result.max_score == 7 and result.status is Status.INTERNAL_ERROR and "local task failed" in result.message


@pytest.mark.parametrize(
    "task,status,text",
    [
        (Task("zoe", MASK, None), Status.MISSING, "no file handed in"),
        (Task("zoe", MASK, None, "x.py is not a regular file"), Status.ERROR, "not a regular file"),
    ],
)
def test_tasks_without_a_file_count_every_case_hidden_ones_too(task, status, text):
    result = tasks.grade_submission(task, level="process", hidden_seed="s3cret")
    assert result.status is status and text in result.message and result.max_score == 7 and result.score == 0


def test_executors_are_chosen_by_name():
    assert executors.get_executor("local") is executors.run_local
    with pytest.raises(UsageError, match="unknown executor 'dask'"):
        executors.get_executor("dask")


def test_missing_ray_says_how_to_install(monkeypatch):
    monkeypatch.setattr(executors, "ray_available", lambda: False)
    with pytest.raises(UsageError, match=r"pip install 'judge\[ray\]'"):
        executors.get_executor("ray")
