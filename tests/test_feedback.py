"""What a learner reads: the terminal at 80/120/160 columns, visible control characters, the fix in each message."""

import io
import json
import os
import re
import shlex
import subprocess
import traceback

import pytest
from conftest import SUBMISSIONS, context, judge_command
from rich.console import Console

from grader.api import grade
from grader.grading.submission import decode_source
from grader.model.errors import Unreadable
from grader.model.verdict import (
    CaseResult,
    Diagnosis,
    DiagnosisKind,
    Fault,
    FaultKind,
    Replay,
    Result,
    Status,
)
from grader.render import wording
from grader.render.gradescope import document as gradescope_doc
from grader.render.terminal import clip, render, split_stderr
from grader.render.textsafe import visible

MASK, SDPA, MHA = "cross_attention_mask", "scaled_dot_product_attention", "mha_cross"
ESC_TITLE = "\x1b]0;pwned"  # a window title without its terminator: a terminal swallows what follows
LONG_NAME = "decoder longer than source with scattered padding and a pad_id that is not zero at all"


def shown(result: Result, width: int) -> str:
    """What `render` prints on a console of `width` columns (no colours: the text as a pipe gets it)."""
    buf = io.StringIO()
    render(result, Console(file=buf, width=width, color_system=None, force_terminal=False))
    return buf.getvalue()


def result_of(cases: list[CaseResult], status: Status, message: str = "", **kw) -> Result:
    replay = Replay(problem=MASK, problem_version=1, seeds=[c.seed for c in cases], versions={}, sandbox="bwrap")
    return Result(
        problem=MASK,
        submission="work/cross_attention_mask.py",
        status=status,
        message=message,
        cases=cases,
        replay=replay,
        **kw,
    )


WRONG_MESSAGE = (
    "90 of 90 values differ beyond rtol=0, atol=1e-06 (max abs error 1.2345678); first at index "
    "(0, 0, 0, 0): got 0.123456789, expected 1.00000123"
)


def wrong_result() -> Result:
    cases = [
        CaseResult(
            index=0,
            name="default pad_id, padding right",
            seed=1,
            status=Status.PASSED,
            max_abs_err=0.0,
            max_rel_err=0.0,
            shape=[3, 1, 5, 6],
            expected_shape=[3, 1, 5, 6],
        ),
        CaseResult(
            index=1,
            name=LONG_NAME,
            seed=2,
            status=Status.WRONG_ANSWER,
            message=WRONG_MESSAGE,
            max_abs_err=1.2345678,
            max_rel_err=0.0,
            shape=[4, 1, 7, 4],
            expected_shape=[4, 1, 7, 4],
            mismatch_index=[0, 0, 0, 0],
            got=0.123456789,
            expected=1.00000123,
        ),
        CaseResult(
            index=2,
            name="pad_id 5",
            seed=3,
            status=Status.WRONG_ANSWER,
            message="other details",
            shape=[5, 1, 3, 7],
            expected_shape=[5, 1, 3, 7],
            max_rel_err=0.0,
        ),
        CaseResult(index=3, name="hidden 1", seed=4, hidden=True, status=Status.PASSED),
    ]
    factor = Diagnosis(kind=DiagnosisKind.FACTOR, case=1, factor=1.01)
    return result_of(
        cases,
        Status.WRONG_ANSWER,
        "2 of 4 cases passed",
        diagnosis=wording.diagnosis(factor),
        mistake=factor,
        time_s=0.5,
    )


@pytest.mark.parametrize("width", [80, 120, 160])
def test_one_line_per_case_details_under_the_first_failure_nothing_cut(width):
    text = shown(wrong_result(), width)
    lines = text.splitlines()
    assert all(len(line) <= width for line in lines), [line for line in lines if len(line) > width]
    case_rows = [line for line in lines if re.match(r"^  \d  ", line)]
    assert [row.split()[0] for row in case_rows] == ["0", "1", "2", "3"]  # one row per case, in order
    assert case_rows[0].rstrip().endswith("passed") and case_rows[1].rstrip().endswith("wrong answer")
    words = text.split()
    for token in WRONG_MESSAGE.split() + LONG_NAME.split():  # every word and number whole
        assert token in words, (token, width)
    assert "other details" not in text  # details of the first failing case only
    assert text.index("1.00000123") < text.index("  2  pad_id 5")  # under its own case
    assert "hidden 1 (hidden)" not in text and "hidden 1" in text
    assert "max rel err" not in text and "sandbox" not in text
    assert lines[-1].startswith("WRONG ANSWER 2/4: 2 of 4 cases passed")
    hint = [line for line in lines if line.startswith("Hint:")]
    assert hint and "Likely mistake" not in text


def test_at_80_columns_short_case_names_stay_on_one_line():
    text = shown(wrong_result(), 80)
    assert "  0  default pad_id, padding right" in text and "\n  2  pad_id 5" in text
    assert len(text.splitlines()) <= 14


def test_control_characters_are_visible_and_markup_is_not_read():
    hostile = f"{ESC_TITLE} [bold]x[/bold] pip install 'judge[ray]'\r\x9b2J\u202egnp.exe"
    cases = [
        CaseResult(
            index=0,
            name=f"case {ESC_TITLE}",
            seed=1,
            status=Status.ERROR,
            fault=Fault(kind=FaultKind.RAISED, error="ValueError", text=hostile),
            message=f"ValueError: {hostile}",
            traceback=f"Traceback (your code, most recent call last):\nValueError: {hostile}",
        )
    ]
    result = result_of(
        cases + [CaseResult(index=1, name="b", seed=2, status=Status.PASSED)],
        Status.ERROR,
        "1 of 2",
        stdout=hostile + "\n",
        stderr=hostile,
    )
    text = shown(result, 80)
    assert "\x1b" not in text and "\r" not in text and "\x9b" not in text and "\u202e" not in text
    assert "\\x1b]0;pwned" in text and "\\x0d" in text and "\\u202e" in text
    assert "pip install 'judge[ray]'" in text and "[bold]x[/bold]" in text
    assert text.rstrip().splitlines()[-1].startswith("ERROR 1/2")  # the verdict survives, last


def test_visible_keeps_newlines_and_tabs():
    assert visible("a\tb\nc") == "a\tb\nc"
    assert visible("\x1b[2J\x00\x7f") == "\\x1b[2J\\x00\\x7f"


def test_clip_cuts_at_a_line_end_and_says_how_much_is_left():
    text = "".join(f"line {i}\n" for i in range(100))
    out = clip(text, max_chars=2000, max_lines=10)
    assert out.splitlines()[9] == "line 9" and "line 10" not in out
    assert out.splitlines()[-1] == "[... 90 more lines (720 characters) not shown]"
    assert clip("short\n") == "short\n"
    huge = clip("word " * 1000, max_chars=100)
    assert huge.splitlines()[0].endswith("word") and "more characters not shown" in huge


def test_the_error_line_is_printed_once_without_jax_footer():
    """The traceback is made where the learner's code raised (grader/child/runner.py) and worded by the judge:
    an exception as JAX raises it from traced code, with its "removed its internal frames" note."""
    from grader.child.runner import Places, fault_of
    from grader.grading.runners import from_child

    def f(x, y):
        error = TypeError("dot_general requires contracting dimensions to have the same shape, got (4,) and (5,).")
        error.add_note(
            "--------------------\nFor simplicity, JAX has removed its internal frames from the traceback of the "
            "following exception. Set JAX_TRACEBACK_FILTERING=off to include these."
        )
        raise error

    with pytest.raises(TypeError) as raised:
        f(1, 2)
    assert "For simplicity" in "".join(traceback.format_exception_only(raised.value))  # JAX's note is there
    fault, tb = from_child(fault_of(raised.value, lambda filename: filename == __file__, Places(__file__)), "a.py", "f")
    case = CaseResult(index=0, name="a", seed=1, status=Status.ERROR, fault=fault, traceback=tb)
    cases = [
        case.model_copy(update={"message": wording.case_message(case)}),
        CaseResult(index=1, name="b", seed=2, status=Status.PASSED),
    ]
    text = shown(result_of(cases, Status.ERROR, cases[0].message), 120)
    assert text.count("dot_general requires") == 1 and "For simplicity" not in text
    assert "got (4,) and (5,)" in text


def test_cases_never_started_show_not_run_after_a_timeout(tmp_path):
    path = tmp_path / f"{MASK}.py"
    path.write_text(
        (SUBMISSIONS / MASK / "correct_jax.py").read_text() + "\n_ok = cross_attention_mask\n\n\n"
        "def cross_attention_mask(encoder_ids, decoder_len, pad_id=0):\n"
        "    if decoder_len == 7:\n        while True:\n            pass\n"
        "    return _ok(encoder_ids, decoder_len, pad_id)\n"
    )
    from grader.model.problem import Limits

    result = grade(MASK, path, limits=Limits(time_s=3))
    assert result.status is Status.TIMEOUT
    labels = [c.message for c in result.cases]
    assert result.cases[0].status is Status.PASSED and result.cases[1].status is Status.TIMEOUT
    assert "time limit" in labels[1] and all(m.startswith("not run") for m in labels[2:]), labels
    text = shown(result, 80)
    rows = [line.rstrip() for line in text.splitlines() if re.match(r"^  \d  ", line)]
    assert rows[0].endswith("passed") and rows[1].endswith("timeout"), rows
    assert rows[2].endswith("not run") and rows[3].endswith("not run"), rows


# ---------------------------------------------------------------- the file could not be loaded


def run80(*args: str, **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "80"}
    return subprocess.run([*judge_command(), *args], capture_output=True, text=True, env=env, timeout=300, **kw)


def one_block(proc: subprocess.CompletedProcess) -> str:
    """The output of a run whose file could not be graded case by case: one error block, no case rows."""
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert not re.search(r"^  \d  ", proc.stdout, re.M), proc.stdout
    assert all(len(line) <= 80 for line in proc.stdout.splitlines())
    return " ".join(proc.stdout.split())


def test_syntax_error_is_one_block(tmp_path):
    path = tmp_path / f"{MASK}.py"
    path.write_text("def cross_attention_mask(encoder_ids, decoder_len, pad_id=0):\n    x = 1 +\n")
    text = one_block(run80("run", MASK, "--file", str(path)))
    assert "could not be loaded" in text and "line 2" in text and "none of the 4 cases could run" in text


def test_misspelled_function_offers_the_right_name_not_the_typo(tmp_path):
    path = tmp_path / f"{MHA}.py"
    path.write_text("def mha_cros(seed, x_q, x_kv, num_heads, qkv_features):\n    return x_q\n")
    text = one_block(run80("run", MHA, "--file", str(path)))
    assert "rename it to `mha_cross`" in text and "did you mean 'mha_cros'" not in text


def test_untouched_stub_names_its_line(tmp_path):
    stub = context().problems.load(MHA).stub_path
    line = 1 + stub.read_text().splitlines().index("    raise NotImplementedError")
    text = one_block(run80("run", MHA, "--file", str(stub)))
    assert f"still has the starter `raise NotImplementedError` (line {line}): replace it with your code" in text


def test_returning_none_asks_about_return(tmp_path):
    path = tmp_path / f"{MASK}.py"
    path.write_text("def cross_attention_mask(encoder_ids, decoder_len, pad_id=0):\n    out = encoder_ids\n")
    text = one_block(run80("run", MASK, "--file", str(path)))
    assert "returned None: did you forget `return`?" in text


def test_empty_file(tmp_path):
    path = tmp_path / f"{MASK}.py"
    path.write_text("\n")
    assert "is empty" in one_block(run80("run", MASK, "--file", str(path)))


def test_notebook_and_binary_files_are_named_as_such(tmp_path):
    empty = json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
    saved_as_py = tmp_path / "answer.py"  # a notebook under a .py name
    saved_as_py.write_text(empty)
    assert "Jupyter notebook" in one_block(run80("run", MASK, "--file", str(saved_as_py)))
    nb = tmp_path / "answer.ipynb"
    nb.write_text(empty)
    assert f"answer.ipynb: 0 code cells; no code cell defines {MASK}" in one_block(
        run80("run", MASK, "--file", str(nb))
    )
    binary = tmp_path / "answer.pyc"
    binary.write_bytes(b"\x00\x01\x02garbage")
    assert "binary data" in one_block(run80("run", MASK, "--file", str(binary)))


def test_a_folder_given_as_file_is_a_usage_error(tmp_path):
    proc = run80("run", MASK, "--file", str(tmp_path))
    assert proc.returncode == 2 and "is a folder, not a file" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


CP1252_BODY = (
    "def cross_attention_mask(encoder_ids, decoder_len, pad_id=0):\n"
    "    label = 'café'  # Windows-1252: é is the byte 0xe9\n"
    + (SUBMISSIONS / MASK / "correct_jax.py").read_text().split("def cross_attention_mask", 1)[1].split(":\n", 1)[1]
)


def test_windows_1252_with_a_coding_line_loads(tmp_path):
    head = (SUBMISSIONS / MASK / "correct_jax.py").read_text().split("def cross_attention_mask", 1)[0]
    path = tmp_path / f"{MASK}.py"
    path.write_bytes(("# -*- coding: cp1252 -*-\n" + head + CP1252_BODY).encode("cp1252"))
    result = grade(MASK, path)
    assert result.status is Status.PASSED, result.message


def test_windows_1252_without_a_coding_line_names_line_and_byte(tmp_path):
    head = (SUBMISSIONS / MASK / "correct_jax.py").read_text().split("def cross_attention_mask", 1)[0]
    path = tmp_path / f"{MASK}.py"
    path.write_bytes((head + CP1252_BODY).encode("cp1252"))
    line = 1 + (head + CP1252_BODY).splitlines().index("    label = 'café'  # Windows-1252: é is the byte 0xe9")
    result = grade(MASK, path)
    assert result.status is Status.ERROR
    assert f"line {line}" in result.message and "0xe9" in result.message and "UTF-8" in result.message


def test_decode_source_keeps_line_numbers_and_declares_utf8():
    text = decode_source("# coding: latin-1\nx = 'é'\n".encode("latin-1"), "a.py", "f")
    assert text.splitlines() == ["# coding: utf-8", "x = 'é'"]
    with pytest.raises(Unreadable) as e:
        decode_source(b"x = 1\ny = '\xe9'\n", "a.py", "f")
    assert "line 2" in wording.fault(e.value.fault)  # the sentence the learner's result carries


def test_mistyped_problem_id_gets_did_you_mean():
    proc = run80("run", "mha_cros")
    assert proc.returncode == 2 and "did you mean 'mha_cross'?" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


# ---------------------------------------------------------------- hints


def wrapped_sdpa(tmp_path, body: str) -> Result:
    path = tmp_path / f"{SDPA}.py"
    path.write_text(
        "import numpy as np\n\n\ndef scaled_dot_product_attention(q, k, v):\n"
        "    s = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])\n"
        "    w = np.exp(s - s.max(axis=-1, keepdims=True))\n    w = w / w.sum(axis=-1, keepdims=True)\n"
        f"    out = w @ v\n    return {body}\n"
    )
    return grade(SDPA, path)


def test_a_constant_factor_is_named_with_its_value(tmp_path):
    result = wrapped_sdpa(tmp_path, "1.01 * out")
    assert result.diagnosis.startswith("Hint:") and "times 1.01 everywhere" in result.diagnosis


def test_an_all_zero_output_is_named(tmp_path):
    assert "all zeros" in wrapped_sdpa(tmp_path, "0 * out").diagnosis


def test_a_right_answer_gets_no_hint(tmp_path):
    result = wrapped_sdpa(tmp_path, "out")
    assert result.passed and result.diagnosis == ""


def test_a_combination_of_known_mistakes_is_said_to_be_likely(tmp_path):
    path = tmp_path / f"{SDPA}.py"  # softmax over the queries and a scale by sqrt(d_v): two known mistakes
    path.write_text(
        "import numpy as np\n\n\ndef scaled_dot_product_attention(q, k, v):\n"
        "    s = q @ np.swapaxes(k, -1, -2) / np.sqrt(v.shape[-1])\n"
        "    w = np.exp(s - s.max(axis=-2, keepdims=True))\n    w = w / w.sum(axis=-2, keepdims=True)\n"
        "    return w @ v\n"
    )
    result = grade(SDPA, path)
    assert result.diagnosis.startswith("Hint:") and "combination" in result.diagnosis
    assert "softmax over the query axis" in result.diagnosis


def test_values_wrong_everywhere_point_at_the_seed(tmp_path):
    path = tmp_path / f"{MHA}.py"
    source = (SUBMISSIONS / MHA / "correct_keywords.py").read_text()
    path.write_text(source.replace("PRNGKey(seed)", "PRNGKey(seed + 1)"))
    assert "PRNGKey(seed)" in (SUBMISSIONS / MHA / "correct_keywords.py").read_text()
    result = grade(MHA, path)
    assert result.status is Status.WRONG_ANSWER
    assert result.diagnosis.startswith("Hint:") and "differ almost everywhere" in result.diagnosis
    assert "seed" in result.diagnosis


# ---------------------------------------------------------------- the command line


def test_run_says_what_it_grades_at_once_and_not_the_sandbox(tmp_path):
    proc = run80("run", MASK, "--file", str(SUBMISSIONS / MASK / "correct_jax.py"))
    assert proc.returncode == 0
    assert proc.stdout.splitlines()[0] == f"grading correct_jax.py on {MASK} (4 cases)..."
    assert "sandbox" not in proc.stdout
    assert proc.stdout.splitlines()[-1].startswith("PASSED 4/4: all 4 public cases passed")


def test_a_broken_pipe_keeps_the_exit_code_of_a_passing_file():
    judge = shlex.join(judge_command())
    proc = subprocess.run(
        f"{judge} run {MASK} --file {SUBMISSIONS / MASK / 'correct_jax.py'} | head -1; exit ${{PIPESTATUS[0]}}",
        shell=True,
        executable="/bin/bash",
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("grading") and "Traceback" not in proc.stderr


def test_learner_escape_sequences_do_not_reach_a_pipe(tmp_path):
    path = tmp_path / f"{MASK}.py"
    path.write_text(
        (SUBMISSIONS / MASK / "correct_jax.py").read_text() + "\nprint('\\x1b]0;pwned \\x1b[2J [red]x[/red]', end='')\n"
    )
    proc = run80("run", MASK, "--file", str(path))
    assert proc.returncode == 0 and "\x1b" not in proc.stdout + proc.stderr
    assert "\\x1b]0;pwned \\x1b[2J [red]x[/red]" in proc.stdout
    assert proc.stdout.splitlines()[-1].startswith("PASSED 4/4")


@pytest.mark.parametrize(
    "args,text",
    [
        (["--time-limit", "0"], "--time-limit must be more than 0 seconds"),
        (["--time-limit", "-1"], "--time-limit must be more than 0 seconds"),
        (["--import-limit", "0"], "--import-limit must be more than 0 seconds"),
        (["--memory-limit", "1600"], "--memory-limit must be at least 1800"),
    ],
)
def test_limits_are_checked_under_their_option_names(args, text):
    proc = run80("run", MASK, *args, "--file", str(SUBMISSIONS / MASK / "correct_jax.py"))
    assert proc.returncode == 2 and text in proc.stderr, proc.stderr
    assert "time_s" not in proc.stderr and "memory_mb" not in proc.stderr


def test_markup_in_usage_errors_is_shown_as_typed(capsys):
    from grader.cli.app import usage
    from grader.model.errors import UsageError

    usage(UsageError("--executor ray needs Ray: pip install 'judge[ray]'"))  # its console writes to sys.stderr
    assert "pip install 'judge[ray]'" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["run", "batch", "gradescope"])
def test_help_fits_80_columns_with_whole_option_names(command):
    proc = run80(command, "--help")
    assert proc.returncode == 0
    assert all(len(line) <= 80 for line in proc.stdout.splitlines())
    assert "<bool>" not in proc.stdout and "…" not in proc.stdout
    if command == "batch":
        for option in ("--allow-weak-sandbox", "--show-hidden", "--force", "--hidden-seed"):
            assert re.search(rf"^\s+{option}\b", proc.stdout, re.M), option


def test_bubblewrap_install_command_has_no_bare_sudo_for_root(monkeypatch):
    from grader.cli.app import advice
    from grader.sandbox import policy
    from grader.sandbox.policy import bubblewrap_install_command

    monkeypatch.setattr(
        policy.shutil, "which", lambda name: "/usr/bin/" + name if name in ("apt-get", "sudo") else None
    )
    monkeypatch.setattr(policy.os, "geteuid", lambda: 0)
    assert bubblewrap_install_command() == "apt-get install -y bubblewrap"
    monkeypatch.setattr(policy.os, "geteuid", lambda: 1000)
    assert bubblewrap_install_command() == "sudo apt-get install -y bubblewrap"
    monkeypatch.setattr(policy.shutil, "which", lambda name: "/usr/bin/dnf" if name == "dnf" else None)
    assert bubblewrap_install_command() == "dnf install -y bubblewrap (as root)"
    assert "bubblewrap" in advice()  # the sentence the command line says


def test_jax_log_lines_are_labelled_as_jax_not_the_learners():
    own, library = split_stderr("my debug\nE0000 00:00:1700000000.123456  1234 cpu_client.cc:42] XLA says\n")
    assert own == "my debug\n" and "XLA says" in library
    cases = [CaseResult(index=0, name="a", seed=1, status=Status.PASSED)]
    text = shown(result_of(cases, Status.PASSED, "all passed", stderr=own + library), 80)
    assert "your stderr:" in text and "JAX/XLA's own messages" in text


# ---------------------------------------------------------------- Gradescope


def test_gradescope_says_a_file_level_failure_once_and_lists_failing_cases_only():
    syntax = Fault(kind=FaultKind.SYNTAX, file="cross_attention_mask.py", line=2, text="invalid syntax")
    msg = "SyntaxError in cross_attention_mask.py line 2: invalid syntax"
    assert wording.fault(syntax) == msg
    cases = [
        CaseResult(index=i, name=f"c{i}", seed=i + 1, status=Status.ERROR, fault=syntax, message=msg) for i in range(5)
    ]
    tb = '  File "x.py", line 2\nSyntaxError: invalid syntax'
    loaded = result_of(cases, Status.ERROR, msg, fault=syntax, traceback=tb)
    out = gradescope_doc([loaded], show_hidden=False)["tests"][0]["output"]
    assert out.count("invalid syntax") <= 2 and out.count(msg) == 1 and "c3" not in out
    wrong = gradescope_doc([wrong_result()], show_hidden=False)["tests"][0]["output"]
    assert "pad_id 5" in wrong and LONG_NAME in wrong and "padding right" not in wrong
    assert wrong.count(WRONG_MESSAGE) == 1


def test_captured_output_is_cut_at_a_line_end_with_the_total():
    from grader.grading.runners import facts
    from grader.sandbox.outcome import Outcome

    kept = "".join(f"line {i}\n" for i in range(3000))[:16384]  # the sandbox keeps 16 KiB, mid-line
    problem = context().problems.load(MASK)
    run = facts(problem, "", Outcome(level="process", stdout=kept, stdout_bytes=1_000_000), problem.meta.limits)
    stored = run.stdout
    assert stored.endswith("\n") and stored.splitlines()[-1] == f"line {len(stored.splitlines()) - 1}"  # no partial
    assert run.stdout_bytes == 1_000_000  # the total is kept beside the text (the JSON's note is gone: by design)
    cases = [CaseResult(index=0, name="a", seed=1, status=Status.PASSED)]
    text = shown(result_of(cases, Status.PASSED, "all passed", stdout=stored, stdout_bytes=run.stdout_bytes), 80)
    assert "line 19\n" in text and "line 20\n" not in text
    assert "[... the rest not shown: 1,000,000 bytes in all]" in text


def test_without_bubblewrap_the_install_command_is_printed(tmp_path):
    """With no bwrap on PATH the judge falls back, says so once, and gives the command for this system."""
    import shutil

    apt = shutil.which("apt-get")
    if apt is None:
        pytest.skip("no apt-get here")
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "apt-get").symlink_to(apt)
    env = {**os.environ, "PATH": str(tmp_path / "bin"), "COLUMNS": "80"}
    exe = judge_command()
    proc = subprocess.run(
        [*exe, "run", MASK, "--file", str(SUBMISSIONS / MASK / "correct_jax.py")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    expected = "apt-get install -y bubblewrap" if os.geteuid() == 0 else "apt-get install -y bubblewrap (as root)"
    assert f"install bubblewrap: {expected}" in proc.stderr and "sudo" not in proc.stderr
    refused = subprocess.run(
        [*exe, "run", MASK, "--sandbox", "bwrap", "--file", str(SUBMISSIONS / MASK / "correct_jax.py")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert refused.returncode == 2 and f"install bubblewrap: {expected}" in refused.stderr


def test_gradescope_keeps_a_hint_about_a_hidden_case_to_itself():
    cases = [
        CaseResult(index=0, name="a", seed=1, status=Status.PASSED),
        CaseResult(index=1, name="hidden 1", seed=2, hidden=True, status=Status.WRONG_ANSWER, message="x"),
    ]
    hint = Diagnosis(kind=DiagnosisKind.SLICE, case=1, index=2, axis=0, shape=[3, 4])
    assert wording.diagnosis(hint) == "Hint: in case 1 the wrong values all lie at index 2 of axis 0 (shape (3, 4))."
    r = result_of(cases, Status.WRONG_ANSWER, "1 of 1", diagnosis=wording.diagnosis(hint), mistake=hint)
    assert not any("index 2 of axis 0" in t["output"] for t in gradescope_doc([r], show_hidden=False)["tests"])
    assert "index 2 of axis 0" in gradescope_doc([r], show_hidden=True)["tests"][1]["output"]  # the hidden test
    about_public = hint.model_copy(update={"case": 0})
    public = r.model_copy(update={"diagnosis": wording.diagnosis(about_public), "mistake": about_public})
    assert "index 2 of axis 0" in gradescope_doc([public], show_hidden=False)["tests"][0]["output"]


def test_without_a_py_file_the_notebook_of_that_name_is_graded(tmp_path):
    (tmp_path / f"{MASK}.ipynb").write_text("{}")
    proc = run80("run", MASK, cwd=tmp_path)
    assert proc.returncode == 1 and f'{MASK}.ipynb is not a notebook: no "cells" in its JSON' in proc.stdout


def test_the_failing_line_shows_its_operand_shapes_and_the_error_once(tmp_path):
    path = tmp_path / f"{SDPA}.py"
    path.write_text(
        "import jax\nimport jax.numpy as jnp\n\n\ndef scaled_dot_product_attention(q, k, v):\n"
        "    q, k = jnp.asarray(q), jnp.asarray(k)\n    s = jnp.matmul(q, k)\n    return s @ v\n"
    )
    proc = run80("run", SDPA, "--file", str(path))
    assert proc.returncode == 1
    text = proc.stdout
    assert "shapes there: q (2, 3, 4), k (2, 5, 4)" in text  # case 0: H=2, T_q=3, T_k=5, d_k=4
    assert text.count("dot_general requires contracting dimensions") == 1 and "For simplicity" not in text
    assert all(len(line) <= 80 for line in text.splitlines())


def test_a_wrong_width_is_a_wrong_answer_not_the_judges_crash(tmp_path):
    """`out_features=qkv_features` in mha_cross: an output of another size than the reference's and the known
    mistakes' once crashed the diagnosis (INTERNAL ERROR, exit 3)."""
    source = (SUBMISSIONS / "mha_cross" / "correct_keywords.py").read_text()
    path = tmp_path / "mha_cross.py"
    path.write_text(
        source.replace(
            "nn.MultiHeadDotProductAttention(", "nn.MultiHeadDotProductAttention(out_features=qkv_features, "
        )
    )
    assert "out_features=qkv_features" in path.read_text()
    verdict = grade("mha_cross", path)
    assert verdict.status.value == "wrong_answer", verdict.message
    assert verdict.mistake is not None and verdict.mistake.kind.value == "shape"


def test_a_diagnosis_survives_any_shape_and_dtype():
    import numpy as np

    from grader.grading.diagnosis import diagnose
    from grader.sets.hidden import grading_cases
    from grader.sets.inputs import make_inputs

    with context() as ctx:
        problem = ctx.problems.load("mha_cross")
        cases = grading_cases(problem, ctx.problems, None)[:2]
        inputs = [make_inputs(problem.meta, c) for c in cases]
        expected = [ctx.problems.expected_output(problem, c, x) for c, x in zip(cases, inputs)]
        e = expected[0]
        shapes = [np.zeros(2 * e.size), np.ones((2, 3)), np.array(True), np.zeros(0), e.reshape(1, -1), e[..., :1]]
        dtypes = [e.astype(t) for t in (bool, np.int8, np.uint64, np.float16, np.complex64)] + [e * np.inf, e * np.nan]
        for got in shapes + dtypes + [-e]:
            diagnosis = diagnose(problem, ctx.problems, cases, inputs, expected, {0: got, 1: expected[1]})
            assert diagnosis is None or diagnosis.kind is not None


def test_a_missing_parameter_says_the_signature_the_judge_calls(tmp_path):
    """Once Python's raw `TypeError: takes 2 positional arguments but 3 were given`."""
    path = tmp_path / f"{MASK}.py"
    path.write_text("def cross_attention_mask(encoder_ids, decoder_len):\n    return encoder_ids\n")
    result = grade(MASK, path)
    bad = [c for c in result.cases if c.fault is not None and c.fault.kind.value == "signature"]
    assert bad, [c.message for c in result.cases]
    assert bad[0].message == (
        "`cross_attention_mask(encoder_ids, decoder_len)` cannot take the arguments the judge passes: "
        "`cross_attention_mask(encoder_ids, decoder_len, pad_id)`, as the problem's signature says"
    )


def test_code_in_a_traceback_is_never_wrapped_at_60_columns(tmp_path):
    """Wrapping once broke code inside names (`num_heads=nu` / `m_heads`) and put the caret under blank space."""
    line = "    out = no_such_function(seed, x_q, x_kv, num_heads=num_heads, qkv_features=qkv_features)"
    path = tmp_path / "mha_cross.py"
    path.write_text(f"def mha_cross(seed, x_q, x_kv, num_heads, qkv_features):\n{line}\n    return out\n")
    proc = subprocess.run(
        [*judge_command(), "run", "mha_cross", "--file", str(path)],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "60"},
        timeout=300,
    )
    lines = proc.stdout.splitlines()
    code = next(i for i, text in enumerate(lines) if line.strip() in text)
    caret = lines[code + 1]
    start = lines[code].index("no_such_function")
    assert caret[start : start + len("no_such_function")] == "^" * len("no_such_function"), proc.stdout
    assert not any(text.endswith(" ") for text in lines)


# ---------------------------------------------------------------- real code: the mistake named, alone and combined

REAL = sorted(SUBMISSIONS.glob("*/real_*.py"))


def expected_of(path) -> tuple[str, list[str]]:
    """A real-code file's `# expect:` line: ("mistakes", the names, in order) or ("cause", [the cause's kind])."""
    line = next(line for line in path.read_text().splitlines() if line.startswith("# expect: "))
    what, *names = line.removeprefix("# expect: ").split()
    return what, names


def test_every_kind_of_real_code_mistake_has_a_file():
    kinds = [expected_of(p) for p in REAL]
    assert all(p.read_text().startswith("# Adapted from ") for p in REAL)  # each names its source
    assert {tuple(n) for w, n in kinds if w == "cause"} == {("sizes_differ",), ("removed_keyword",), ("removed_name",)}
    assert sum(w == "mistakes" and len(n) > 1 for w, n in kinds) >= 4  # combinations, named together


@pytest.mark.parametrize("path", REAL, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_real_code_gets_its_mistake_named(path):
    result = grade(path.parent.name, path)
    what, names = expected_of(path)
    if what == "mistakes":
        sentences = context().problems.pitfall_messages(context().problems.load(path.parent.name))
        assert result.status is Status.WRONG_ANSWER and result.mistake is not None, result.message
        assert result.mistake.named and [m.name for m in result.mistake.mistakes] == names, result.diagnosis
        assert all(sentences[n] in result.diagnosis for n in names)
        return
    raised = [c for c in result.cases if c.fault is not None and c.fault.cause is not None]
    assert result.status is Status.ERROR and raised, result.message
    assert all(c.fault.cause.kind.value == names[0] for c in raised)
    assert all(wording.cause(c.fault.cause) in c.message for c in raised)
    failing = [c for c in result.cases if c.status is Status.ERROR]
    assert len(raised) == len(failing), [c.message for c in failing]  # every error explained, none left bare


def test_a_removed_keyword_says_what_replaced_it(tmp_path):
    path = SUBMISSIONS / "cross_attention_all_masked" / "real_old_jax_clip.py"
    cause = next(c.fault.cause for c in grade("cross_attention_all_masked", path).cases if c.fault)
    assert (cause.function, cause.name, cause.replacement, cause.library) == ("clip", "a_min", "min", "JAX")
    assert "`min=`" in wording.cause(cause) and cause.version in wording.cause(cause)


def test_sizes_assumed_equal_are_said_in_the_learners_terms():
    path = SUBMISSIONS / SDPA / "real_jax_nn_dot_product_attention.py"
    result = grade(SDPA, path)
    first = result.cases[0]  # d_k = 4, d_v = 6; the case where d_k == d_v passes
    said = "your code assumes v has the same last axis as k; here d_v = 6 and d_k = 4"
    assert wording.cause(first.fault.cause) == said
    assert [c.status for c in result.cases][-1] is Status.PASSED
    text = shown(result, 80)
    assert "Likely cause: your code assumes v has the same last axis as k" in " ".join(text.split())


def test_a_shape_error_everywhere_is_not_blamed_on_sizes(tmp_path):
    """Honest: code that raises where d_v == d_k too has another cause; no sentence is made up."""
    path = tmp_path / f"{SDPA}.py"
    path.write_text(
        "import jax.numpy as jnp\n\n\ndef scaled_dot_product_attention(q, k, v):\n"
        "    return jnp.asarray(q) + jnp.zeros(v.shape[:-1] + (v.shape[-1] + 1,))\n"
    )
    result = grade(SDPA, path)
    assert result.status is Status.ERROR
    assert all(c.fault is not None and c.fault.cause is None for c in result.cases)


def test_a_learner_kit_names_mistakes_together_from_its_data_alone(tmp_path):
    """A kit holds no mistake code: a combination's outputs travel in its released data like a mistake's."""
    import shutil

    from grader.context import Context
    from grader.package.release import kit_data
    from grader.sets.store import KIT_DATA, KIT_INFO, KitSet

    built_in = context()
    problem = built_in.problems.load(MASK)
    folder = tmp_path / "problems" / MASK
    shutil.copytree(problem.folder, folder)
    data, info = kit_data(built_in.problems, problem)
    (folder / KIT_DATA).write_bytes(data)
    (folder / KIT_INFO).write_bytes(info)
    with Context(KitSet(tmp_path), built_in.cache, built_in.sandbox) as kit:
        assert kit.problems.pitfall_combinations(kit.problems.load(MASK)) == [("inverted", "pad_id_ignored")]
        result = grade(MASK, SUBMISSIONS / MASK / "real_tensor2tensor_padding.py", context=kit)
    assert result.mistake is not None and [m.name for m in result.mistake.mistakes] == ["inverted", "pad_id_ignored"]
