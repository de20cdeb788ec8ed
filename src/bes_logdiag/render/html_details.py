"""The HTML report's details: a card per activation that did not complete (`render.cards`) with its
timeline (`svg_timeline`) and the log lines around its evidence, then each completed activation's
timeline; in a case file (one person), every activation gets a whole card.

A report of thousands of activations folds its cards past the first `STATIC_CARDS`: a folded card
holds its heading and reason, and the rest as a comment that the page's script draws as it nears
the screen, is linked to, or is printed.  A 10,000-activation page then parses in about the time a
few hundred cards take (benchmarks/html.py); without the script, a folded card shows its reason.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from bes_logdiag.render.cards import Card, card_of, needs_card, other_names, who
from bes_logdiag.render.html_parts import chunks, esc, status
from bes_logdiag.render.svg_timeline import timeline_svg

STATIC_CARDS = 500
"""Cards drawn in full in the page itself; the rest are folded."""
CARD_CHUNK = 50
"""Cards per group (`html_parts.chunks`)."""

LEGEND = (
    '<p class="small">In each timeline, time runs to the right (compressed: long waits are shortened and '
    "marked with a zigzag), a dot is a milestone in its stage's lane, a cross an error, and earlier "
    "attempts are faint; hover over a mark for its time and line. A bar on the right measures the time "
    "since the last progress against the stage's stall threshold (hatched: past it).</p>\n"
)


def details_section(
    acts: Sequence[Mapping[str, Any]],
    context: Mapping[str, Mapping[str, Any]],
    log_end: Mapping[str, datetime],
    *,
    person: bool,
) -> str:
    """The ``<section id="details">``; ``person``: a case file's, every activation in full."""
    cards = [i for i, a in enumerate(acts) if person or needs_card(a)]
    done = [] if person else [i for i, a in enumerate(acts) if not needs_card(a)]
    out = ['<section id="details" aria-labelledby="details-h"><h2 id="details-h">Details</h2>\n', LEGEND]
    drawn: list[str] = []
    for i in cards:
        card = card_of(i, acts[i], context)
        inner = _card(card, timeline_svg(i, acts[i], log_end.get(acts[i].get("server") or "")))
        drawn.append(_article(i, card.status, inner, _stub(acts[i]) if len(drawn) >= STATIC_CARDS else None))
    if cards and not person:
        out.append('<h3 class="group">Stalled, failed and in progress</h3>\n')
    out += chunks(drawn, CARD_CHUNK, "cards")
    more: list[str] = []
    for i in done:
        inner = _complete(i, acts[i])
        folded = len(drawn) + len(more) >= STATIC_CARDS
        more.append(_article(i, "complete", inner, _stub(acts[i]) if folded else None))
    if done:
        out.append('<h3 class="group">Completed</h3>\n')
    out += chunks(more, CARD_CHUNK, "cards")
    out.append("</section>\n")
    return "".join(out)


def _complete(i: int, a: Mapping[str, Any]) -> str:
    """A completed activation's card: who, the reason, the timeline."""
    others = other_names(a)
    extra = f' <span class="small">({esc(others)})</span>' if others else ""
    return (
        f"<h3>{status('complete')} {esc(who(a))} on {esc(a.get('server') or '-')}{extra}</h3>"
        f"<p>{esc(a.get('reason') or '')}</p><figure>{timeline_svg(i, a, None)}</figure>"
    )


def _article(i: int, st: str, inner: str, stub: str | None) -> str:
    """A card: drawn in full, or (``stub``) folded: its heading and reason, the rest in a comment.
    No ``-->`` ends the comment early: text is escaped (``>`` as ``&gt;``), and the page's own
    markup never holds it; the replace is a second lock."""
    if stub is None:
        return f'<article class="card {esc(st)}" id="a-{i}" data-i="{i}">{inner}</article>\n'
    body = inner.replace("-->", "--&gt;").replace("--!>", "--!&gt;")
    return f'<article class="card {esc(st)} lazy" id="a-{i}" data-i="{i}">{stub}<!--{body}--></article>\n'


def _stub(a: Mapping[str, Any]) -> str:
    kb = f" {esc(a.get('kb'))} {esc(a.get('kb_title') or '')}:" if a.get("kb") else ""
    return (
        f"<h3>{esc(who(a))} on {esc(a.get('server') or '-')}</h3>"
        f"<p>{status(str(a.get('status')))} at stage {int(a.get('stage') or 0)}.{kb} "
        f"{esc(a.get('reason') or '')}</p>"
    )


def _facts(card: Card) -> list[tuple[str, str]]:
    """The card's facts, each a term and its HTML."""
    facts: list[tuple[str, str]] = []
    if card.others:
        facts.append(("Names", esc(card.others)))
    verdict = f"{status(card.status)} at stage {card.stage} ({esc(card.stage_name)})"
    if card.unconfirmed:
        verdict += f" <strong>({esc(card.unconfirmed)})</strong>"
    if card.attempts > 1:
        verdict += f", after {card.attempts - 1} earlier {'attempt' if card.attempts == 2 else 'attempts'}"
    facts.append(("Verdict", verdict))
    if card.kb:
        kb = f"{card.kb}?" if card.unconfirmed else card.kb
        facts.append(("Article", f"<strong>{esc(kb)}</strong> {esc(card.kb_title or '')}"))
    if card.device:
        facts.append(("Device shows", esc(card.device)))
    facts.append(("Why", esc(card.reason)))
    if card.next_expected:
        facts.append(("Expected next", f"<code>{esc(card.next_expected)}</code>"))
    if card.missing_logs:
        facts.append(("Missing logs", esc(", ".join(card.missing_logs))))
    if card.check:
        facts.append(("What to check", esc(card.check)))
    if card.candidates:
        items = "".join(
            f"<li><strong>{esc(c.kb)}</strong> {esc(c.title)}: {esc(c.tell)}</li>" for c in card.candidates
        )
        facts.append(("Also consider", f"<ul>{items}</ul>"))
    return facts


def _card(card: Card, svg: str) -> str:
    dl = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in _facts(card))
    out = [f'<h3>{esc(card.who)} on {esc(card.server)}</h3><dl class="facts">{dl}</dl><figure>{svg}</figure>']
    if card.excerpts or card.bare:
        out.append("<h4>Evidence</h4>")
    for x in card.excerpts:
        width = len(str(x.first + len(x.lines) - 1))
        lines = []
        for n, text in enumerate(x.lines, x.first):
            # the evidence line: marked by a sign as well as by its colour
            line = f'<span class="ln">{"&gt;" if n in x.marked else " "} {n:>{width}} </span>{esc(text)}'
            lines.append(f'<mark class="hit">{line}</mark>' if n in x.marked else line)
        numbers = ", ".join(str(n) for n in sorted(x.marked))
        where = f"<code>{esc(x.file)}</code>, line{'s' if len(x.marked) > 1 else ''} {numbers}"
        out.append(f'<p class="small">{where}</p><pre class="ctx">{chr(10).join(lines)}</pre>')
    if card.bare:
        items = "".join(f"<li><code>{esc(e.where)}</code> {esc(e.text)}</li>" for e in card.bare)
        out.append(f"<ul>{items}</ul>")
    return "".join(out)
