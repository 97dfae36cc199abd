"""Facts, not prose: every output rendered through a pseudo-locale that rewrites every sentence of the judge's
behaves exactly as in English.

The same submissions are graded twice, once in English and once with the pseudo-locale active (it swaps every
letter of each sentence template for a look-alike one column wide, so lines wrap the same). Mapping the letters
back must give the English outputs byte for byte: statuses, scores, exit codes, labels ("not run"), file-level
blocks, the traceback hidden for a starter stub, CSV columns, hidden-case disclosure. A module that decided
anything by matching the judge's own words would behave differently in the pseudo-locale, and the texts would
differ. And no English sentence of the judge's may be left: whatever plain English remains is learner or
problem data.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from pathlib import Path

import pytest
from conftest import HOSTILE, ROOT, SUBMISSIONS, context, pitfall_submission, strong_level
from rich.console import Console
from typer.testing import CliRunner

from grader import api
from grader.cli.main import app
from grader.model.problem import Limits
from grader.model.verdict import Result
from grader.render import gradescope, wording
from grader.render.classfiles import write_class_reports
from grader.render.html import check_table
from grader.render.terminal import render
from grader.render.wording import pseudo, translated, unpseudo

MASK, SDPA = "cross_attention_mask", "scaled_dot_product_attention"
NONE = "def cross_attention_mask(encoder_ids, decoder_len, pad_id=0):\n    x = 1\n"
RAISES = (
    "import numpy as np\n\n\ndef cross_attention_mask(encoder_ids, decoder_len, pad_id=0):\n"
    "    a, b = np.ones((2, 3)), np.ones((4, 5))\n    return a @ b\n"
)
SCALED = (
    "import numpy as np\n\n\ndef scaled_dot_product_attention(q, k, v):\n"
    "    s = q @ np.swapaxes(k, -1, -2)\n    w = np.exp(s - s.max(-1, keepdims=True))\n"
    "    return 1.5 * (w / w.sum(-1, keepdims=True)) @ v\n"
)
CLIPPED = (  # code for an older JAX: a keyword the installed one removed
    "import jax.numpy as jnp\n\n\ndef cross_attention_mask(encoder_ids, decoder_len, pad_id=0):\n"
    "    return jnp.clip(encoder_ids, a_max=1)\n"
)
HIDDEN = "s3cret"


def submissions(folder: Path) -> dict[str, tuple[str, Path, Limits | None]]:
    """One of each kind of verdict a learner meets: (problem, file, limits)."""

    def write(name: str, text: str) -> Path:
        (folder / name).mkdir()
        path = folder / name / (MASK + ".py" if "sdpa" not in name else SDPA + ".py")
        path.write_text(text)
        return path

    return {
        "passed": (MASK, SUBMISSIONS / MASK / "correct_jax.py", None),
        "named": (MASK, pitfall_submission(MASK, "inverted", _dir(folder, "named")), None),
        "together": (MASK, SUBMISSIONS / MASK / "real_tensor2tensor_padding.py", None),
        "removed": (MASK, write("removed", CLIPPED), None),
        "hint": (SDPA, write("sdpa_factor", SCALED), None),
        "stub": (MASK, ROOT / "problems" / MASK / f"{MASK}.py", None),
        "none": (MASK, write("none", NONE), None),
        "raises": (MASK, write("raises", RAISES), None),
        "misnamed": (MASK, HOSTILE / "misspelled.py", None),
        "syntax": (MASK, HOSTILE / "syntax_error.py", None),
        "loop": (MASK, HOSTILE / "loop_forever.py", Limits(time_s=1)),
        "exits": (MASK, HOSTILE / "sys_exit.py", None),
    }


def _dir(folder: Path, name: str) -> Path:
    (folder / name).mkdir()
    return folder / name


def timeless(text: str) -> str:
    """Timings and peaks differ from run to run; nothing else may."""
    text = re.sub(r"\d+\.\d\d s\)", "<s> s)", text)
    return re.sub(r'"(time_s|cpu_s|peak_memory_mb|execution_time)": [0-9.e-]+', r'"\1": 0', text)


def terminal(result: Result) -> str:
    buf = io.StringIO()
    render(result, Console(file=buf, width=80, color_system=None, force_terminal=False))
    return buf.getvalue()


def outputs(results: dict[str, Result], folder: Path) -> dict[str, str]:
    """Every output a result is rendered to: the terminal, --json, Gradescope's results.json, the class files."""
    out = {}
    for name, r in results.items():
        out[f"{name}.terminal"] = terminal(r)
        out[f"{name}.json"] = readable(r.model_dump_json(indent=2))
        out[f"{name}.gradescope"] = readable(json.dumps(gradescope.document([r], show_hidden=False)))
    students = sorted(name for name, r in results.items() if r.problem == MASK)  # a class of one problem
    for show_hidden in (False, True):
        reports = folder / f"class-{show_hidden}"
        write_class_reports(
            reports, students, [MASK], {(s, MASK): results[s] for s in students}, show_hidden=show_hidden
        )
        for path in sorted(reports.rglob("*")):
            if path.is_file():
                text = re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d \w*", "<when>", path.read_text())
                out[f"class-{show_hidden}/{path.relative_to(reports)}"] = (
                    readable(text) if path.suffix == ".json" else text
                )
    return out


def readable(document: str) -> str:
    """A JSON document with its text as text (not \\u escapes), so that letters can be mapped back."""
    return json.dumps(json.loads(document), indent=2, ensure_ascii=False)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Every submission graded in English and in the pseudo-locale, with hidden cases too, in one context."""
    folder = tmp_path_factory.mktemp("locale")
    files = submissions(folder)
    both: dict[str, dict[str, Result]] = {"en": {}, "pseudo": {}}
    with context(sandbox=strong_level()) as ctx:
        for locale, words in (("en", str), ("pseudo", pseudo)):
            with translated(words):
                for name, (problem, path, limits) in files.items():
                    both[locale][name] = api.grade(problem, path, limits=limits, context=ctx)
                hidden = api.grade(MASK, files["named"][1], hidden_seed=HIDDEN, context=ctx)
                both[locale]["hidden"] = hidden
    return folder, files, both


def test_every_output_behaves_the_same_in_another_language(graded):
    folder, _, both = graded
    english = outputs(both["en"], folder / "en")
    with translated(pseudo):
        other = outputs(both["pseudo"], folder / "pseudo")
    assert english.keys() == other.keys()
    for key in english:
        assert timeless(unpseudo(other[key])) == timeless(english[key]), key
        if not key.endswith((".json", "grades_wide.csv")):  # JSON is mostly keys and identifiers; wide CSV numbers
            assert other[key] != english[key], f"{key}: nothing of it was translated"


def test_the_facts_are_the_same_and_only_the_words_differ(graded):
    _, _, both = graded
    for name, r in both["en"].items():
        p = both["pseudo"][name]
        same = lambda res: (  # noqa: E731
            res.status,
            res.score,
            res.max_score,
            res.fault,
            res.mistake,
            res.file_level,
            [(c.status, c.fault, c.mismatch, c.not_run, c.hidden) for c in res.cases],
        )
        assert same(p) == same(r), name
        if not r.passed:
            assert p.message != r.message, f"{name}: its message was not translated"


def test_no_sentence_of_the_judges_escapes_the_locale(graded):
    """In the pseudo-locale, what is left in plain English is data: case names, problem ids, the learners' file
    names, their exceptions and code, the mistakes' sentences (the problem author's)."""
    folder, files, both = graded
    with translated(pseudo):
        rendered = outputs(both["pseudo"], folder / "pseudo-check")
    data = _data(both["pseudo"], files)
    for key, rendered_text in rendered.items():
        text = " ".join(_words(key, rendered_text).split())  # a wrapped line is one text again
        for chunk in sorted(data, key=len, reverse=True):
            text = text.replace(chunk, " ")
        prose = re.findall(r"\b[a-z]{2,}(?: [a-z]{2,}){2,}\b", text)
        assert not prose, f"{key}: English left in the pseudo-locale: {prose[:5]}"


def _words(key: str, text: str) -> str:
    """The words of an output for people: JSON's and CSV's texts without their keys and identifiers, HTML without
    its tags and style."""
    if key.endswith(".csv"):
        return "\n".join(row[-1] for row in csv.reader(io.StringIO(text)) if row and row[-1] != "message")
    if key.endswith(".json"):
        texts: list[str] = []

        def walk(node: object, field: str = "") -> None:
            if isinstance(node, dict):
                for k, v in node.items():
                    walk(v, k)
            elif isinstance(node, list):
                for v in node:
                    walk(v, field)
            elif isinstance(node, str) and field in ("message", "diagnosis", "traceback", "output", "text"):
                texts.append(node)

        walk(json.loads(text))
        return "\n".join(texts)
    text = re.sub(r"(?s)<style>.*?</style>", " ", text)
    return html.unescape(re.sub(r"<[^>]+>", "\n", text))


def _data(results: dict[str, Result], files: dict) -> set[str]:
    """Learner and problem data in the results: never translated, and left out of the check above."""
    data = set()
    for r in results.values():
        data |= {r.problem, r.submission, Path(r.submission).name, r.stdout, r.stderr}
        if r.mistake is not None:
            data |= {m.sentence for m in r.mistake.mistakes}
        for c in r.cases:
            data.add(c.name)
            if c.fault is not None:
                data |= {c.fault.text, c.fault.error}
            data |= set(_python_traceback_lines(c.traceback or r.traceback))
        data |= set(_python_traceback_lines(r.traceback))
    for _, path, _ in files.values():
        data |= {line.strip() for line in Path(path).read_text().splitlines() if line.strip()}
    return {" ".join(d.split()) for d in data if d and len(d) > 1}


def _python_traceback_lines(text: str) -> list[str]:
    """Python's own lines of a traceback (its frames, the exception): Python's words, not the judge's."""
    lines = text.splitlines()
    return [line.strip() for line in lines[1:]] if lines else []


def test_the_command_line_gives_the_same_exit_codes_and_text_in_another_language(graded, monkeypatch):
    _, files, _ = graded
    runner = CliRunner()
    for name in ("passed", "stub", "named"):
        problem, path, _ = files[name]
        english = runner.invoke(app, ["run", problem, "--file", str(path)])
        with translated(pseudo):
            other = runner.invoke(app, ["run", problem, "--file", str(path)])
        assert other.exit_code == english.exit_code, name
        assert timeless(unpseudo(other.output)) == timeless(english.output), name
        assert other.output != english.output


def test_check_functions_html_is_the_same_in_another_language(graded):
    _, _, both = graded
    for name in ("passed", "named", "stub", "loop"):
        english = check_table(both["en"][name])
        with translated(pseudo):
            other = check_table(both["pseudo"][name])
        assert timeless(unpseudo(other)) == timeless(english), name


def test_the_pseudo_locale_keeps_placeholders_and_widths():
    template = "{count} of {total:,} values differ beyond rtol={rtol:g}"
    shown = pseudo(template)
    assert shown != template and unpseudo(shown) == template and len(shown) == len(template)
    assert shown.format(count=3, total=1000, rtol=0.1).startswith("3 ")
    with translated(pseudo):
        assert wording.label(wording.Status.WRONG_ANSWER) != "wrong answer"
    assert wording.label(wording.Status.WRONG_ANSWER) == "wrong answer"
