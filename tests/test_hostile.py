"""Hostile learners: what a learner crafts around its code (folders, links) changes no grade but its own."""

import csv
import json

import pytest
from conftest import HOSTILE, SUBMISSIONS, context, judge, strong_level

MASK = "cross_attention_mask"


def test_a_learner_folder_linked_to_the_reference_is_refused(tmp_path):
    cls = tmp_path / "class"
    (cls / "alice").mkdir(parents=True)
    (cls / "alice" / f"{MASK}.py").write_text((SUBMISSIONS / MASK / "correct_jax.py").read_text())
    reference_dir = context().problems.reference_path(MASK).parent  # holds cross_attention_mask.py
    (cls / "mallory").symlink_to(reference_dir, target_is_directory=True)
    out = tmp_path / "out"
    proc = judge("batch", str(cls), "--out", str(out), "--problems", MASK)
    assert proc.returncode == 0, proc.stderr
    with open(out / "grades.csv", newline="") as f:
        grades = {r["student"]: r for r in csv.DictReader(f)}
    assert grades["alice"]["status"] == "passed"
    assert grades["mallory"]["status"] == "error" and grades["mallory"]["score"] == "0"
    assert "links are not followed" in grades["mallory"]["message"]


def test_a_forged_results_json_never_reaches_gradescope(tmp_path):
    """At the process level (Gradescope's containers have no namespaces) a learner shares the judge's uid."""
    from grader.sandbox.policy import confinable

    if not confinable():
        pytest.skip("this kernel has no Landlock: the process level guards nothing here")
    results = tmp_path / "results" / "results.json"
    sub = tmp_path / "submission"
    sub.mkdir()
    (sub / f"{MASK}.py").write_text((HOSTILE / "forge_results.py").read_text().replace("/nonexistent", str(results)))
    proc = judge(
        "gradescope",
        "--submission-dir",
        str(sub),
        "--results",
        str(results),
        "--problems",
        MASK,
        "--sandbox",
        "process",
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(results.read_text())
    assert doc["score"] == 0 and "forged" not in doc["output"] and doc["tests"][0]["status"] == "failed"


def test_a_batch_grades_at_the_process_level_where_landlock_guards_it(tmp_path):
    from grader.sandbox.policy import confinable

    if not confinable():
        pytest.skip("this kernel has no Landlock")
    cls = tmp_path / "class"
    (cls / "alice").mkdir(parents=True)
    (cls / "alice" / f"{MASK}.py").write_text((SUBMISSIONS / MASK / "correct_jax.py").read_text())
    (cls / "mallory").mkdir()
    (cls / "mallory" / f"{MASK}.py").write_text((HOSTILE / "read_reference.py").read_text())
    out = tmp_path / "out"
    proc = judge("batch", str(cls), "--out", str(out), "--problems", MASK, "--sandbox", "process")
    assert proc.returncode == 0, proc.stderr
    with open(out / "grades.csv", newline="") as f:
        grades = {r["student"]: r for r in csv.DictReader(f)}
    assert grades["alice"]["status"] == "passed"
    assert grades["mallory"]["status"] == "wrong_answer", grades["mallory"]["message"]  # it found nothing


def test_a_huge_output_is_refused_before_the_judge_holds_it():
    """A 500 MB return per case took the judge from 52 MB to 1.48 GB, times the batch's workers."""
    import resource

    from grader import Limits, Status, grade

    with context() as ctx:
        grade(MASK, SUBMISSIONS / MASK / "correct_jax.py", context=ctx)  # the judge's own start, before measuring
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        result = grade(MASK, HOSTILE / "huge_output.py", limits=Limits(memory_mb=4096, time_s=60), context=ctx)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert result.status is Status.CRASHED and "more data than any answer needs" in result.cases[0].message
    assert grown_mb < 100, f"the judge grew by {grown_mb:.0f} MB"


def test_a_poisoned_expected_output_cache_is_recomputed_not_trusted(tmp_path, monkeypatch):
    """Where learners share the judge's uid unconfined, they can write its cache: entries are sealed."""
    monkeypatch.setenv("JUDGE_NO_LANDLOCK", "1")  # the worst case: the process level guards nothing
    monkeypatch.setenv("JUDGE_CACHE_DIR", str(tmp_path / "cache"))
    expected_dir = context().cache.expected_dir  # the cache the judge commands below use
    correct = SUBMISSIONS / MASK / "correct_jax.py"
    assert judge("run", MASK, "--file", str(correct), "--sandbox", "process").returncode == 0  # fills the cache
    poison = tmp_path / f"{MASK}.py"
    poison.write_text((HOSTILE / "poison_cache.py").read_text().replace("/nonexistent", str(expected_dir)))
    assert judge("run", MASK, "--file", str(poison), "--sandbox", "process").returncode == 1
    assert list(expected_dir.rglob("*.npy")), "the attack found the cache"
    zeros = tmp_path / "zeros.py"
    zeros.write_text(
        "import numpy as np\n\ndef cross_attention_mask(encoder_ids, decoder_len, pad_id=0):\n"
        "    return np.zeros((encoder_ids.shape[0], 1, decoder_len, encoder_ids.shape[1]))\n"
    )
    for level in ("process", strong_level()):
        assert judge("run", MASK, "--file", str(zeros), "--sandbox", level).returncode == 1
        assert judge("run", MASK, "--file", str(correct), "--sandbox", level).returncode == 0


def test_a_wrong_answer_is_diagnosed_from_sealed_sentences_and_a_forged_one_is_not_shown(tmp_path, monkeypatch):
    """A cached diagnosis needs neither the mistakes' module nor JAX; a sentence the judge did not seal is
    made again from the module, never shown."""
    import subprocess
    import sys

    from conftest import pitfall_submission

    monkeypatch.setenv("JUDGE_CACHE_DIR", str(tmp_path / "cache"))
    pid = "mha_self"
    with context() as ctx:  # the cache the judge commands below use
        expected_dir = ctx.cache.expected_dir
        name, sentence = next(iter(ctx.problems.pitfall_messages(ctx.problems.load(pid)).items()))
    wrong = pitfall_submission(pid, name, tmp_path)
    first = judge("run", pid, "--file", str(wrong))
    assert first.returncode == 1 and sentence in " ".join(first.stdout.split()), first.stdout
    probe = (  # the grading a wrong answer gets, in a fresh judge process
        "import json, sys\n"
        "from grader import Context, grade\n"
        "with Context.from_environment() as ctx:\n"
        f"    result = grade({pid!r}, {str(wrong)!r}, context=ctx)\n"
        f"    said = ctx.problems.pitfall_messages(ctx.problems.load({pid!r}))\n"
        "print(json.dumps({'said': said, 'message': result.message, 'jax': 'jax' in sys.modules}))\n"
    )
    cached = json.loads(subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True).stdout)
    assert sentence in cached["message"] and cached["said"][name] == sentence and not cached["jax"]
    (stored,) = expected_dir.glob("messages/*.json")  # mha_self's mistakes' sentences, sealed
    stored.write_text(json.dumps({n: "FORGED" for n in cached["said"]}))
    made_again = json.loads(subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True).stdout)
    assert made_again["said"] == cached["said"] and made_again["jax"] and "FORGED" not in made_again["message"]


def test_hidden_inputs_never_reach_public_feedback():
    """Learner code at import read every case's inputs, hidden ones too, and raised them in public case 0."""
    from grader import grade
    from grader.render.gradescope import document

    with context() as ctx:
        result = grade(MASK, HOSTILE / "leak_hidden.py", hidden_seed="s3cret", context=ctx)
    public = [c for c in result.cases if not c.hidden]
    hidden_keys = {f"{c.index}." for c in result.cases if c.hidden}
    first = public[0].message
    assert first.startswith("RuntimeError: SEEN") and "0.encoder_ids" in first  # it did look, and saw its own
    assert not any(k in msg for msg in (c.message for c in public) for k in hidden_keys), first
    assert result.stdout.count("INPUTS") == len(public)  # the hidden cases' prints are not kept
    shown = json.dumps(document([result], show_hidden=False))
    assert not any(f'"{k}' in shown or f" {k}" in shown for k in hidden_keys)


def test_cpu_hogs_do_not_time_out_their_neighbours(tmp_path):
    """Forking busy loops at import made an innocent neighbour time out; a timeout is final only graded alone."""
    from grader import Limits, Status
    from grader.api import batch

    cls = tmp_path / "class"
    correct = (SUBMISSIONS / "mha_cross" / "correct_keywords.py").read_text()
    for name in ("a1", "a2", "alice", "bob", "carol"):  # the hogs sort first: alice runs beside both
        (cls / name).mkdir(parents=True)
        text = (HOSTILE / "cpu_hog.py").read_text() if name in ("a1", "a2") else correct
        (cls / name / "mha_cross.py").write_text(text)
    limits = Limits(time_s=4, import_s=4)
    with context() as ctx:
        report = batch(cls, tmp_path / "out", context=ctx, problem_ids=["mha_cross"], workers=3, limits=limits)
    assert {s: r.status for (s, _), r in report.results.items()} == {
        "a1": Status.TIMEOUT,
        "a2": Status.TIMEOUT,
        "alice": Status.PASSED,
        "bob": Status.PASSED,
        "carol": Status.PASSED,
    }


def test_gradescope_says_which_level_graded_and_refuses_one_that_guards_nothing(tmp_path, monkeypatch):
    from grader.sandbox.policy import confinable

    if not confinable():
        pytest.skip("this kernel has no Landlock")
    sub = tmp_path / "submission"
    sub.mkdir()
    (sub / f"{MASK}.py").write_text((SUBMISSIONS / MASK / "correct_jax.py").read_text())
    results = tmp_path / "results.json"
    args = ("gradescope", "--submission-dir", str(sub), "--results", str(results), "--problems", MASK)
    proc = judge(*args, "--sandbox", "process")
    assert proc.returncode == 0, proc.stderr
    assert "sandbox: process, confined by Landlock" in json.loads(results.read_text())["extra_data"]["sandbox"]
    monkeypatch.setenv("JUDGE_NO_LANDLOCK", "1")  # as in a container on a kernel without Landlock
    results.unlink()
    refused = judge(*args, "--sandbox", "process")
    assert refused.returncode == 2 and "refusing to grade" in refused.stderr and not results.exists()
    allowed = judge(*args, "--sandbox", "process", "--allow-weak-sandbox")
    assert allowed.returncode == 0 and "process, unconfined" in json.loads(results.read_text())["extra_data"]["sandbox"]
