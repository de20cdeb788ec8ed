"""HTML output: one self-contained page to mail, attach to a ticket or open on a locked-down machine.

Everything is inline (style, script, SVG) and a Content-Security-Policy allows nothing else: the
page makes no request, and a script that hostile log text might smuggle in would not run (only the
page's own script and style, by hash).  The page is drawn from the JSON document
(`render.json.report_dict`), so ``scan --format html`` and ``bes-logdiag report`` (saved JSON, one
or merged) give the same page: what was read, the summary, the statistics (`html_stats`), the
activations table, and the details (`html_details`): a card per activation that did not complete,
with its timeline, and each completed activation's timeline.  A report of one person (``scan
--user U``) is a case file: their cards come first, and there is no fleet to count; their lines
outside any activation (a mailbox the service account cannot open) follow (`render.outside`), so
that the case file of someone who never activated still says why.

Text from logs, file names and maps is escaped for HTML everywhere (`html_parts.esc`).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any, TextIO

from bes_logdiag import __version__
from bes_logdiag.model import Report, Unattached
from bes_logdiag.render.batch import batched
from bes_logdiag.render.cards import context_map, other_names, stage_names, unconfirmed, who
from bes_logdiag.render.html_assets import CSS, JS
from bes_logdiag.render.html_details import details_section
from bes_logdiag.render.html_parts import STATUSES, chunks, esc, scroll, status, when
from bes_logdiag.render.html_stats import history_section, stats_section
from bes_logdiag.render.outside import (
    ErrorsOutside,
    Outside,
    errors_outside,
    headline,
    last_note,
    outside_of,
    person_of,
    users_words,
)
from bes_logdiag.render.svg_charts import page_defs
from bes_logdiag.render.svg_timeline import lanes
from bes_logdiag.select import name_forms
from bes_logdiag.words import human_time, plural

RANK = {"failed": 1, "stalled": 2, "in_progress": 3, "complete": 4}
"""Sort order of the status column: the worst first."""
ROW_CHUNK = 200
"""Rows per ``<tbody>`` of the activations table (`html_parts.chunks`)."""
LIST_LIMIT = 200
"""Skipped and ignored files, and notes, listed at most; the rest are counted."""


def _hash(text: str) -> str:
    return base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


CSP = (
    f"default-src 'none'; style-src 'sha256-{_hash(CSS)}'; script-src 'sha256-{_hash(JS)}'; "
    "img-src data:; base-uri 'none'; form-action 'none'"
)


def write(
    report: Report,
    out: TextIO,
    *,
    outside: Sequence[Unattached] | None = None,
    trend: Mapping[str, Any] | None = None,
) -> None:
    """The page; ``outside``: a report of chosen users (``--user``): their lines outside any
    activation; ``trend``: the history's trend (``--history``, `history.render.trend_dict`)."""
    from bes_logdiag.render.json import report_dict, unattached_dict

    loose = None if outside is None else [unattached_dict(u) for u in outside]
    write_html(report_dict(report), out, outside=loose, trend=trend)


def _head(title: str, acts: int, counts: Mapping[str, int], names: Mapping[int, str]) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en" class="nojs">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="referrer" content="no-referrer">\n'
        f"<title>{esc(title)} · {acts} activations, {counts['stalled']} stalled, {counts['failed']} failed"
        f"</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        f"{page_defs(lanes(names))}\n"
    )


def _header(
    title: str,
    when_made: datetime,
    sources: Sequence[str],
    person: bool,
    *,
    details: bool,
    outside: bool,
    history: bool = False,
    errors: bool = False,
) -> str:
    made = f"Made by bes-logdiag {esc(__version__)} on {human_time(when_made)} {esc(f'{when_made:%Z}')}"
    if sources:
        made += f" from {plural(len(sources), 'saved report')}: " + ", ".join(
            f"<code>{esc(s)}</code>" for s in sources
        )
    sections = [("summary", "Summary"), ("read", "What was read")]
    sections += [] if person else [("stats", "Statistics")]
    sections += [("history", "History")] if history and not person else []
    sections += [("activations", "Activations")]
    sections += [("errors-outside", "Errors outside any activation")] if errors else []
    sections += [("details", "Details")] if details else []
    sections += [("outside", "Outside any activation")] if outside else []
    links = "".join(f'<li><a href="#{k}">{v}</a></li>' for k, v in sections)
    return (
        f'<header>\n<h1>{esc(title)}</h1>\n<p class="meta">{made}.</p>\n'
        f'<nav aria-label="Sections"><ul>{links}</ul></nav>\n</header>\n'
    )


def write_html(
    doc: Mapping[str, Any],
    out: TextIO,
    *,
    sources: Sequence[str] = (),
    now: datetime | None = None,
    outside: Sequence[Mapping[str, Any]] | None = None,
    trend: Mapping[str, Any] | None = None,
) -> None:
    """The page of a JSON report ``doc``; ``trend``, the history's trend (a section after the
    statistics); ``sources`` names the saved reports it came from,
    ``now`` is when it was made (the clock's time by default), and ``outside`` lists the chosen
    users' groups of lines outside any activation (`render.json.unattached_dict`) in a report of
    chosen users; None, everyone's: then the errors outside any activation have a section."""
    acts: list[Mapping[str, Any]] = list(doc.get("activations") or ())
    loose = outside_of(outside or (), acts)
    person = person_of(acts, loose)
    names = stage_names(acts)
    context = context_map(doc.get("context") or ())
    log_end = {k: datetime.fromisoformat(v) for k, v in (doc.get("log_end") or {}).items() if v}
    counts = {s: sum(1 for a in acts if a.get("status") == s) for s in STATUSES}
    errors = errors_outside(doc.get("unattached") or ()) if outside is None else []
    title = f"Activation case file: {person}" if person else "BES activation report"
    with batched(out) as b:
        b.write(_head(title, len(acts), counts, names))
        made = (now or datetime.now()).astimezone()
        b.write(
            _header(
                title,
                made,
                sources,
                bool(person),
                details=bool(acts) or not person,
                outside=bool(loose),
                history=trend is not None,
                errors=bool(errors),
            )  # fmt: skip
        )
        b.write("<main>\n")
        b.write(_summary(doc, counts))
        if person and acts:
            b.write(details_section(acts, context, log_end, person=True))
        if person and loose:
            b.write(_outside(loose))
        b.write(_read(doc, acts))
        if not person:
            b.write(stats_section(doc, acts, names))
            if trend is not None:
                b.write(history_section(trend))
        b.write(_table(acts, counts))
        if errors:
            b.write(_errors_outside(errors))
        if not person:
            b.write(details_section(acts, context, log_end, person=False))
            if loose:
                b.write(_outside(loose))
        b.write(
            "</main>\n<footer><p>Times are the servers' local times, as the logs wrote them. "
            "Made by bes-logdiag, which reads BES logs and sends nothing anywhere.</p></footer>\n"
            f"<script>{JS}</script>\n</body>\n</html>\n"
        )


def _outside(loose: Sequence[Outside]) -> str:
    """The chosen users' lines outside any activation: a card per user and server with what the
    lines are, the article, and the first and last of them."""
    cards = []
    for o in loose:
        others = f' <span class="small">({esc(o.others)})</span>' if o.others else ""
        items = []
        for p in o.parts:
            if p.kb:
                items.append(f"<li>Article: <strong>{esc(p.kb)}</strong> {esc(p.kb_title or '')}</li>")
            rows = [(p.first, p.first.text)]
            rows += [(p.last, f"({last_note(p)})")] if p.last is not None else []
            mark = "&#x2717; " if p.error else ""  # (the cross the timelines draw for an error)
            items += [
                f"<li>{mark}{esc(human_time(line.time))} <code>{esc(line.where)}</code> {esc(text)}</li>"
                for line, text in rows
            ]
        cards.append(
            f'<article class="card outside"><h3>{esc(o.who)} on {esc(o.server)}{others}</h3>'
            f"<p>{esc(headline(o))}</p><ul>{''.join(items)}</ul></article>\n"
        )
    return (
        '<section id="outside" aria-labelledby="outside-h"><h2 id="outside-h">Outside any activation</h2>\n'
        '<p class="small">Lines of these users that belong to no activation: an activation begins with '
        "the device's ETP.DAT message, and none was under way.</p>\n" + "".join(cards) + "</section>\n"
    )


def _errors_outside(errors: Sequence[ErrorsOutside]) -> str:
    """The errors of users with no activation (`render.outside.errors_outside`), most lines first:
    on dense logs a mailbox the service account cannot open, for thousands who never activated."""
    rows = []
    for e in errors:
        kb = f"<strong>{esc(e.kb)}</strong> {esc(e.kb_title or '')}" if e.kb else ""
        users = users_words(e)
        rows.append(
            f"<tr><td>{esc(e.server or '-')}</td><td><code>{esc(e.error)}</code></td><td>{kb}</td>"
            f'<td class="num">{e.count:,}</td><td>{esc(users)}</td>'
            f"<td>{esc(human_time(e.first))}</td><td>{esc(human_time(e.last))}</td></tr>"
        )
    heads = "".join(
        f'<th scope="col"{cls}>{h}</th>'
        for h, cls in (("Server", ""), ("Error", ""), ("Article", ""), ("Lines", ' class="num"'),
                       ("Users", ""), ("First", ""), ("Last", ""))
    )  # fmt: skip
    return (
        '<section id="errors-outside" aria-labelledby="errors-outside-h">'
        '<h2 id="errors-outside-h">Errors outside any activation</h2>\n'
        '<p class="small">Error lines of users with no activation under way: an activation begins with '
        "the device's ETP.DAT message. <code>scan --user USER</code> tells one user's lines; "
        "<code>events</code> lists every line.</p>\n"
        + scroll(
            "Errors outside any activation",
            "<table><caption>Errors outside any activation, the most lines first</caption>"
            f"<thead><tr>{heads}</tr></thead><tbody>{''.join(rows)}</tbody></table>",
        )
        + "</section>\n"
    )


def _summary(doc: Mapping[str, Any], counts: Mapping[str, int]) -> str:
    total = sum(counts.values())
    stalls = sum(1 for a in doc.get("activations") or () if unconfirmed(a))
    items = "".join(f"<li>{status(s)}: <strong>{counts[s]:,}</strong></li>" for s in STATUSES)
    extra = (
        f"<p>{plural(stalls, 'stall')} unconfirmed: the logs that would show them moving on are missing.</p>"
        if stalls
        else ""
    )
    return (
        '<section id="summary" aria-labelledby="summary-h"><h2 id="summary-h">Summary</h2>\n'
        f"<p>{plural(total, 'activation')}:</p>\n"
        f'<ul class="counts">{items}</ul>\n{extra}</section>\n'
    )


def _days(spans: Iterable[tuple[date, date]]) -> str:
    """The days the spans cover, as ranges: ``2023-12-30 to 2024-01-01, 2024-01-05``."""
    days: set[date] = set()
    for first, last in spans:
        d = first
        while d <= last and len(days) < 10_000:
            days.add(d)
            d += timedelta(days=1)
    ranges: list[list[date]] = []
    for d in sorted(days):
        if ranges and d - ranges[-1][1] == timedelta(days=1):
            ranges[-1][1] = d
        else:
            ranges.append([d, d])
    return ", ".join(f"{a}" if a == b else f"{a} to {b}" for a, b in ranges) or "-"


def _read(doc: Mapping[str, Any], acts: Sequence[Mapping[str, Any]]) -> str:
    inputs: Mapping[str, Any] = doc.get("inputs") or {}
    groups: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for f in inputs.get("files") or ():
        groups.setdefault((f.get("server") or "", f.get("service") or ""), []).append(f)
    rows = []
    for (server, service), files in sorted(groups.items()):
        spans = [
            (datetime.fromisoformat(f["first_time"]).date(), datetime.fromisoformat(f["last_time"]).date())
            for f in files
            if f.get("first_time") and f.get("last_time")
        ]
        lines = sum(int(f.get("lines") or 0) for f in files)
        rows.append(
            f"<tr><td>{esc(server or '-')}</td><td>{esc(service or '-')}</td><td>{esc(_days(spans))}</td>"
            f'<td class="num">{len(files):,}</td><td class="num">{lines:,}</td></tr>'
        )
    ends = doc.get("log_end") or {}
    missing: dict[str, set[str]] = {}
    unconfirmed: dict[str, int] = {}
    for a in acts:
        if a.get("missing_logs"):
            server = a.get("server") or ""
            missing.setdefault(server, set()).update(a["missing_logs"])
            unconfirmed[server] = unconfirmed.get(server, 0) + 1
    parts = [
        '<section id="read" aria-labelledby="read-h"><h2 id="read-h">What was read</h2>\n',
        f"<p>{esc(_inputs_line(inputs))}</p>\n",
    ]
    if rows:
        parts.append(
            scroll(
                "Logs read per server",
                "<table><caption>Logs read, per server and service</caption><thead><tr>"
                '<th scope="col">Server</th><th scope="col">Service</th><th scope="col">Days covered</th>'
                '<th scope="col" class="num">Files</th><th scope="col" class="num">Lines</th></tr></thead>'
                f"<tbody>{''.join(rows)}</tbody></table>",
            )
        )
    if ends:
        listed = ", ".join(f"{esc(k or '-')} at {esc(when(v))}" for k, v in sorted(ends.items()) if v)
        parts.append(f"<p>The logs end: {listed}.</p>\n")
    if missing:
        listed = "; ".join(
            f"{esc(s or '-')}: no {esc(' or '.join(sorted(m)))} log where it was needed "
            f"({plural(unconfirmed[s], 'verdict')} could not be checked)"
            for s, m in sorted(missing.items())
        )
        parts.append(f"<p><strong>Missing logs:</strong> {listed}.</p>\n")
    parts.append(_listing("Skipped files", inputs.get("skipped") or (), "reason", partial=True))
    parts.append(_listing("Ignored files (not activation logs)", inputs.get("ignored") or (), "reason"))
    parts.append(
        _listing(
            "Files counted once (copies)", inputs.get("duplicates") or (), "same_as", prefix="same bytes as "
        )
    )
    notes = list(doc.get("notes") or ())
    if notes:
        items = "".join(f"<li>{esc(n)}</li>" for n in notes[:LIST_LIMIT])
        more = f"<li>and {len(notes) - LIST_LIMIT:,} more</li>" if len(notes) > LIST_LIMIT else ""
        parts.append(f"<details><summary>Notes ({len(notes):,})</summary><ul>{items}{more}</ul></details>\n")
    parts.append("</section>\n")
    return "".join(parts)


def _inputs_line(inputs: Mapping[str, Any]) -> str:
    read = int(inputs.get("files_read") or 0)
    line = f"{plural(read, 'file')} read, {int(inputs.get('files_skipped') or 0):,} skipped"
    line += f", {len(inputs.get('ignored') or ()):,} ignored"
    unparsed = int(inputs.get("unparsed") or 0)
    line += f"; {plural(int(inputs.get('lines') or 0), 'line')}, {int(inputs.get('matched') or 0):,} matched"
    return line + (f", {unparsed:,} unparsed." if unparsed else ".")


def _listing(
    what: str, items: Sequence[Mapping[str, Any]], field: str, *, partial: bool = False, prefix: str = ""
) -> str:
    if not items:
        return ""
    rows = []
    for item in items[:LIST_LIMIT]:
        part = " (in part)" if partial and item.get("partial") else ""
        rows.append(
            f"<li><code>{esc(item.get('path'))}</code>{part}: {esc(prefix)}{esc(item.get(field))}</li>"
        )
    if len(items) > LIST_LIMIT:
        rows.append(f"<li>and {len(items) - LIST_LIMIT:,} more</li>")
    return f"<details><summary>{esc(what)} ({len(items):,})</summary><ul>{''.join(rows)}</ul></details>\n"


COLUMNS = (
    ("Server", ""),
    ("User", ""),
    ("Status", "number"),
    ("Stage", "number"),
    ("KB", ""),
    ("Started", ""),
    ("Last milestone", ""),
    ("Tries", "number"),
)
"""The activations table's headings, each with the ``data-type`` its column sorts by."""


def _table(acts: Sequence[Mapping[str, Any]], counts: Mapping[str, int]) -> str:
    servers = sorted({a.get("server") or "" for a in acts})
    boxes = "".join(
        f'<label><input type="checkbox" name="status" value="{s}" checked> '
        f"{status(s)} ({counts[s]:,})</label>"
        for s in STATUSES
    )
    options = "".join(f'<option value="{esc(s)}">{esc(s or "-")}</option>' for s in servers)
    out = [
        '<section id="activations" aria-labelledby="acts-h"><h2 id="acts-h">Activations</h2>\n',
        '<form id="filters" class="filters js-only" hidden role="search" aria-label="Filter the activations">'
        f"<fieldset><legend>Status</legend>{boxes}</fieldset>"
        '<div class="field"><label for="f-server">Server</label>'
        f'<select id="f-server" name="server"><option value="">All servers</option>{options}</select></div>'
        '<div class="field"><label for="f-user">User</label>'
        '<input id="f-user" name="user" type="search" placeholder="address, name or id" '
        'autocomplete="off"></div>'
        '<p id="shown" role="status" aria-live="polite"></p></form>\n',
        '<table id="acts" class="acts" role="table"><caption>One row per activation: a user on a server'
        '<span class="js-only">; select a column heading to sort</span></caption>'
        '<thead role="rowgroup"><tr role="row">'
        + "".join(
            f'<th scope="col" role="columnheader"{f" data-type={chr(34)}{t}{chr(34)}" if t else ""}>{h}</th>'
            for h, t in COLUMNS
        )
        + "</tr></thead>\n",
    ]
    out += chunks([_row(i, a) for i, a in enumerate(acts)], ROW_CHUNK, "rows", "tbody", ' role="rowgroup"')
    out.append("</table>\n</section>\n")
    return "".join(out)


def _row(i: int, a: Mapping[str, Any]) -> str:
    name, others = who(a), other_names(a)
    st = str(a.get("status"))
    # (the forms --user finds a user by, folded: the page's filter folds what is typed alike)
    uid = a.get("user_id")
    search = " | ".join(
        sorted(name_forms(a.get("email"), None if uid is None else str(uid), a.get("display_name")))
    )
    kb = a.get("kb") or ""
    note = unconfirmed(a)
    kb_text = (f"{esc(kb)}{'?' if note else ''} " if kb else "") + esc(a.get("kb_title") or "")
    if note:
        kb_text += f' <span class="small">({esc(note)})</span>'
    others_html = f'<br><span class="small">{esc(others)}</span>' if others else ""
    last = a.get("last_milestone") or "-"
    stage = int(a.get("stage") or 0)
    return (
        f'<tr role="row" data-i="{i}" data-status="{esc(st)}" data-server="{esc(a.get("server") or "")}" '
        f'data-user="{esc(search)}">'
        f'<td role="cell" data-label="Server">{esc(a.get("server") or "-")}</td>'
        f'<td role="cell" data-label="User"><a href="#a-{i}">{esc(name)}</a>{others_html}</td>'
        f'<td role="cell" data-label="Status" data-sort="{RANK.get(st, 9)}">{status(st)}</td>'
        f'<td role="cell" data-label="Stage" data-sort="{stage}">'
        f"{stage} {esc(a.get('stage_name') or '')}</td>"
        f'<td role="cell" data-label="KB">{kb_text}</td>'
        f'<td role="cell" data-label="Started" data-sort="{esc(a.get("started") or "")}">'
        f"{esc(when(a.get('started')))}</td>"
        f'<td role="cell" data-label="Last milestone" data-sort="{esc(a.get("last_progress") or "")}">'
        f"<code>{esc(last)}</code>"
        f'<br><span class="small">{esc(when(a.get("last_progress")))}</span></td>'
        f'<td role="cell" data-label="Tries" class="num">{len(a.get("attempts") or ()) + 1}</td></tr>\n'
    )
