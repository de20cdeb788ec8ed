"""What a card says about one activation, the same in HTML and Markdown: who and where, the verdict,
the reason, the article with what the device shows and what to check, what should come next, the
other articles, and the evidence lines with the log lines around them.

Built from the JSON document (`render.json`), so that a report rendered from saved JSON files
(``bes-logdiag report``) says what the scan's own HTML says.  The articles' device text and what to
check come from the built-in pattern library (``kb.toml``).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bes_logdiag.evidence_context import split_where
from bes_logdiag.model import Candidate


@dataclass(frozen=True)
class ArticleText:
    title: str
    device: str
    check: str


@dataclass(frozen=True)
class Excerpt:
    """Lines of one file around one or more evidence lines (``marked``)."""

    file: str
    first: int
    lines: tuple[str, ...]
    marked: frozenset[int]


@dataclass(frozen=True)
class EvidenceLine:
    """An evidence line without its surroundings (they could not be read again): the matched
    line's own text, as the scan kept it."""

    where: str
    text: str


@dataclass(frozen=True)
class Card:
    index: int
    """The activation's place in the report (``activations[index]``): the card's anchor."""
    who: str
    others: str
    server: str
    status: str
    stage: int
    stage_name: str
    unconfirmed: str
    """``unconfirmed: no POLC log`` for a stall the missing logs leave open, else ``""``."""
    kb: str | None
    kb_title: str | None
    device: str | None
    check: str | None
    reason: str
    last_milestone: str | None
    next_expected: str | None
    missing_logs: tuple[str, ...]
    candidates: tuple[Candidate, ...]
    excerpts: tuple[Excerpt, ...]
    bare: tuple[EvidenceLine, ...]
    """The evidence lines no excerpt shows."""
    attempts: int


def who(act: Mapping[str, Any]) -> str:
    """The name an activation goes by (as `render.text.who`): address, display name, or user id."""
    return str(act.get("email") or act.get("display_name") or f"UserId={act.get('user_id')}")


def other_names(act: Mapping[str, Any]) -> str:
    """Its names beside `who` (as `render.text.other_names`), ``""`` when there are none."""
    if not (act.get("email") or act.get("display_name")):
        return ""
    names = (act.get("display_name") if act.get("email") else None, act.get("user_id"))
    return " · ".join(str(x) for x in names if x is not None and x != "")


def unconfirmed(act: Mapping[str, Any]) -> str:
    missing = act.get("missing_logs") or []
    if act.get("status") != "stalled" or not missing:
        return ""
    return f"unconfirmed: no {' or '.join(missing)} log"


@dataclass(frozen=True)
class LibraryText:
    articles: Mapping[str, ArticleText]
    stages: Mapping[int, str]
    """Each stage's name."""


@functools.lru_cache(maxsize=1)
def library_text() -> LibraryText:
    """The built-in library's articles and stage names; none when it cannot be read (a card then
    names an article by its id and title only)."""
    from bes_logdiag.errors import BesLogdiagError
    from bes_logdiag.library import load_library

    try:
        lib = load_library()
    except (BesLogdiagError, OSError):
        return LibraryText({}, {})
    return LibraryText(
        {k: ArticleText(a.title, a.device, a.check) for k, a in lib.articles.items()},
        {n: s.name for n, s in lib.stages.items()},
    )


def stage_names(acts: Iterable[Mapping[str, Any]]) -> dict[int, str]:
    """Each stage's name as the report's activations give it, else as the built-in library does."""
    names = dict(library_text().stages)
    for act in acts:
        for a in (*(act.get("attempts") or ()), act):
            if a.get("stage") and a.get("stage_name"):
                names[int(a["stage"])] = str(a["stage_name"])
    return names


def excerpts(evidence: Sequence[str], context: Mapping[str, Mapping[str, Any]]) -> list[Excerpt]:
    """The context of each evidence line, windows of one file that touch or overlap joined."""
    windows: list[Excerpt] = []
    for where in evidence:
        c, parts = context.get(where), split_where(where)
        if c is None or parts is None:
            continue
        lines = tuple(str(x) for x in c.get("lines") or ())
        windows.append(Excerpt(parts[0], int(c["first_line"]), lines, frozenset({parts[1]})))
    windows.sort(key=lambda w: (w.file, w.first))
    out: list[Excerpt] = []
    for w in windows:
        prev = out[-1] if out else None
        if prev is not None and prev.file == w.file and w.first <= prev.first + len(prev.lines):
            joined = dict(enumerate(prev.lines, prev.first)) | dict(enumerate(w.lines, w.first))
            text = tuple(joined[n] for n in sorted(joined))
            out[-1] = Excerpt(w.file, prev.first, text, prev.marked | w.marked)
        else:
            out.append(w)
    return out


def card_of(
    index: int,
    act: Mapping[str, Any],
    context: Mapping[str, Mapping[str, Any]],
    articles: Mapping[str, ArticleText] | None = None,
) -> Card:
    """The card of ``act`` (an item of the JSON ``activations``); ``context`` maps ``file:line``
    to the JSON ``context`` items."""
    articles = library_text().articles if articles is None else articles
    kb = act.get("kb")
    article = articles.get(kb) if kb else None
    evidence = [str(w) for w in act.get("evidence") or ()]
    shown = excerpts(evidence, context)
    in_excerpts = {f"{x.file}:{n}" for x in shown for n in x.marked}
    texts = {f"{e.get('file')}:{e.get('line')}": str(e.get("text") or "") for e in _events(act)}
    return Card(
        index=index,
        who=who(act),
        others=other_names(act),
        server=str(act.get("server") or "-"),
        status=str(act.get("status")),
        stage=int(act.get("stage") or 0),
        stage_name=str(act.get("stage_name") or ""),
        unconfirmed=unconfirmed(act),
        kb=kb,
        kb_title=act.get("kb_title"),
        device=article.device if article else None,
        check=article.check if article else None,
        reason=str(act.get("reason") or ""),
        last_milestone=act.get("last_milestone"),
        next_expected=act.get("next_expected"),
        missing_logs=tuple(act.get("missing_logs") or ()),
        candidates=tuple(
            Candidate(str(c.get("kb")), str(c.get("title")), str(c.get("tell")))
            for c in act.get("candidates") or ()
        ),
        excerpts=tuple(shown),
        bare=tuple(EvidenceLine(w, texts.get(w, "")) for w in evidence if w not in in_excerpts),
        attempts=len(act.get("attempts") or ()) + 1,
    )


def _events(act: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    yield from act.get("milestones") or ()
    yield from act.get("errors") or ()


def context_map(items: Iterable[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """The JSON ``context`` list keyed by its ``evidence`` (``file:line``)."""
    return {str(c["evidence"]): c for c in items if "evidence" in c and "first_line" in c}


def needs_card(act: Mapping[str, Any]) -> bool:
    """Stalled, failed and in-progress activations get a card in every report."""
    return act.get("status") != "complete"
