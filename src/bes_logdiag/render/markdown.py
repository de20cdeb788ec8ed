"""Markdown output to paste into a ticket: a GitHub-flavoured table of activations, then a summary.

Text cells escape the backslash and the characters that would end a cell or start inline markup
(``| * _ ` < > [ ]``); evidence (``file:line``) is shown as code spans, where only the pipe needs
escaping (GFM splits cells before it parses code spans), so Windows paths keep their backslashes;
milestone ids are code spans too.  Runs of whitespace (newlines too) become one space; the control
characters, escape sequences and bidi controls left are shown as escapes (`terminal`): the file is
often read in a terminal before it is pasted, and a code span would not stop them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TextIO

from bes_logdiag.model import Activation, Report
from bes_logdiag.render.safe import terminal
from bes_logdiag.render.text import kb_label, other_names, server_name, summary_line, unconfirmed_note, who

HEADER = ("Server", "User", "Status", "Stage", "KB", "Last milestone", "Evidence")
_MARKUP = re.compile(r"([\\|*_`<>\[\]])")


def _text(value: str) -> str:
    return _MARKUP.sub(r"\\\1", terminal(" ".join(value.split())))


def _code(value: str) -> str:
    value = terminal(" ".join(value.split())).replace("|", "\\|")
    # A backtick inside needs a longer fence (CommonMark code spans); spaces keep it off the edges.
    return f"`` {value} ``" if "`" in value else f"`{value}`"


def _who(a: Activation) -> str:
    """The name, then the other names in brackets."""
    others = other_names(a)
    return f"{who(a)} ({others})" if others else who(a)


def _brackets(text: str) -> str:
    return f"({text})" if text else ""


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _cells(a: Activation) -> list[str]:
    last, d = a.last, a.last.diagnosis
    milestone = _code(last.last_milestone) if last.last_milestone else "-"
    return [
        _text(server_name(a)),
        _text(_who(a)),
        last.status.value,
        _text(f"{last.stage} {last.stage_name}"),
        _text(" ".join(x for x in (kb_label(last), d.kb_title, _brackets(unconfirmed_note(last))) if x)),
        f"{milestone} {last.last_progress:%Y-%m-%d %H:%M:%S}",
        ", ".join(_code(w) for w in d.evidence),
    ]


def write(report: Report, out: TextIO) -> None:
    lines = [_row(HEADER), _row(["---"] * len(HEADER))]
    lines += [_row(_cells(a)) for a in report.activations]
    # The blank line ends the table: GFM would take a following plain line as one more row.
    lines += ["", _text(summary_line(report))]
    out.write("\n".join(lines) + "\n")
