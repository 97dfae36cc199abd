"""What an instructor reads: report.html (also in a real browser), the CSVs and the batch summary."""

import csv
import datetime
import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from grader.model.verdict import CaseResult, Diagnosis, DiagnosisKind, Fault, FaultKind, Mistake, Result, Status
from grader.render import wording
from grader.render.classfiles import csv_cell, write_class_reports
from grader.render.html import class_html
from grader.render.progress import batch_summary as summary

P1, P2 = "mha_cross", "cross_attention_mask"
NO_SCALE = "Your output matches attention without the 1/sqrt(head_dim) scale on the scores."
WHEN = datetime.datetime(2026, 11, 29, 18, 0, tzinfo=datetime.timezone.utc)


def result(
    problem: str, status: Status, *, mistake: Diagnosis | None = None, message: str = "", hidden: bool = True
) -> Result:
    names = ["two heads", "four heads"] + (["hidden 1"] if hidden else [])
    case_status = {Status.PASSED: [Status.PASSED] * 3, Status.MISSING: [Status.MISSING] * 3}.get(
        status, [Status.PASSED, status, status]
    )
    missing = Fault(kind=FaultKind.MISSING) if status is Status.MISSING else None  # as batch makes it
    message = wording.fault(missing) if missing is not None else message
    cases = [
        CaseResult(
            index=i,
            name=n,
            seed=i + 1,
            hidden=n.startswith("hidden"),
            status=case_status[i],
            fault=missing,
            message="" if case_status[i] is Status.PASSED else message,
        )
        for i, n in enumerate(names)
    ]
    return Result(
        problem=problem,
        submission=f"x/{problem}.py",
        status=status,
        fault=missing,
        diagnosis=wording.diagnosis(mistake),
        mistake=mistake,
        message=message or wording.label(status),
        cases=cases,
    )


def a_class() -> tuple[list[str], list[str], dict]:
    students = ["alice", "bob", "carol", "dave", "eve", "<mallory>"]
    wrong = dict(
        mistake=Diagnosis(kind=DiagnosisKind.NAMED, mistakes=[Mistake(name="no_scale", sentence=NO_SCALE, cases=[1])]),
        message="12 of 12 values differ; got 0.1, expected 0.2",
    )
    r = {
        ("alice", P1): result(P1, Status.PASSED),
        ("alice", P2): result(P2, Status.PASSED),
        ("bob", P1): result(P1, Status.WRONG_ANSWER, **wrong),
        ("bob", P2): result(P2, Status.MISSING),
        ("carol", P1): result(P1, Status.WRONG_ANSWER, **wrong),
        ("carol", P2): result(P2, Status.MISSING),
        ("dave", P1): result(P1, Status.MISSING),
        ("dave", P2): result(P2, Status.MISSING),
        ("eve", P1): result(P1, Status.ERROR, message="ValueError: \x1b]0;title <script>alert(1)</script>"),
        ("eve", P2): result(P2, Status.MISSING),
        ("<mallory>", P1): result(P1, Status.TIMEOUT, message="the cases took longer than the time limit of 5 s"),
        ("<mallory>", P2): result(P2, Status.MISSING),
    }
    return students, [P1, P2], r


def page() -> str:
    students, problem_ids, results = a_class()
    return class_html(students, problem_ids, results, now=WHEN)


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html.replace("<wbr>", "")).split())


def test_report_labels_its_denominators_and_says_what_was_graded():
    text = text_of(page())
    assert "6 learners, 2 problems (mha_cross, cross_attention_mask)" in text
    assert "maximum score 6" in text and "hidden cases on" in text and "2026-11-29 18:00" in text
    assert "5 of 6" in text  # mha_cross handed in
    assert "1 of 5 handed in: 20% (17% of the class)" in text  # passed, among those who handed in
    assert "1 of 1 handed in: 100% (17% of the class)" in text
    assert "hidden 1" in text and "hidden 1 (hidden)" not in text
    assert "Total scores (out of 6)" in text


def test_case_rates_count_only_those_who_handed_in():
    text = text_of(page())
    assert "two heads 5 of 5 (100%)" in text and "four heads 1 of 5 (20%)" in text


def test_per_learner_table_keeps_not_handed_in_apart_from_failed():
    text = text_of(page())
    assert "alice 3 / 3 3 / 3 6 / 6" in text
    assert "bob 1 / 3 wrong answer not handed in 1 / 6" in text
    assert "dave not handed in not handed in 0 / 6" in text


def test_failures_are_grouped_by_named_mistake_with_full_text_and_learners():
    html = page()
    text = text_of(html)
    assert f"mha_cross : 2 learners (bob, carol) Likely mistake: {NO_SCALE}" in text
    assert "1/sqrt(head_dim)" in text and "#/sqrt" not in text  # digits kept, text whole
    assert "<script>" not in html and "&lt;script&gt;" in html and "&lt;mallory&gt;" in html
    assert "\x1b" not in html and "\\x1b]0;title" in html


def test_grades_wide_leaves_not_handed_in_blank_and_csv_is_safe(tmp_path):
    students, problem_ids, results = a_class()
    # the message cell is worded from the result's facts: learner-made text that starts it (here a fault's)
    hostile = Fault(kind=FaultKind.RAISED, error='=HYPERLINK("http://x")\x1b[2J')
    results[("bob", P1)] = results[("bob", P1)].model_copy(update={"fault": hostile})
    write_class_reports(tmp_path, students, problem_ids, results, show_hidden=False)
    wide = {r["student"]: r for r in csv.DictReader(io.StringIO((tmp_path / "grades_wide.csv").read_text()))}
    assert wide["bob"][P1] == "1" and wide["bob"][P2] == ""  # failed with 1 case is not "not handed in"
    assert wide["dave"][P1] == "" and wide["dave"]["total"] == "0" and wide["dave"]["max_total"] == "6"
    assert wide["eve"][P1] == "1"
    long = (tmp_path / "grades.csv").read_text()
    assert "\x1b" not in long and "'=HYPERLINK" in long and "\\x1b[2J" in long
    assert csv_cell("-1 + 2") == "'-1 + 2" and csv_cell("fine") == "fine"


def test_batch_summary_counts_every_status_and_what_was_reused():
    students, problem_ids, results = a_class()
    before = {("bob", P1): Status.ERROR, ("alice", P1): Status.PASSED}
    resumed = {k for k in results if k not in {("bob", P1), ("alice", P1), ("carol", P1)}}
    lines = summary(results, resumed, before, Path("out"))
    assert lines[0] == (
        "6 students x 2 problems: 2 passed, 2 wrong, 1 error, 1 timeout, 6 not handed in; "
        "9 reused from the last run, 2 regraded (bob/mha_cross: error -> wrong), 1 graded"
    )
    assert lines[1] == "graded on the public and the hidden cases"  # a_class has hidden cases
    public = {k: r.model_copy(update={"cases": [c for c in r.cases if not c.hidden]}) for k, r in results.items()}
    said = summary(public, resumed, before, Path("out"))[1]
    assert said.startswith("graded on the public cases only") and "--hidden-seed SECRET" in said
    assert lines[2:5] == ["  out/grades.csv", "  out/grades_wide.csv", "  out/report.html"]
    one = {k: r for k, r in results.items() if k == ("bob", P1)}
    assert summary(one, set(), {}, Path("out"))[0].startswith("1 student x 1 problem: ")


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def in_frame(html: str, width: int) -> str:
    """The report in a frame `width` px wide (a phone's viewport: headless Chromium's window is at least 500 px),
    with a script that puts the frame's layout width and headings into the page's title."""
    import html as h

    return (
        f"<!doctype html><title>probe</title><body style='margin:0'><iframe id=f width={width} height=1600 "
        f"style='border:0' srcdoc=\"{h.escape(html, quote=True)}\"></iframe><script>"
        "document.getElementById('f').onload=e=>{const d=e.target.contentDocument;"
        "const hs=[...d.querySelectorAll('h2')].map(x=>x.textContent).join('|');"
        "document.title='W='+d.documentElement.scrollWidth+';H='+hs}</script>"
    )


@pytest.mark.skipif(CHROMIUM is None, reason="no headless Chromium here (CI installs the chromium package)")
@pytest.mark.parametrize("width", [1280, 390])
def test_report_in_a_real_browser_fits_the_screen(tmp_path, width):
    """Chromium lays the page out at desktop and phone width: nothing wider than the screen but the tables'
    own scrolling boxes, and a screenshot that is not blank."""
    probe = tmp_path / "probe.html"
    probe.write_text(in_frame(page(), width))
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        f"--window-size={max(width, 500)},1600",
    ]
    dom = subprocess.run([CHROMIUM, *flags, "--dump-dom", probe.as_uri()], capture_output=True, text=True, timeout=120)
    title = re.search(r"<title>W=(\d+);H=([^<]*)</title>", dom.stdout)
    assert title, dom.stderr[-2000:]
    assert int(title.group(1)) <= width, f"the page is {title.group(1)} px wide on a {width} px screen"
    assert title.group(2).split("|")[:2] == ["Problems", "Cases"]
    shot = tmp_path / f"report-{width}.png"
    subprocess.run([CHROMIUM, *flags, f"--screenshot={shot}", probe.as_uri()], capture_output=True, timeout=120)
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000  # a page with text on it, not a blank one


def test_the_small_words_of_a_batch_and_a_check():
    """A diagnosis is a sentence of its own in the CSV; a progress line gives the task's own time; one problem
    is one problem."""
    from grader.render import commands
    from grader.render.progress import batch_line

    _, _, results = a_class()
    bob = results[("bob", P1)]
    said = wording.summary(bob)
    assert said.count(". ") >= 1 and not re.search(r"[^.!?] " + re.escape(bob.diagnosis), said), said
    assert "(1.2 s)" in batch_line(1, 2, "bob", bob.model_copy(update={"time_s": 1.234}), False, 1.234)
    assert commands.checked(1, 0) == "1 problem checked, 0 checks failed"
    assert commands.checked(2, 1) == "2 problems checked, 1 checks failed"


def test_the_note_a_learner_reads_after_every_run_without_bubblewrap_is_short():
    """A kit printed a 276-character note after every run; the level's details belong to batch and gradescope."""
    from grader.model.verdict import SandboxInfo
    from grader.render import commands

    advice = commands.bubblewrap_advice(False, "sudo apt-get install -y bubblewrap")
    note = commands.weak_note(SandboxInfo(level="process", landlock_abi=6, bounds="keeper"), advice)
    assert note == (
        "note: graded without bubblewrap (process level, Landlock); for the strong sandbox, "
        "install bubblewrap: sudo apt-get install -y bubblewrap"
    )
    assert len(note) <= 160


def test_gradescope_shows_hidden_cases_as_a_test_of_their_own_after_the_due_date():
    """Hidden cases once counted in each problem's visible test: their pass count showed before the deadline."""
    from grader.render.gradescope import document

    _, _, results = a_class()
    bob = results[("bob", P1)]  # public: passed, wrong; hidden: wrong
    bob = bob.model_copy(update={"score": 1, "max_score": 3})
    doc = document([bob], show_hidden=False, sandbox="sandbox: bwrap")
    public, hidden = doc["tests"]
    assert (public["name"], public["score"], public["max_score"], public["visibility"]) == (P1, 1, 2, "visible")
    assert (hidden["name"], hidden["score"], hidden["max_score"]) == (f"{P1} (hidden cases)", 0, 1)
    assert hidden["visibility"] == "after_due_date" and doc["score"] == 1
    assert "hidden" not in public["output"] and "hidden 1" in hidden["output"]
    assert doc["extra_data"] == {"sandbox": "sandbox: bwrap"} and "sandbox" not in doc["output"]
    shown = document([bob], show_hidden=False, hidden_visibility="hidden")["tests"][1]["visibility"]
    assert shown == "hidden"
    only_public = document([result(P1, Status.PASSED, hidden=False)], show_hidden=False)["tests"]
    assert [t["name"] for t in only_public] == [P1]


def test_the_autograder_says_what_it_grades_and_the_files_to_require():
    """`judge autograder` without --hidden-seed once graded public cases only without a word, and named no file
    for Gradescope's required-files setting."""
    from grader.render import commands

    public = commands.zip_written("hw1.zip", False, ["softmax_rows", "mha_cross"])
    assert public[1].startswith("it grades the public cases only") and "--hidden-seed SECRET" in public[1]
    assert public[2].endswith(": softmax_rows.py, mha_cross.py")
    assert commands.zip_written("hw1.zip", True, ["mha_cross"])[1] == "it grades the public and the hidden cases"


def test_the_status_line_of_a_run_is_never_cut_mid_word():
    from grader.render.progress import fit

    long = "grading cross_attention_mask.py: computing the expected outputs (only the first run is slow) (3 s)"
    short = "computing the expected outputs (only the first run is slow) (3 s)"
    assert fit(long, short, 120) == long and fit(long, short, 70) == short
    cut = fit(long, short, 40)
    assert cut == "computing the expected outputs (only…" and len(cut) <= 40
