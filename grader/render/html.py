"""report.html: what an instructor reads about a class, in one self-contained page (no scripts).

Rates say what they are out of ("3 of 4 handed in, 50% of the class"); case rates count only those who
handed the problem in; failures are grouped by the named mistake (or, failing that, by the kind of
failure), each group with its count, its learners and one full example.
"""

from __future__ import annotations

import datetime
import html
import re
from collections import Counter, defaultdict

from grader.model.problem import Result, Status
from grader.render.disclosure import case_name, learner_message
from grader.render.textsafe import visible

CSS = """
body{font:15px/1.45 system-ui,sans-serif;margin:1.5em auto;max-width:72em;padding:0 1em;color:#222}
h1{font-size:1.6em;margin:.2em 0}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ddd}
.wrap{overflow-x:auto}table{border-collapse:collapse;margin:.6em 0}
td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}th{background:#f4f4f4}
td.num{text-align:right;white-space:nowrap}.bar{background:#4a7;height:.9em;min-width:1px}
.meta{color:#555}.ok{color:#176b2c}.bad{color:#a31515}.miss{color:#888}
.fail{border:1px solid #ddd;border-radius:6px;padding:.5em .8em;margin:.8em 0}
.fail pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#f8f8f8;padding:.5em;margin:.4em 0 0}
td.id{min-width:6em}
@media (max-width:40em){body{font-size:14px;padding:0 .5em}td,th{padding:.25em .4em}.barcell{display:none}}
"""


def _h(text: object) -> str:
    return html.escape(visible(str(text)))


def _id(text: str) -> str:
    """An id that may break after its underscores on a narrow screen, never inside a word."""
    return _h(text).replace("_", "_<wbr>")


def _pct(n: int, d: int) -> str:
    return f"{n / d:.0%}" if d else "-"


def _bar(rate: float) -> str:
    return f"<td class=barcell><div class=bar style='width:{rate * 10:.1f}em'></div></td>"


def _group(r: Result) -> str:
    """What alike failures share: the named mistake, else the kind of failure without its numbers."""
    if r.diagnosis and not r.diagnosis.startswith("Hint:"):
        return r.diagnosis
    first = next((c for c in r.cases if c.status is r.status), None)
    text = first.message if first is not None else r.message
    text = re.sub(r"\b\d+(\.\d+)?(e[-+]?\d+)?\b", "N", text.split("\n")[0])
    return f"{r.status.label}: {text[:200]}"


def class_html(
    students: list[str],
    problem_ids: list[str],
    results: dict[tuple[str, str], Result],
    *,
    show_hidden: bool = False,
    now: datetime.datetime | None = None,
) -> str:
    """The page. `now` is the date printed on it (default: now)."""
    n = len(students)
    now = now or datetime.datetime.now().astimezone()
    hidden = any(c.hidden for r in results.values() for c in r.cases)
    max_total = sum(results[(students[0], p)].max_score for p in problem_ids) if students else 0
    out = [
        "<!doctype html><html lang=en><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width,initial-scale=1'><title>Class report</title>",
        f"<style>{CSS}</style>",
        "<h1>Class report</h1>",
        f"<p class=meta>{n} learners, {len(problem_ids)} problems ({_h(', '.join(problem_ids))}); "
        f"maximum score {max_total}; hidden cases {'on' if hidden else 'off'}; "
        f"graded {now:%Y-%m-%d %H:%M %Z}.</p>",
    ]

    out.append(
        "<h2>Problems</h2><div class=wrap><table><tr><th>problem</th><th>handed in</th>"
        "<th>passed</th><th class=barcell></th></tr>"
    )
    for p in problem_ids:
        rs = [results[(s, p)] for s in students]
        handed = sum(r.status is not Status.MISSING for r in rs)
        passed = sum(r.passed for r in rs)
        out.append(
            f"<tr><td class=id>{_id(p)}</td><td class=num>{handed} of {n}</td>"
            f"<td class=num>{passed} of {handed} handed in: {_pct(passed, handed)}<br>"
            f"({_pct(passed, n)} of the class)</td>{_bar(passed / handed if handed else 0)}</tr>"
        )
    out.append("</table></div>")

    out.append(
        "<h2>Cases</h2><p class=meta>Pass rates among the learners who handed the problem in.</p>"
        "<div class=wrap><table><tr><th>problem</th><th>case</th><th>passed</th><th class=barcell></th></tr>"
    )
    for p in problem_ids:
        rs = [results[(s, p)] for s in students if results[(s, p)].status is not Status.MISSING]
        template = results[(students[0], p)].cases if students else []
        for i, c in enumerate(template):
            ok = sum(1 for r in rs if i < len(r.cases) and r.cases[i].status is Status.PASSED)
            out.append(
                f"<tr><td class=id>{_id(p)}</td><td>{_h(case_name(c))}</td><td class=num>{ok} of {len(rs)} "
                f"({_pct(ok, len(rs))})</td>{_bar(ok / len(rs) if rs else 0)}</tr>"
            )
    out.append("</table></div>")

    out.append(
        f"<h2>Total scores (out of {max_total})</h2><div class=wrap><table>"
        "<tr><th>score</th><th>learners</th><th class=barcell></th></tr>"
    )
    totals = Counter(sum(results[(s, p)].score for p in problem_ids) for s in students)
    top = max(totals.values(), default=1)
    for score in sorted(totals):
        out.append(
            f"<tr><td class=num>{score} / {max_total}</td><td class=num>{totals[score]}</td>"
            f"{_bar(totals[score] / top)}</tr>"
        )
    out.append("</table></div>")

    out.append(
        "<h2>Learners</h2><div class=wrap><table><tr><th>learner</th>"
        + "".join(f"<th>{_id(p)}</th>" for p in problem_ids)
        + "<th>total</th></tr>"
    )
    for s in students:
        cells = []
        for p in problem_ids:
            r = results[(s, p)]
            if r.status is Status.MISSING:
                cells.append("<td class='num miss'>not handed in</td>")
            else:
                cls = "ok" if r.passed else "bad"
                cells.append(
                    f"<td class='num {cls}'>{r.score} / {r.max_score}"
                    f"{'' if r.passed else ' ' + _h(r.status.label)}</td>"
                )
        total = sum(results[(s, p)].score for p in problem_ids)
        out.append(f"<tr><td>{_h(s)}</td>{''.join(cells)}<td class=num>{total} / {max_total}</td></tr>")
    out.append("</table></div>")

    out.append("<h2>Most common failures</h2>")
    out.append("<p class=meta>Grouped by the named mistake, else by the kind of failure; one full example each.</p>")
    groups: dict[tuple[str, str], list[tuple[str, Result]]] = defaultdict(list)
    for (s, p), r in results.items():
        if not r.passed and r.status is not Status.MISSING:
            groups[(p, _group(r))].append((s, r))
    if not groups:
        out.append("<p>None: every handed-in problem passed.</p>")
    for (p, _), members in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        s, example = members[0]
        names = ", ".join(_h(m) for m, _ in members)
        named = example.diagnosis and not example.diagnosis.startswith("Hint:")
        first = next((c for c in example.cases if c.status is example.status), None)
        title = (
            f"Likely mistake: {example.diagnosis}"
            if named
            else f"{example.status.label}: {first.message if first is not None and first.message else example.message}"
        )
        out.append(
            f"<div class=fail><b>{_h(p)}</b>: {len(members)} learner{'s' if len(members) > 1 else ''} "
            f"({names})<br>{_h(title)}<pre>{_h(s)}: "
            f"{_h(learner_message(example, show_hidden=show_hidden))}</pre></div>"
        )
    return "\n".join(out) + "\n"
