"""A class's files, written at the end of a batch: grades.csv (long), grades_wide.csv (a blank cell: not handed
in), results.json per learner (Gradescope's format) and report.html. Each is written whole, then renamed."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from grader.model.storage import atomic_write
from grader.model.verdict import Result, Status
from grader.render import wording
from grader.render.gradescope import document
from grader.render.html import class_html
from grader.render.textsafe import visible_line

CSV_COLUMNS = ["student", "problem", "score", "max_score", "status", "message"]


def csv_cell(text: str) -> str:
    """A text cell: control characters visible, and never read as a formula by a spreadsheet."""
    text = visible_line(text)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def write_class_reports(
    out_dir: Path,
    students: list[str],
    problem_ids: list[str],
    results: dict[tuple[str, str], Result],
    *,
    show_hidden: bool,
) -> None:
    long, wide = io.StringIO(), io.StringIO()
    w = csv.writer(long, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    ww = csv.writer(wide, lineterminator="\n")
    ww.writerow(["student", *problem_ids, "total", "max_total"])
    for s in students:
        row = [results[(s, p)] for p in problem_ids]
        for r in row:
            message = wording.summary(r, show_hidden=show_hidden)
            w.writerow([csv_cell(s), r.problem, r.score, r.max_score, r.status.value, csv_cell(message)])
        ww.writerow(
            [
                csv_cell(s),
                *["" if r.status is Status.MISSING else r.score for r in row],
                sum(r.score for r in row),
                sum(r.max_score for r in row),
            ]
        )
        learner = json.dumps(document(row, show_hidden=show_hidden), indent=2)
        atomic_write(out_dir / s / "results.json", learner.encode())
    atomic_write(out_dir / "grades.csv", long.getvalue().encode())
    atomic_write(out_dir / "grades_wide.csv", wide.getvalue().encode())
    page = class_html(students, problem_ids, results, show_hidden=show_hidden)
    atomic_write(out_dir / "report.html", page.encode())
