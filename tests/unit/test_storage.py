"""One fingerprint for every key, one atomic write, and a batch resume key that knows the judge and its sandbox."""

import json
import os

import pytest

from conftest import context

from grader.batch import run as batch
from grader.batch.tasks import Options, Task
from grader.grading.submission import Submission
from grader.model import storage
from grader.model.cache import Cache
from grader.model.verdict import Result, Status
from grader.sets.answers import Answers

MASK = "cross_attention_mask"


def test_fingerprints_depend_on_every_part_and_its_boundaries():
    assert storage.fingerprint("a", b"b") == storage.fingerprint(b"a", "b")
    assert (
        len(
            {
                storage.fingerprint("ab", "c"),
                storage.fingerprint("a", "bc"),
                storage.fingerprint("abc"),
                storage.fingerprint("c", "ab"),
            }
        )
        == 4
    )


def test_atomic_write_replaces_and_leaves_no_temp_file(tmp_path):
    path = tmp_path / "deep" / "x.json"
    storage.atomic_write(path, b"one")
    storage.atomic_write(path, b"two")
    assert path.read_bytes() == b"two" and os.listdir(path.parent) == ["x.json"]


def test_a_failed_atomic_write_keeps_the_old_content(tmp_path, monkeypatch):
    path = tmp_path / "x.json"
    storage.atomic_write(path, b"old")

    def broken(*a):
        raise OSError("disk full")

    monkeypatch.setattr(storage.os, "replace", broken)
    with pytest.raises(OSError):
        storage.atomic_write(path, b"new")
    assert path.read_bytes() == b"old" and os.listdir(tmp_path) == ["x.json"]


def key(task: Task, **options) -> str:
    ctx = context()
    where = {"set_root": str(ctx.problems.root), "cache_root": str(ctx.cache.root), "xla_flags": ctx.cache.xla_flags}
    return batch._key(ctx, task, Options(**{**where, "level": "bwrap", **options}))


def hand_in(source: bytes) -> Task:
    return Task("ann", MASK, Submission(f"ann/{MASK}.py", source))


def test_the_resume_key_changes_with_the_judges_version(monkeypatch):
    task = hand_in(b"x = 1\n")
    before = key(task)
    assert key(task) == before  # stable
    monkeypatch.setattr(batch, "judge_version", lambda: "99.0")
    assert key(task) != before


@pytest.mark.parametrize("change", [{"level": "process"}, {"hidden_seed": "s"}])
def test_the_resume_key_changes_with_the_sandbox_level_and_the_secret(change):
    task = hand_in(b"x = 1\n")
    assert key(task, **change) != key(task)
    assert key(hand_in(b"x = 2\n")) != key(task)


def test_resume_regrades_a_result_stored_under_another_judge_or_level(tmp_path, monkeypatch):
    task = hand_in(b"x = 1\n")
    result = Result(problem=MASK, submission="ann/x.py", status=Status.PASSED, message="ok")
    path = tmp_path / "stored.json"
    batch._save(path, key(task), result)
    assert batch._load(path, key(task)) == result
    assert batch._load(path, key(task, level="process")) is None
    monkeypatch.setattr(batch, "judge_version", lambda: "99.0")
    assert batch._load(path, key(task)) is None
    assert json.loads(path.read_text())["result"]["status"] == "passed"


def test_expected_outputs_are_written_atomically_under_a_fingerprint(tmp_path):
    import numpy as np

    answers = Answers(Cache.under(tmp_path))
    ctx = context()
    p, reference = ctx.problems.load(MASK), ctx.problems.reference_path(MASK)
    out = answers._cached(p, p.cases[0], reference, "v", lambda: np.ones(3))
    files = list(tmp_path.rglob("*"))
    npy = [f for f in files if f.is_file() and f.name != "key"]  # key: the judge's seal (see test_sealed)
    assert len(npy) == 1 and npy[0].suffix == ".npy"
    sealed = npy[0].read_bytes()
    assert (answers._cached(p, p.cases[0], reference, "v", lambda: np.zeros(3)) == out).all()  # read back
    assert sealed.startswith(b"judge-sealed-v1")
