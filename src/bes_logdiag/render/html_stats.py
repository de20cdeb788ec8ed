"""The HTML report's statistics: the verdicts per server as a table with a bar each, then per server
and overall the time in each stage (a table and a chart) and activations per hour of the day.

Drawn from the JSON ``stats`` (`render.json.stats_dict`), or counted from the activations for a
report saved before ``stats`` existed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bes_logdiag.render.html_parts import LABELS, STATUSES, esc, scroll
from bes_logdiag.render.svg_charts import dur, hour_chart, stage_chart, status_bar
from bes_logdiag.words import plural

HEADS = (
    "Server", "Activations", "Attempts", *(LABELS[s] for s in STATUSES), "Unconfirmed",
    "Stalled at stage 1-4", "Failed at stage 1-4", "Verdicts",
)  # fmt: skip
COUNTS = ("activations", "attempts", *STATUSES, "unconfirmed")


def _stats_of(doc: Mapping[str, Any], acts: Sequence[Mapping[str, Any]]) -> Mapping[str, Any]:
    stats = doc.get("stats")
    if isinstance(stats, Mapping):
        return stats
    from bes_logdiag.render.json import stats_dict
    from bes_logdiag.stats import facts_of_dict, fleet_stats

    return stats_dict(fleet_stats(facts_of_dict(a) for a in acts))


def _by_stage(counts: Sequence[int]) -> str:
    return " · ".join(str(n) for n in counts)


def _verdicts(groups: Sequence[tuple[str, str, Mapping[str, Any]]]) -> str:
    rows = []
    for _, name, g in groups:
        cells = [f'<th scope="row">{esc(name)}</th>']
        cells += [f'<td class="num">{int(g.get(k) or 0):,}</td>' for k in COUNTS]
        cells += [
            f'<td class="num">{_by_stage(g.get(k) or ())}</td>'
            for k in ("stalled_by_stage", "failed_by_stage")
        ]
        cells.append(f"<td>{status_bar(g)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    head = "".join(f'<th scope="col">{esc(h)}</th>' for h in HEADS)
    return scroll(
        "Verdicts per server",
        f"<table><caption>Verdicts per server</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>",
    )


def _legend() -> str:
    swatch = (
        '<svg width="14" height="14" aria-hidden="true" focusable="false">'
        '<rect class="s-{}" width="14" height="14"/></svg>'
    )
    items = "".join(f"<span>{swatch.format(s)} {esc(LABELS[s])}</span>" for s in STATUSES)
    return f'<p class="legend" aria-hidden="true">{items}</p>\n'


def _stage_table(g: Mapping[str, Any], names: Mapping[int, str]) -> str:
    rows = "".join(
        f'<tr><th scope="row">{t["stage"]} {esc(names.get(int(t["stage"]), ""))}</th>'
        f'<td class="num">{int(t.get("count") or 0):,}</td>'
        f'<td class="num">{esc(dur(t.get("median_seconds")))}</td>'
        f'<td class="num">{esc(dur(t.get("p90_seconds")))}</td></tr>'
        for t in g.get("stages") or ()
    )
    return scroll(
        "Time in each stage",
        '<table class="stages"><thead><tr><th scope="col">Stage</th><th scope="col" class="num">Left it</th>'
        '<th scope="col" class="num">Median</th><th scope="col" class="num">90th pct.</th></tr></thead>'
        f"<tbody>{rows}</tbody></table>",
    )


def stats_section(doc: Mapping[str, Any], acts: Sequence[Mapping[str, Any]], names: Mapping[int, str]) -> str:
    """The ``<section id="stats">``; ``names``: each stage's name."""
    stats = _stats_of(doc, acts)
    groups = [("all", "All servers", {**stats["overall"], "server": None})]
    groups += [(f"s{i}", str(g.get("server") or "-"), g) for i, g in enumerate(stats.get("servers") or ())]
    # one scale for every stage chart of the page, so that servers compare at a glance
    top = max(
        [float(t.get("p90_seconds") or 0) for _, _, g in groups for t in g.get("stages") or ()] + [60.0]
    )
    out = [
        '<section id="stats" aria-labelledby="stats-h"><h2 id="stats-h">Statistics</h2>\n',
        _verdicts(groups),
        _legend(),
    ]
    for key, name, g in groups:
        out.append(
            f'<h3>{esc(name)}</h3>\n<div class="charts">'
            f"<div><h4>Time in each stage</h4>{_stage_table(g, names)}</div>"
            f"<div><h4>Median and 90th percentile</h4>{stage_chart(f'c{key}', g, names, top)}"
            '<p class="small">Dark: median; light: 90th percentile; logarithmic scale.</p></div>'
            f"<div><h4>Activations per hour of the day</h4>{hour_chart(f'h{key}', g)}"
            '<p class="small">By the hour each activation\'s last attempt began.</p></div></div>\n'
        )
    out.append("</section>\n")
    return "".join(out)


def history_section(trend: Mapping[str, Any]) -> str:
    """The history's trend (``scan --history``), week by week, as ``history --format json`` has it."""
    rows = [*trend.get("periods", ()), trend["total"]]
    stages = [s["name"] for s in trend["total"]["stages"]]
    heads = [
        "Week",
        "Started",
        *STATUS_HEADS,
        *(f"{n}: median / 90th pct." for n in stages),
        "Top KB articles",
    ]
    head = "".join(f'<th scope="col">{esc(h)}</th>' for h in heads)
    body = []
    for r in rows:
        cells = [r["started"], r["complete"], r["in_progress"], r["stalled"], r["failed"]]
        spans = [
            f"{dur(s['median_seconds'])} / {dur(s['p90_seconds'])}" if s["count"] else "" for s in r["stages"]
        ]
        kbs = ", ".join(f"{esc(k['kb'])} ({k['count']})" for k in r["kb"])
        body.append(
            f'<tr><th scope="row">{esc(r["period"])}</th>'
            + "".join(f'<td class="num">{c:,}</td>' for c in cells)
            + "".join(f'<td class="num">{esc(x)}</td>' for x in spans)
            + f"<td>{kbs}</td></tr>"
        )
    table = (
        f"<table><caption>Activations per week</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
    )
    runs = plural(trend.get("runs") or 0, "scan")
    return (
        '<section id="history" aria-labelledby="history-h"><h2 id="history-h">History</h2>\n'
        f"<p>{runs} recorded in <code>{esc(trend.get('history') or '')}</code>: "
        "attempts by the week they started, each counted by its status now.</p>\n"
        + scroll("Activations per week", table)
        + "</section>\n"
    )


STATUS_HEADS = ("Complete", "In progress", "Stalled", "Failed")
