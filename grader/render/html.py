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

from grader.model.verdict import Result, Status
from grader.render import wording
from grader.render.textsafe import visible
from grader.render.wording import _

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
th.who,td.who{position:sticky;left:0;background:#fff;z-index:1;box-shadow:1px 0 0 #ccc}th.who{background:#f4f4f4}
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
    """What alike failures share: the named mistake, else the kind of failure (the kind of fault or mismatch)."""
    if r.mistake is not None and r.mistake.named:
        return "named:" + "+".join(m.name for m in r.mistake.mistakes)
    first = next((c for c in r.cases if c.status is r.status), None)
    fact = r.fault or (first.fault if first is not None else None)
    if fact is not None:  # the learner's error text without its numbers: alike errors of one kind together
        text = re.sub(r"\b\d+(\.\d+)?(e[-+]?\d+)?\b", "N", fact.text.split("\n")[0])[:200]
        return f"{r.status.value}:{fact.kind.value}:{fact.error}:{text}"
    kind = first.mismatch.kind.value if first is not None and first.mismatch is not None else ""
    return f"{r.status.value}:{kind}"


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
    title = _h(_("Class report"))
    out = [
        "<!doctype html><html lang=en><meta charset=utf-8>"
        f"<meta name=viewport content='width=device-width,initial-scale=1'><title>{title}</title>",
        f"<style>{CSS}</style>",
        f"<h1>{title}</h1>",
        "<p class=meta>"
        + _h(
            (_("{n} learners, {p} problems ({ids}); maximum score {max}; hidden cases {on}; graded {date}.")).format(
                n=n,
                p=len(problem_ids),
                ids=", ".join(problem_ids),
                max=max_total,
                on=_("on") if hidden else _("off"),
                date=f"{now:%Y-%m-%d %H:%M %Z}",
            )
        )
        + "</p>",
    ]

    out.append(
        f"<h2>{_h(_('Problems'))}</h2><div class=wrap><table><tr><th>{_h(_('problem'))}</th>"
        f"<th>{_h(_('handed in'))}</th><th>{_h(_('passed'))}</th><th class=barcell></th></tr>"
    )
    for p in problem_ids:
        rs = [results[(s, p)] for s in students]
        handed = sum(r.status is not Status.MISSING for r in rs)
        passed = sum(r.passed for r in rs)
        rate = _h(
            _("{passed} of {handed} handed in: {pct}").format(passed=passed, handed=handed, pct=_pct(passed, handed))
        )
        of_class = _h(_("({pct} of the class)").format(pct=_pct(passed, n)))
        out.append(
            f"<tr><td class=id>{_id(p)}</td><td class=num>{_h(_('{k} of {n}').format(k=handed, n=n))}</td>"
            f"<td class=num>{rate}<br>{of_class}</td>{_bar(passed / handed if handed else 0)}</tr>"
        )
    out.append("</table></div>")

    out.append(
        f"<h2>{_h(_('Cases'))}</h2>"
        f"<p class=meta>{_h(_('Pass rates among the learners who handed the problem in.'))}</p>"
        f"<div class=wrap><table><tr><th>{_h(_('problem'))}</th><th>{_h(_('case'))}</th><th>{_h(_('passed'))}</th>"
        "<th class=barcell></th></tr>"
    )
    for p in problem_ids:
        rs = [results[(s, p)] for s in students if results[(s, p)].status is not Status.MISSING]
        template = results[(students[0], p)].cases if students else []
        for i, c in enumerate(template):
            ok = sum(1 for r in rs if i < len(r.cases) and r.cases[i].status is Status.PASSED)
            rate = _h(_("{k} of {n} ({pct})").format(k=ok, n=len(rs), pct=_pct(ok, len(rs))))
            out.append(
                f"<tr><td class=id>{_id(p)}</td><td>{_h(wording.case_name(c))}</td><td class=num>{rate}</td>"
                f"{_bar(ok / len(rs) if rs else 0)}</tr>"
            )
    out.append("</table></div>")

    out.append(
        f"<h2>{_h(_('Total scores (out of {max})').format(max=max_total))}</h2><div class=wrap><table>"
        f"<tr><th>{_h(_('score'))}</th><th>{_h(_('learners'))}</th><th class=barcell></th></tr>"
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
        f"<h2>{_h(_('Learners'))}</h2><div class=wrap><table><tr><th class=who>{_h(_('learner'))}</th>"
        + "".join(f"<th>{_id(p)}</th>" for p in problem_ids)
        + f"<th>{_h(_('total'))}</th></tr>"
    )
    for s in students:
        cells = []
        for p in problem_ids:
            r = results[(s, p)]
            if r.status is Status.MISSING:
                cells.append(f"<td class='num miss'>{_h(_('not handed in'))}</td>")
            else:
                cls = "ok" if r.passed else "bad"
                cells.append(
                    f"<td class='num {cls}'>{r.score} / {r.max_score}"
                    f"{'' if r.passed else ' ' + _h(wording.label(r.status))}</td>"
                )
        total = sum(results[(s, p)].score for p in problem_ids)
        out.append(f"<tr><td class=who>{_h(s)}</td>{''.join(cells)}<td class=num>{total} / {max_total}</td></tr>")
    out.append("</table></div>")

    out.append(f"<h2>{_h(_('Most common failures'))}</h2>")
    grouped = _("Grouped by the named mistake, else by the kind of failure; one full example each.")
    out.append(f"<p class=meta>{_h(grouped)}</p>")
    groups: dict[tuple[str, str], list[tuple[str, Result]]] = defaultdict(list)
    for (s, p), r in results.items():
        if not r.passed and r.status is not Status.MISSING:
            groups[(p, _group(r))].append((s, r))
    if not groups:
        out.append(f"<p>{_h(_('None: every handed-in problem passed.'))}</p>")
    for (p, _key), members in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        s, example = members[0]
        names = ", ".join(_h(m) for m, _r in members)
        first = next((c for c in example.cases if c.status is example.status), None)
        if example.mistake is not None and example.mistake.named:
            heading = " ".join(wording.diagnosis_parts(example.mistake))
        else:
            said = first.message if first is not None and first.message else example.message
            heading = f"{wording.label(example.status)}: {said}"
        count = (_("{n} learner") if len(members) == 1 else _("{n} learners")).format(n=len(members))
        message = wording.summary(example, show_hidden=show_hidden)
        out.append(
            f"<div class=fail><b>{_h(p)}</b>: {_h(count)} "
            f"({names})<br>{_h(heading)}<pre>{_h(s)}: {_h(message)}</pre></div>"
        )
    return "\n".join(out) + "\n"


COLOURS = {Status.PASSED: "#1a7f37", Status.WRONG_ANSWER: "#cf222e"}


# Inline, so that a notebook's own CSS (JupyterLab right-aligns table cells, and may set <pre> in the text font)
# does not change the table: inline styles win over any stylesheet rule without !important.
_CELL = "text-align:left;vertical-align:top;padding:2px 8px"
_CODE = "font-family:var(--jp-code-font-family,monospace);white-space:pre;text-align:left;font-size:smaller"


def check_table(result: Result) -> str:
    """check_function's result in a notebook: the verdict, a table of the cases, the likely mistake."""
    h = html.escape
    rows = []
    for c in result.cases:
        err = "" if c.max_abs_err is None else f"{c.max_abs_err:.3g}"
        colour = COLOURS.get(c.status, "#9a6700")
        detail = "" if c.status is Status.PASSED else h(c.message[:300])
        rows.append(
            f"<tr><td style='{_CELL}'>{c.index}</td><td style='{_CELL}'>{h(c.name)}</td>"
            f"<td style='{_CELL};color:{colour};font-weight:bold'>{h(wording.case_label(c))}</td>"
            f"<td style='{_CELL};text-align:right;font-variant-numeric:tabular-nums'>{h(err)}</td>"
            f"<td style='{_CELL}'>{detail}</td></tr>"
        )
    colour = COLOURS.get(result.status, "#9a6700")
    verdict = (
        f"<p style='color:{colour};font-weight:bold;text-align:left'>{h(result.problem)}: "
        f"{h(wording.label(result.status).upper())} {result.score}/{result.max_score} "
        f"<span style='font-weight:normal;color:inherit'>({h(wording.seconds(result))})</span></p>"
    )
    mistake = ""
    if result.mistake is not None:
        head, text = wording.diagnosis_parts(result.mistake)
        mistake = f"<p style='text-align:left'><b>{h(head)}</b> {h(text)}</p>"
    first = next((c for c in result.cases if c.status is not Status.PASSED and c.traceback), None)
    trace = f"<pre style='{_CODE}'>{h(first.traceback[-3000:])}</pre>" if first else ""
    headers = "".join(
        f"<th style='{_CELL}'>{h(x)}</th>" for x in ("#", _("case"), _("status"), _("max error"), _("detail"))
    )
    return (
        f"<div class='judge-result' style='text-align:left'>{verdict}<table><tr>{headers}</tr>{''.join(rows)}"
        f"</table>{mistake}<p style='text-align:left'>{h(result.message)}</p>{trace}</div>"
    )
