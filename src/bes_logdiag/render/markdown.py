"""Markdown output to paste into a ticket: a GitHub-flavoured table of activations, a summary, then a
card for each stalled, failed or in-progress activation (`render.cards`: the HTML report's cards,
without the pictures).  A report of one person (``scan --user U``) is a case file: a heading names
them, every activation of theirs gets a card, and their lines outside any activation (a mailbox
the service account cannot open) are told under "Outside any activation" (`render.outside`).

Text cells escape the backslash and the characters that would end a cell or start inline markup
(``| * _ ` < > [ ]``); evidence (``file:line``) is shown as code spans, where only the pipe needs
escaping (GFM splits cells before it parses code spans), so Windows paths keep their backslashes;
milestone ids are code spans too.  Runs of whitespace (newlines too) become one space; the control
characters, escape sequences and bidi controls left are shown as escapes (`terminal`): the file is
often read in a terminal before it is pasted, and a code span would not stop them.  Log lines
around the evidence are fenced code blocks, their fence longer than any run of backticks inside.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TextIO

from bes_logdiag.model import Activation, Report, Unattached
from bes_logdiag.render.cards import Card, card_of, context_map, needs_card
from bes_logdiag.render.outside import (
    ERRORS_HINT,
    Outside,
    errors_lines,
    headline,
    last_note,
    outside_of,
    person_of,
)
from bes_logdiag.render.safe import terminal
from bes_logdiag.render.text import kb_label, other_names, server_name, summary_line, unconfirmed_note, who
from bes_logdiag.words import human_time

HEADER = ("Server", "User", "Status", "Stage", "KB", "Last milestone", "Evidence")
_MARKUP = re.compile(r"([\\|*_`<>\[\]])")


def text(value: str) -> str:
    return _MARKUP.sub(r"\\\1", terminal(" ".join(value.split())))


def code(value: str) -> str:
    value = terminal(" ".join(value.split())).replace("|", "\\|")
    # A backtick inside needs a longer fence (CommonMark code spans); spaces keep it off the edges.
    return f"`` {value} ``" if "`" in value else f"`{value}`"


def _who(a: Activation) -> str:
    """The name, then the other names in brackets."""
    others = other_names(a)
    return f"{who(a)} ({others})" if others else who(a)


def _brackets(text: str) -> str:
    return f"({text})" if text else ""


def row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _cells(a: Activation) -> list[str]:
    last, d = a.last, a.last.diagnosis
    milestone = code(last.last_milestone) if last.last_milestone else "-"
    return [
        text(server_name(a)),
        text(_who(a)),
        last.status.value,
        text(f"{last.stage} {last.stage_name}"),
        text(" ".join(x for x in (kb_label(last), d.kb_title, _brackets(unconfirmed_note(last))) if x)),
        f"{milestone} {human_time(last.last_progress)}",
        ", ".join(code(w) for w in d.evidence),
    ]


def write(report: Report, out: TextIO, *, outside: Sequence[Unattached] | None = None) -> None:
    """The table, the summary, the errors outside any activation, the cards; ``outside``: a report
    of chosen users (``--user``): their lines outside any activation instead of everyone's errors."""
    from bes_logdiag.render.json import activation_dict, context_items, unattached_dict

    acts = [activation_dict(a) for a in report.activations]
    loose = outside_of([unattached_dict(u) for u in outside or ()], acts)
    person = person_of(acts, loose)
    lines = [f"# Activation case file: {text(person)}", ""] if person else []
    lines += [row(HEADER), row(["---"] * len(HEADER))]
    lines += [row(_cells(a)) for a in report.activations]
    # The blank line ends the table: GFM would take a following plain line as one more row.
    lines += ["", text(summary_line(report))]
    if outside is None:
        lines += _errors_outside(report)
    shown = [(i, a) for i, a in enumerate(acts) if person or needs_card(a)]
    if shown:
        context = context_map(context_items(report))
        lines += ["", "## Details"]
        for i, a in shown:
            lines += card_lines(card_of(i, a, context))
    if loose:
        lines += ["", "## Outside any activation"]
        for o in loose:
            lines += outside_lines(o)
    out.write("\n".join(lines) + "\n")


def _errors_outside(report: Report) -> list[str]:
    """The errors of users with no activation (`render.outside.errors_lines`)."""
    said = errors_lines(report.unattached)
    if not said:
        return []
    return ["", "## Errors outside any activation", "", text(f"{ERRORS_HINT}."), ""] + [
        f"- {text(line)}" for line in said
    ]


def outside_lines(o: Outside) -> list[str]:
    """One user's lines outside any activation on one server: what they are, then a list of the
    article and the first and last lines."""
    lines = ["", f"### {text(f'{o.who} on {o.server}: {headline(o)}')}", ""]
    if o.others:
        lines.append(f"- **Names:** {text(o.others)}")
    for p in o.parts:
        if p.kb:
            lines.append(f"- **Article:** {text(' '.join(x for x in (p.kb, p.kb_title) if x))}")
        lines.append(
            f"- {code(p.first.where)} {text(human_time(p.first.time))} {text(p.first.text)}".rstrip()
        )
        if p.last is not None:
            lines.append(f"- {code(p.last.where)} {text(human_time(p.last.time))} ({text(last_note(p))})")
    return lines


def _fence(lines: Sequence[str]) -> str:
    """Three backticks, or one more than the longest run of them in ``lines``."""
    longest = max((len(run) for line in lines for run in re.findall(r"`+", line)), default=0)
    return "`" * max(3, longest + 1)


def card_lines(card: Card) -> list[str]:
    """One activation's card: a heading, the verdict's facts as a list, then the evidence."""
    head = f"{card.who} on {card.server}: {card.status} at stage {card.stage} ({card.stage_name})"
    lines = ["", f"### {text(head)}", ""]
    facts = []
    if card.others:
        facts.append(f"- **Names:** {text(card.others)}")
    if card.unconfirmed:
        facts.append(f"- **Verdict:** {text(card.unconfirmed)}")
    if card.kb:
        title = f" {card.kb_title}" if card.kb_title else ""
        facts.append(f"- **Article:** {text(card.kb + ('?' if card.unconfirmed else '') + title)}")
    if card.device:
        facts.append(f"- **Device shows:** {text(card.device)}")
    facts.append(f"- **Why:** {text(card.reason)}")
    if card.next_expected:
        facts.append(f"- **Expected next:** {code(card.next_expected)}")
    if card.missing_logs:
        facts.append(f"- **Missing logs:** {text(', '.join(card.missing_logs))}")
    if card.check:
        facts.append(f"- **What to check:** {text(card.check)}")
    facts += [f"- **Also consider:** {text(f'{c.kb} ({c.title}): {c.tell}')}" for c in card.candidates]
    if card.attempts > 1:
        facts.append(f"- **Attempts:** {card.attempts}")
    lines += facts
    if card.excerpts or card.bare:
        lines += ["", "Evidence:"]
    for x in card.excerpts:
        width = len(str(x.first + len(x.lines) - 1))
        body = [
            f"{'>' if n in x.marked else ' '} {n:>{width}} | {terminal(text)}"
            for n, text in enumerate(x.lines, x.first)
        ]
        fence = _fence(body)
        marked = ", ".join(str(n) for n in sorted(x.marked))
        which = f"lines {marked}" if len(x.marked) > 1 else f"line {marked}"
        lines += ["", f"{code(x.file)} {which}:", "", f"{fence}text", *body, fence]
    if card.bare:
        lines.append("")
        lines += [f"- {code(e.where)} {text(e.text)}".rstrip() for e in card.bare]
    return lines
