"""Executors behind one interface: a task any executor loses has the same cases and max_score as a grading.

No sandbox and no JAX here: the tasks fail before anything runs.
"""

import sys
import types

import pytest
from conftest import context

from grader.batch import executors, tasks
from grader.batch.tasks import Options, Task
from grader.grading.submission import Submission
from grader.model.errors import UsageError
from grader.model.verdict import Fault, FaultKind, Refusal, Status

MASK = "cross_attention_mask"
SOURCE = Submission(
    f"zoe/{MASK}.py", b"def cross_attention_mask(encoder_ids, decoder_len, pad_id=0):\n    return None\n"
)


def options(ctx) -> Options:
    return Options(str(ctx.problems.root), str(ctx.cache.root), ctx.cache.xla_flags, "process")


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


def test_a_ray_failed_task_has_the_cases_of_a_local_grading(monkeypatch):
    fake_ray(monkeypatch)
    ctx = context()
    with executors.open_executor("ray") as run:
        [(task, result)] = list(run([Task("zoe", MASK, SOURCE)], options(ctx), 1, ctx))
    assert result.max_score == len(ctx.problems.load(MASK).cases) == 4
    assert result.status is Status.INTERNAL_ERROR and result.fault is not None
    assert (result.fault.kind, result.fault.error) == (FaultKind.EXECUTOR_FAILED, "Ray")
    assert "the Ray task failed" in result.message and "The worker died unexpectedly" in result.message
    assert result.submission == f"zoe/{MASK}.py" and result.replay is not None and result.replay.sandbox == "process"


def test_a_locally_failed_task_is_built_the_same_way(monkeypatch):
    def broken(task, context, options):
        raise RuntimeError("boom")

    monkeypatch.setattr(executors, "grade_task", broken)
    ctx = context()
    [(_, result)] = list(executors.run_local([Task("zoe", MASK, SOURCE)], options(ctx), 1, ctx))
    assert result.max_score == 4 and result.status is Status.INTERNAL_ERROR and "local task failed" in result.message


@pytest.mark.parametrize(
    "refused,status,text",
    [
        (None, Status.MISSING, "no file handed in"),
        (
            Fault(kind=FaultKind.REFUSED, error=Refusal.NOT_A_FILE.value, file="x.py"),
            Status.ERROR,
            "not a regular file",
        ),
    ],
)
def test_tasks_without_a_file_count_every_case_and_keep_the_level(refused, status, text):
    ctx = context()
    task = Task("zoe", MASK, Submission(f"zoe/{MASK}.py", None, refused=refused))
    result = tasks.grade_task(task, ctx, options(ctx))
    assert result.status is status and text in result.message and result.max_score == 4 and result.score == 0
    assert result.replay is not None and result.replay.sandbox == "process"


def test_executors_are_chosen_by_name():
    with executors.open_executor("local") as run:
        assert run is executors.run_local
    with pytest.raises(UsageError, match="unknown executor 'dask'"):
        executors.open_executor("dask")


@pytest.mark.parametrize("address,most", [(None, 2), ("ray://head:10001", 5)])
def test_the_ray_executor_keeps_workers_tasks_in_flight_on_a_cluster_of_its_own(monkeypatch, address, most):
    """Without an address it starts a local cluster of --workers CPUs and keeps that many tasks in flight, so a
    batch's second pass grades alone; a cluster of the instructor's schedules every task at once. Leaving the
    executor's block disconnects, once, whether the block ends or raises."""
    fake_ray(monkeypatch)
    ray, inits, shutdowns, in_flight = sys.modules["ray"], [], [], []
    ray.init = lambda **kw: inits.append(kw)
    ray.shutdown = lambda: shutdowns.append(1)
    wait = ray.wait
    ray.wait = lambda pending, num_returns=1: (in_flight.append(len(pending)), wait(pending, num_returns))[1]
    ctx = context()
    five = [Task(f"learner{i}", MASK, SOURCE) for i in range(5)]
    with executors.open_executor("ray", address) as run:
        assert len(list(run(five, options(ctx), 2, ctx))) == 5
        assert len(list(run(five[:1], options(ctx), 1, ctx))) == 1
        assert shutdowns == []
    assert max(in_flight) == most and len(inits) == 1 and shutdowns == [1]
    assert inits[0]["address"] == (address or "local") and inits[0]["num_cpus"] == (None if address else 2)
    with pytest.raises(KeyboardInterrupt):
        with executors.open_executor("ray", address) as run:
            next(iter(run(five, options(ctx), 2, ctx)))
            raise KeyboardInterrupt
    assert len(inits) == 2 and shutdowns == [1, 1]


def test_missing_ray_says_how_to_install(monkeypatch):
    monkeypatch.setattr(executors, "ray_available", lambda: False)
    with pytest.raises(UsageError, match=r"pip install 'judge\[ray\]'"):
        executors.open_executor("ray")
