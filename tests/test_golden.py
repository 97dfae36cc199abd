"""Golden folders: what a user sees from the real `judge` command, compared whole (see tests/golden/README.md).

Each folder of tests/golden holds a learner's file, a case.json saying how to grade it (problem, command, sandbox
level, options, hidden seed, kit, problem set) and what the installed console script gave for it: expected.json (the
`--json` document, or Gradescope's results.json) and expected.txt (the terminal transcript at 80 columns: stdout,
stderr, exit code). Both are normalized only where a run differs from the next (timings, memory, versions, temporary
paths) and compared whole, numbers computed from arrays within a tolerance (their last bits move with the CPU).
`pytest tests/test_golden.py --update-golden` rewrites them; without the flag nothing is written. The folders run
two at a time (the judge's subprocesses do the work; this machine has two cores).
"""

from __future__ import annotations

import difflib
import json
import math
import os
import re
import shutil
import tempfile
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from grader.child import forever
from conftest import ROOT, judge_command, run, strong_level

GOLDEN = Path(__file__).parent / "golden"
FOLDERS = sorted(p for p in GOLDEN.iterdir() if (p / "case.json").is_file())
WORKERS = 2
COLUMNS = 80
STDERR_MARK = "--- stderr ---"
EXIT_MARK = "--- exit code {} ---"
# What a golden run's environment never inherits: each changes what the judge does or how it prints.
DROPPED_ENV = re.compile(r"JUDGE_(?!CACHE_DIR$|DATA_DIR$).*|XLA_FLAGS|JAX_.*|FORCE_COLOR|NO_COLOR|TTY_.*|CLICOLOR.*")


@dataclass(frozen=True)
class Case:
    """A folder's case.json: everything its run needs."""

    about: str
    command: str  # "run" or "gradescope"
    problem: str
    sandbox: str  # "bwrap" or "process"
    options: list[str]  # more options of the command (limits)
    problems_dir: str | None  # a problem set inside the folder, given as `judge --problems-dir <it>`
    kit: bool  # graded by a learner kit's own `judge` (tests/conftest.py's kit_venv) instead of the full install
    problems: list[str] | None  # gradescope: --problems (default: the problem)
    hidden_seed: str | None  # gradescope: --hidden-seed
    show_hidden: bool  # gradescope: --show-hidden
    submission_name: str | None  # gradescope: the file's name in the submission folder (default <problem>.py/.ipynb)

    @classmethod
    def load(cls, folder: Path) -> Case:
        doc = json.loads((folder / "case.json").read_text())
        case = cls(**doc)  # a missing or unknown key fails here
        assert case.command in ("run", "gradescope") and case.sandbox in ("bwrap", "process"), doc
        assert case.command == "gradescope" or not (case.problems or case.hidden_seed or case.show_hidden), doc
        return case


def submission(folder: Path) -> Path | None:
    found = [p for p in folder.iterdir() if p.stem == "submission"]
    assert len(found) <= 1, found
    return found[0] if found else None


def argv(case: Case, sub: Path | None) -> list[str]:
    """The command line after `judge`, relative to the work folder the run gets."""
    args = ["--problems-dir", case.problems_dir] if case.problems_dir else []
    if case.command == "run":
        assert sub is not None, "a `judge run` folder needs its submission"
        args += ["run", case.problem, "--file", sub.name]
    else:
        args += ["gradescope", "--submission-dir", "submission", "--results", "results/results.json"]
        args += ["--problems", ",".join(case.problems or [case.problem])]
        args += ["--hidden-seed", case.hidden_seed] if case.hidden_seed else []
        args += ["--show-hidden"] if case.show_hidden else []
    return [*args, "--sandbox", case.sandbox, *case.options]


# ---------------------------------------------------------------- normalization (listed in tests/golden/README.md)

VERDICT = re.compile(r"^(?:[A-Z]+ )*[A-Z]+ \d+/\d+: ", re.M)
TIME_TEXT = re.compile(r"\(\d+\.\d\d s\)$")
PEAK = re.compile(r"\(peak \d+ MB\)")
CPU_USED = re.compile(r"together: \d+\.\d s\)")
BOX = re.compile(r"/tmp/judge-box-[A-Za-z0-9_]+")
# One frame of the judge's own code (grader/, of the checkout or of a kit) in a traceback: its header, then its more
# indented lines (source, carets, the rest of a header wrapped at 80 columns); and a run of them.
JUDGE_FRAME = r'(?P<indent>[ \t]*)File "[^"\n]*/grader/[^"\n]*\.py"[^\n]*\n(?:(?P=indent)[ \t]+[^\n]*\n)*'
JUDGE_FRAMES = re.compile(rf"^(?:{JUDGE_FRAME})+", re.M)


def paths(work: Path, kit: Path | None) -> list[tuple[str, str]]:
    """Folders whose names change from run to run (or from checkout to checkout), longest first."""
    named = [(work, "<work>"), (ROOT, "<checkout>"), (Path(os.environ["JUDGE_CACHE_DIR"]), "<cache>")]
    named += [(Path(os.environ["JUDGE_DATA_DIR"]), "<data>")]
    named += [(kit, "<kit>")] if kit else []
    pairs = {(str(p), name) for p, name in named} | {(os.path.realpath(p), name) for p, name in named}
    return sorted(pairs, key=lambda pair: -len(pair[0]))


def norm_string(text: str, folders: list[tuple[str, str]]) -> str:
    for path, name in folders:
        text = text.replace(path, name)
    text = BOX.sub("/tmp/judge-box-<id>", text)
    text = PEAK.sub("(peak <memory> MB)", text)
    text = CPU_USED.sub("together: <cpu> s)", text)
    return JUDGE_FRAMES.sub(lambda m: f"{m.group('indent')}[the judge's own frames]\n", text)


def norm_doc(doc, folders: list[tuple[str, str]], top: bool = True):
    """A --json document or results.json: the measured numbers replaced by what they are, every string normalized."""
    if isinstance(doc, str):
        return norm_string(doc, folders)
    if isinstance(doc, list):
        return [norm_doc(x, folders, False) for x in doc]
    if not isinstance(doc, dict):
        return doc
    out = {}
    for key, value in doc.items():
        if key == "used" and doc.get("forever") is True and value is not None:  # when a loop was found: a measure
            value = "<time>"
        elif key == "cases" and top:  # a case's time (its limits are not measured: "limits" keeps its time_s)
            value = [{**c, "time_s": "<time>"} if c.get("time_s") is not None else c for c in value]
        elif top and isinstance(value, (int, float)) and not isinstance(value, bool):
            value = {
                "time_s": "<time>",
                "cpu_s": "<cpu>",
                "peak_memory_mb": "<memory>",
                "execution_time": "<time>",
            }.get(key, value)
        elif key == "replay" and top and isinstance(value, dict) and "versions" in value:
            value = {**value, "versions": "<versions>"}
        out[key] = norm_doc(value, folders, False)
    return out


def norm_stdout(text: str, folders: list[tuple[str, str]]) -> str:
    """The verdict paragraph (the last of stdout) as one line: its wrapping moves with the width of the time."""
    text = norm_string(text, folders)
    starts = list(VERDICT.finditer(text))
    if starts:
        head, verdict = text[: starts[-1].start()], text[starts[-1].start() :]
        end = "\n" if verdict.endswith("\n") else ""
        verdict = TIME_TEXT.sub("(<time> s)", " ".join(verdict.split("\n")).strip())
        text = head + verdict + end
    return text


def ended(text: str) -> str:
    return text if not text or text.endswith("\n") else text + "\n[no newline at the end]\n"


def transcript(args: list[str], proc, folders: list[tuple[str, str]], kit: bool) -> str:
    shown = " ".join(("(kit) judge" if kit else "judge", *args))
    stdout, stderr = ended(norm_stdout(proc.stdout, folders)), ended(norm_string(proc.stderr, folders))
    return f"$ {shown}\n{stdout}{STDERR_MARK}\n{stderr}{EXIT_MARK.format(proc.returncode)}\n"


# ---------------------------------------------------------------- running a folder


def grade_folder(folder: Path, kit_venv) -> tuple[dict, str]:
    """Run the folder's command through the real console script: (expected.json, expected.txt) as they would be."""
    case = Case.load(folder)
    sub = submission(folder)
    work = Path(tempfile.mkdtemp(prefix="judge-golden-", dir="/var/tmp"))
    try:
        if case.problems_dir:
            shutil.copytree(folder / case.problems_dir, work / case.problems_dir)
        if case.command == "run":
            shutil.copy(sub, work / sub.name)
        else:
            (work / "submission").mkdir()
            if sub is not None:
                name = case.submission_name or f"{case.problem}{sub.suffix}"
                shutil.copy(sub, work / "submission" / name)
        env = {k: v for k, v in os.environ.items() if not DROPPED_ENV.fullmatch(k)}
        env["COLUMNS"] = str(COLUMNS)
        script = [str(kit_venv[0] / "bin" / "judge")] if case.kit else judge_command()
        folders = paths(work, kit_venv[0].parent if case.kit else None)
        args = argv(case, sub)
        proc = run([*script, *args], cwd=work, env=env)
        text = transcript(args, proc, folders, case.kit)
        if case.command == "gradescope":
            results = work / "results" / "results.json"
            doc = json.loads(results.read_text()) if results.is_file() else {"results.json": "not written"}
            return norm_doc(doc, folders), text
        as_json = run([*script, *args, "--json"], cwd=work, env=env)
        try:
            doc = json.loads(as_json.stdout)  # exactly one document, whatever the learner printed
        except json.JSONDecodeError:
            doc = {"--json stdout is not one JSON document": as_json.stdout}
        # The --json run says the same with the same exit code, and nothing on stderr.
        if as_json.returncode != proc.returncode or as_json.stderr:
            doc = {**doc, "--json exit code": as_json.returncode, "--json stderr": as_json.stderr}
        return norm_doc(doc, folders), text
    finally:
        shutil.rmtree(work, ignore_errors=True)


def cost(folder: Path) -> int:
    """Slow folders first, so that two workers finish together: Flax imports, timeouts, hidden cases."""
    text = (folder / "case.json").read_text() + (submission(folder) or folder / "case.json").read_text(errors="replace")
    return -sum(w in text for w in ("flax", "jax", "limit", 'hidden_seed": "', "time.sleep", 'kit": true'))


@pytest.fixture(scope="module")
def golden_runs(request):
    """Every chosen folder's run, started at once on WORKERS threads; the kit is released meanwhile on one slot."""
    if any(Case.load(f).sandbox == "bwrap" for f in FOLDERS):
        strong_level()
    chosen = [
        item.callspec.params["folder"]
        for item in request.session.items
        if item.module is request.module and hasattr(item, "callspec") and "folder" in item.callspec.params
    ]
    slots = threading.BoundedSemaphore(WORKERS)  # the kit's release holds one while it runs
    kit_ready = threading.Event()
    kit: dict = {}

    def job(folder: Path):
        needs_kit = Case.load(folder).kit
        if needs_kit:
            kit_ready.wait()
            if "error" in kit:
                raise RuntimeError(f"the learner kit could not be made: {kit['error']}")
        with slots:
            return grade_folder(folder, kit.get("venv"))

    with ThreadPoolExecutor(WORKERS) as pool:
        ordered = sorted(chosen, key=lambda f: (Case.load(f).kit, cost(f), f.name))
        futures: dict[str, Future] = {f.name: pool.submit(job, f) for f in ordered}
        try:
            if any(Case.load(f).kit for f in chosen):
                with slots:
                    kit["venv"] = request.getfixturevalue("kit_venv")
        except Exception as e:  # the kit's folders fail with it; the others go on
            kit["error"] = repr(e)
        finally:
            kit_ready.set()
        yield futures
        for future in futures.values():
            future.cancel()


# ---------------------------------------------------------------- numbers computed from arrays (rule 10)

FLOAT = re.compile(r"(-?\d+\.\d+(?:e[-+]?\d+)?)")
WITHIN = {"rel_tol": 1e-5, "abs_tol": 1e-6}  # a float of the document: float32 work, kept at full precision
PRINTED = {"rel_tol": 1e-4, "abs_tol": 1e-6}  # a number in a sentence, printed to 6 significant digits


def close(a: float, b: float, tolerance: dict) -> bool:
    return math.isclose(a, b, **tolerance) or (math.isnan(a) and math.isnan(b))


def settle_text(expected: str, got: str) -> str:
    """`got`, or `expected` where the two differ only in decimal numbers within PRINTED of each other."""
    ours, theirs = FLOAT.split(expected), FLOAT.split(got)
    if len(ours) != len(theirs) or ours[::2] != theirs[::2]:
        return got
    pairs = zip(ours[1::2], theirs[1::2])
    return expected if all(close(float(a), float(b), PRINTED) for a, b in pairs) else got


def settle(expected, got):
    """`got` with each number computed from arrays that is within tolerance of the expected one at the same place
    taken as the expected: XLA compiles for the machine's own vector units, so a float32 result moves in its last
    bits from one CPU to another. Everything else (a status, a word, an index, an exit code) is compared exactly."""
    if isinstance(expected, dict) and isinstance(got, dict):
        return {k: settle(expected[k], v) if k in expected else v for k, v in got.items()}
    if isinstance(expected, list) and isinstance(got, list) and len(expected) == len(got):
        return [settle(e, g) for e, g in zip(expected, got)]
    if isinstance(expected, float) and isinstance(got, float):
        return expected if close(expected, got, WITHIN) else got
    if isinstance(expected, str) and isinstance(got, str):
        return settle_text(expected, got)
    return got


def diff(expected: str, got: str, name: str) -> str:
    lines = difflib.unified_diff(
        expected.splitlines(keepends=True), got.splitlines(keepends=True), f"expected {name}", f"got {name}"
    )
    return "".join(lines)


def as_text(doc: dict) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: p.name)
def test_golden(folder, golden_runs, request):
    if folder.name == "loop_forever_time_limit" and not forever.SUPPORTED:
        pytest.skip("the loop is proven endless on Python 3.11 only: elsewhere it runs to the limit")
    doc, text = golden_runs[folder.name].result()
    json_file, text_file = folder / "expected.json", folder / "expected.txt"
    if json_file.is_file() and text_file.is_file():  # numbers within tolerance are the expected ones (rule 10)
        expected_doc, expected_text = json.loads(json_file.read_text()), text_file.read_text()
        doc, text = settle(expected_doc, doc), "".join(settle(expected_text.splitlines(True), text.splitlines(True)))
    if request.config.getoption("--update-golden"):
        json_file.write_text(as_text(doc))
        text_file.write_text(text)
        return
    assert json_file.is_file() and text_file.is_file(), f"{folder.name}: no expected files; run with --update-golden"
    failures = []
    if expected_doc != doc:  # the whole document
        failures.append(diff(as_text(expected_doc), as_text(doc), "expected.json"))
    if expected_text != text:  # the whole transcript
        failures.append(diff(expected_text, text, "expected.txt"))
    if failures:
        pytest.fail(
            "\n".join(failures) + "\n(if the change is intended: pytest tests/test_golden.py --update-golden)",
            pytrace=False,
        )


def test_only_numbers_within_tolerance_are_settled():
    """Rule 10 both ways: a float32 result's last bits and a printed number's last digit are taken as expected; a
    number beyond the tolerance, another word, an integer or a status is still a difference."""
    expected = {"status": "wrong_answer", "got": 0.28710925426082823, "message": "max abs error 2.23588; 60 of 72"}
    moved = {"status": "wrong_answer", "got": 0.28710901319735616, "message": "max abs error 2.23589; 60 of 72"}
    assert settle(expected, moved) == expected
    for key, value in [("got", 0.2872), ("message", "max abs error 2.23688; 60 of 72"), ("status", "passed")]:
        assert settle(expected, {**moved, key: value}) != expected, key
    assert settle(expected, {**moved, "message": "max abs error 2.23589; 61 of 72"}) != expected
    lines = "got 0.751905\nexit 1\n"
    assert "".join(settle(lines.splitlines(True), "got 0.751906\nexit 1\n".splitlines(True))) == lines
    assert "".join(settle(lines.splitlines(True), "got 0.751906\nexit 2\n".splitlines(True))) != lines
