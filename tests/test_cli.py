"""The real `judge` entry point: exit codes, one JSON document, usage errors."""

from conftest import SUBMISSIONS, context, judge, judge_json

MASK = "cross_attention_mask"


def test_list_shows_every_problem_on_its_own_line():
    proc = judge("list")
    assert proc.returncode == 0
    lines = proc.stdout.strip().splitlines()
    assert [line.split()[0] for line in lines] == context().problems.ids()


def test_show_renders_the_spec():
    proc = judge("show", "cross_attention_block")
    assert proc.returncode == 0 and "LayerNorm" in proc.stdout and "cross_attention_block" in proc.stdout
    # into a pipe: the spec's Markdown as written, never padded with spaces to a terminal's width
    assert proc.stdout == context().problems.load("cross_attention_block").spec_path.read_text()


def test_init_writes_the_stub_and_never_overwrites(tmp_path):
    assert judge("init", MASK, cwd=tmp_path).returncode == 0
    stub = tmp_path / f"{MASK}.py"
    assert stub.read_text() == context().problems.load(MASK).stub_path.read_text()
    stub.write_text("# my work")
    proc = judge("init", MASK, cwd=tmp_path)
    assert proc.returncode == 2 and "already exists" in proc.stderr
    assert stub.read_text() == "# my work"


def test_run_defaults_to_the_file_named_after_the_problem(tmp_path):
    (tmp_path / f"{MASK}.py").write_text((SUBMISSIONS / MASK / "correct_jax.py").read_text())
    proc = judge("run", MASK, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "PASSED 4/4: all 4 public cases passed" in proc.stdout


def test_passing_run_json():
    code, doc = judge_json("run", MASK, "--file", str(SUBMISSIONS / MASK / "correct_jax.py"))
    assert code == 0
    assert doc["passed"] is True and doc["status"] == "passed" and doc["score"] == doc["max_score"] == 4
    for key in ("problem", "message", "cases", "replay"):
        assert key in doc
    assert doc["replay"]["seeds"] == [c.seed for c in context().problems.load(MASK).cases]


def test_wrong_answer_exits_1_with_mismatch_details(tmp_path):
    path = tmp_path / "inverted.py"
    path.write_text(
        "import numpy as np\n\ndef cross_attention_mask(encoder_ids, decoder_len, pad_id=0):\n"
        "    keep = (encoder_ids == pad_id).astype(float)\n"
        "    return np.repeat(keep[:, None, None, :], decoder_len, axis=2)\n"
    )
    code, doc = judge_json("run", MASK, "--file", str(path))
    assert code == 1 and doc["status"] == "wrong_answer" and doc["passed"] is False
    case = doc["cases"][0]
    assert case["mismatch_index"] is not None and case["got"] != case["expected"]
    proc = judge("run", MASK, "--file", str(path))
    assert proc.returncode == 1 and "WRONG ANSWER 0/4: 0 of 4 cases passed" in proc.stdout
    assert "first at index" in proc.stdout
    assert "Likely mistake: Your output matches the mask inverted" in " ".join(proc.stdout.split())


def test_exception_shows_the_learners_traceback_not_the_judges(tmp_path):
    path = tmp_path / "oops.py"
    path.write_text(
        "def helper(x):\n    return x / 0\n\n\ndef cross_attention_mask(encoder_ids, decoder_len, pad_id=0):\n"
        "    return helper(1)\n"
    )
    proc = judge("run", MASK, "--file", str(path))
    assert proc.returncode == 1
    assert "ZeroDivisionError" in proc.stdout and "line 2, in helper" in proc.stdout
    assert "grader" not in proc.stdout + proc.stderr and "Traceback" not in proc.stderr


def test_unknown_problem_is_a_usage_error_listing_valid_ids():
    proc = judge("run", "no_such_problem")
    assert proc.returncode == 2
    assert "unknown problem" in proc.stderr and "mha_cross" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_missing_file_is_a_usage_error_even_with_json(tmp_path):
    code, doc = judge_json("run", MASK, "--file", str(tmp_path / "absent.py"))
    assert code == 2 and doc["status"] == "usage_error" and MASK in doc["valid_ids"]


def test_unreadable_file_is_a_usage_error_not_a_traceback(tmp_path):
    proc = judge("run", MASK, "--file", str(tmp_path / ("x" * 300 + ".py")))  # a name too long to stat
    assert proc.returncode == 2 and "cannot read" in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_bad_limit_is_a_usage_error():
    proc = judge("run", MASK, "--memory-limit", "100", "--file", str(SUBMISSIONS / MASK / "correct_jax.py"))
    assert proc.returncode == 2 and "memory" in proc.stderr.lower()


def test_unknown_sandbox_level_is_a_usage_error():
    proc = judge("run", MASK, "--sandbox", "docker", "--file", str(SUBMISSIONS / MASK / "correct_jax.py"))
    assert proc.returncode == 2 and "sandbox" in proc.stderr


def test_json_output_is_valid_even_when_the_learner_prints(tmp_path):
    path = tmp_path / "chatty.py"
    path.write_text((SUBMISSIONS / MASK / "correct_jax.py").read_text() + "\nprint('{\"passed\": true}')\n")
    code, doc = judge_json("run", MASK, "--file", str(path))
    assert code == 0 and doc["stdout"] == '{"passed": true}\n' and doc["status"] == "passed"
