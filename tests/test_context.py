"""Explicit context: two problem sets and two caches used side by side in one process, nothing read from the
environment deep inside.

A course's problem may reuse a built-in id with another reference: each context grades against its own set, and
keeps its expected outputs in its own cache, even when both grade at the same time in one process.
"""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from conftest import ROOT, SUBMISSIONS, strong_level

from grader import api
from grader.context import Context
from grader.model.cache import Cache
from grader.model.verdict import Status
from grader.sets.store import SourceSet

MASK = "cross_attention_mask"
CORRECT = SUBMISSIONS / MASK / "correct_jax.py"  # right by the built-in spec: 1 where a key is a real token
INVERTED_SOURCE = """import numpy as np


def cross_attention_mask(encoder_ids, decoder_len, pad_id=0):
    keep = (np.asarray(encoder_ids) == pad_id).astype(np.float32)
    return np.repeat(keep[:, None, None, :], decoder_len, axis=2)
"""  # 1 where a key is padding

# The course's spec says the opposite of the built-in one: its mask marks the padding.
COURSE_REFERENCE = """import numpy as np


def cross_attention_mask(encoder_ids, decoder_len, pad_id=0):
    pad = (np.asarray(encoder_ids) == pad_id).astype(np.float64)
    n, s = pad.shape
    return np.broadcast_to(pad[:, None, None, :], (n, 1, int(decoder_len), s)).copy()
"""


def inverted(folder: Path) -> Path:
    (folder / "inverted").mkdir()
    path = folder / "inverted" / f"{MASK}.py"
    path.write_text(INVERTED_SOURCE)
    return path


def course(root: Path) -> Path:
    """A course set whose cross_attention_mask (the built-in id) expects the padding marked, not the tokens."""
    shutil.copytree(ROOT / "problems" / MASK, root / "problems" / MASK)
    (root / "reference" / "pitfalls").mkdir(parents=True)
    (root / "reference" / f"{MASK}.py").write_text(COURSE_REFERENCE)
    return root


def test_two_sets_and_two_caches_side_by_side_in_one_process(tmp_path, monkeypatch):
    monkeypatch.setenv("JUDGE_PROBLEMS", str(tmp_path / "nowhere"))  # read by nothing: the contexts say it all
    monkeypatch.setenv("JUDGE_CACHE_DIR", str(tmp_path / "nor-here"))
    level = strong_level()
    built_in_cache, course_cache = Cache.under(tmp_path / "cache-a"), Cache.under(tmp_path / "cache-b")
    built_in = Context(SourceSet(ROOT, built_in_cache), built_in_cache, level)
    theirs = Context(SourceSet(course(tmp_path / "course"), course_cache), course_cache, level)
    files = (CORRECT, inverted(tmp_path))
    jobs = [(ctx, path) for ctx in (built_in, theirs) for path in files]
    with built_in, theirs, ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda job: api.grade(MASK, job[1], context=job[0]), jobs))
    statuses = [r.status for r in results]
    assert statuses == [Status.PASSED, Status.WRONG_ANSWER, Status.WRONG_ANSWER, Status.PASSED], [
        r.message for r in results
    ]
    for cache in (built_in_cache, course_cache):  # each set's expected outputs in its own cache, nowhere else
        assert list((cache.expected_dir / MASK).glob("*.npy")), cache
    assert not (tmp_path / "nor-here").exists()
    a = {p.name for p in (built_in_cache.expected_dir / MASK).glob("*.npy")}
    b = {p.name for p in (course_cache.expected_dir / MASK).glob("*.npy")}
    assert a.isdisjoint(b)  # the references differ, so do the keys of their outputs


def test_a_library_call_without_a_context_uses_the_one_the_environment_names(tmp_path, monkeypatch):
    """The one place that reads the environment is Context.from_environment; grade() without a context uses it."""
    monkeypatch.setenv("JUDGE_PROBLEMS", str(course(tmp_path / "course")))
    path = inverted(tmp_path)
    result = api.grade(MASK, path, sandbox=strong_level())
    assert result.status is Status.PASSED, result.message
    monkeypatch.delenv("JUDGE_PROBLEMS")
    assert api.grade(MASK, path, sandbox=strong_level()).status is Status.WRONG_ANSWER
