"""What a report made for chosen users (``scan --user``, ``timeline``) says about their lines outside
any activation: a user whose mailbox the service account cannot open, and who therefore never
activated, reads "no activation, but 14 mailbox_not_reachable errors (KB02276) from ... to ...",
with the first and the last of those lines, rather than a bare "no activation".

Built from the flat groups of `render.json.unattached_dict` (one per server, user and pattern), as
the cards are built from the JSON activations (`render.cards`), so that the table, Markdown, HTML
and the timeline say the same.  Only words and values here: each renderer escapes them for where they go.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bes_logdiag.evidence_context import split_where
from bes_logdiag.model import Unattached
from bes_logdiag.render.cards import library_text, other_names, who
from bes_logdiag.words import human_time, plural


@dataclass(frozen=True)
class Line:
    """The first or the last line of a group."""

    time: datetime
    where: str
    """``file:line``."""
    text: str
    """The log line's text; ``""`` for the last line of a group, whose text the report does not keep."""

    @property
    def file(self) -> str:
        parts = split_where(self.where)
        return parts[0] if parts else self.where

    @property
    def line(self) -> str:
        parts = split_where(self.where)
        return str(parts[1]) if parts else ""


@dataclass(frozen=True)
class Part:
    """One group: the lines of one pattern."""

    step: str
    """The error's name, else the milestone's, else the pattern id."""
    error: bool
    kb: str | None
    kb_title: str | None
    count: int
    first: Line
    last: Line | None
    """None when the group is one line."""


@dataclass(frozen=True)
class Outside:
    """One user's lines outside any activation on one server."""

    who: str
    others: str
    email: str | None
    user_id: str | None
    display_name: str | None
    server: str
    activated: bool
    """The report has an activation of this user on this server: these lines are besides it."""
    parts: tuple[Part, ...]


def _names(item: Mapping[str, Any]) -> set[str]:
    found = {f"email:{str(item.get('email')).lower()}"} if item.get("email") else set()
    found |= {f"id:{item['user_id']}"} if item.get("user_id") is not None else set()
    found |= {f"name:{item['display_name']}"} if item.get("display_name") else set()
    return found


def _part(g: Mapping[str, Any]) -> Part:
    evidence = [str(w) for w in g.get("evidence") or ()]
    first_where = evidence[0] if evidence else ""
    count = int(g.get("count") or 1)
    first = Line(datetime.fromisoformat(str(g["first"])), first_where, str(g.get("text") or ""))
    last = None
    if count > 1 and g.get("last"):
        last = Line(datetime.fromisoformat(str(g["last"])), evidence[-1] if evidence else "", "")
    kb = g.get("kb")
    return Part(
        step=str(g.get("error") or g.get("milestone") or g.get("pattern") or "?"),
        error=bool(g.get("error")),
        kb=kb,
        kb_title=_kb_title(kb),
        count=count,
        first=first,
        last=last,
    )


def outside_of(groups: Iterable[Mapping[str, Any]], acts: Sequence[Mapping[str, Any]] = ()) -> list[Outside]:
    """The groups (`render.json.unattached_dict`) per user and server, in the order of their first
    lines; ``acts`` (JSON ``activations``) tells which users have an activation there too."""
    by_key: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for g in groups:
        by_key.setdefault((str(g.get("server") or ""), who(g).lower()), []).append(g)
    out = []
    for (server, _), mine in by_key.items():
        head = mine[0]
        names = set().union(*(_names(g) for g in mine))
        activated = any(str(a.get("server") or "") == server and _names(a) & names for a in acts)
        uid = head.get("user_id")
        out.append(
            Outside(
                who=who(head),
                others=other_names(head),
                email=head.get("email"),
                user_id=None if uid is None else str(uid),
                display_name=head.get("display_name"),
                server=server or "-",
                activated=activated,
                parts=tuple(_part(g) for g in mine),
            )
        )
    return out


def part_words(p: Part, *, ms: bool = False) -> str:
    """``14 mailbox_not_reachable errors (KB02276) from 2024-01-01 08:30:12 to 2024-01-01
    09:10:40``, ``1 itpolicy_queued line at 2023-12-31 16:30:10``."""
    what = plural(p.count, f"{p.step} error" if p.error else f"{p.step} line")
    if p.kb:
        what += f" ({p.kb})"
    first = human_time(p.first.time, ms=ms)
    if p.last is None or p.last.time == p.first.time:
        return f"{what} at {first}"
    return f"{what} from {first} to {human_time(p.last.time, ms=ms)}"


def headline(o: Outside, *, ms: bool = False) -> str:
    """What the lines say, after the user's name and server: ``no activation, but 14 ... (KB02276)
    from ... to ...``; ``no activation, only 1 itpolicy_queued line at ...`` when none is an
    error; ``also, outside the activation: ...`` for a user who has one."""
    errors = [part_words(p, ms=ms) for p in o.parts if p.error]
    others = [part_words(p, ms=ms) for p in o.parts if not p.error]
    if o.activated:
        return "also, outside the activation: " + "; ".join(errors + others)
    if not errors:
        return "no activation, only " + "; ".join(others)
    also = f"; also {'; '.join(others)}" if others else ""
    return "no activation, but " + "; ".join(errors) + also


def last_note(p: Part) -> str:
    """What the last line of a group of several is: ``the last of 14``."""
    return f"the last of {p.count:,}"


def person_of(acts: Sequence[Mapping[str, Any]], outside: Sequence[Outside]) -> str | None:
    """The one person a report is about (a case file), counting the users of ``outside`` too:
    a ``scan --user`` report of someone with no activation is still theirs."""
    names = [who(a) for a in acts] + [o.who for o in outside]
    return names[0] if names and len({n.lower() for n in names}) == 1 else None


@dataclass(frozen=True)
class ErrorsOutside:
    """One error's lines on one server that no activation took in (the JSON ``unattached`` items
    of its patterns): on dense logs, a mailbox the service account cannot open for 2,000 users
    who never activated, which the table of activations does not show."""

    server: str | None
    error: str
    kb: str | None
    kb_title: str | None
    count: int
    users: tuple[str | None, ...]
    """Each user's name (`render.cards.who`); None for a line that names nobody."""
    first: datetime
    last: datetime


ERRORS_SHOWN = 5
"""Errors outside any activation named in a report of every user, the most lines first."""


def errors_outside(items: Iterable[Mapping[str, Any]]) -> list[ErrorsOutside]:
    """The error items of a report's ``unattached`` (`render.json.unattached_items`), per server
    and error (two patterns may log one error), the most lines first.  An item that cannot be
    read (a report edited by hand) is left out."""
    found: dict[tuple[str | None, str], _Gathered] = {}
    for item in items:
        try:
            error = item.get("error")
            if not error:
                continue  # (milestones outside an activation: IT policy pushes, not a problem)
            first = datetime.fromisoformat(str(item["first"]))
            last = datetime.fromisoformat(str(item.get("last") or item["first"]))
            count = int(item.get("count") or 0)
            users = [u for u in item.get("users") or () if isinstance(u, Mapping)]
        except (KeyError, TypeError, ValueError, AttributeError):
            continue
        kb = item.get("kb") if isinstance(item.get("kb"), str) else None
        g = found.setdefault((item.get("server"), str(error)), _Gathered(kb, first, last))
        g.kb = g.kb or kb
        g.count += count
        g.first, g.last = min(g.first, first), max(g.last, last)
        for u in users:  # (one user logged by two patterns is one user; two namesakes are two)
            key = tuple(str(u.get(k) or "") for k in ("email", "user_id", "display_name"))
            g.names.setdefault(key, who(u) if _named(u) else None)
    out = [
        ErrorsOutside(server, error, g.kb, _kb_title(g.kb), g.count, tuple(g.names.values()), g.first, g.last)
        for (server, error), g in found.items()
    ]
    return sorted(out, key=lambda e: -e.count)


def _kb_title(kb: str | None) -> str | None:
    """The article's title, from the built-in library."""
    article = library_text().articles.get(kb) if kb else None
    return article.title if article else None


@dataclass
class _Gathered:
    """One server's lines of one error, as the items of its patterns are read."""

    kb: str | None
    first: datetime
    last: datetime
    count: int = 0
    names: dict[tuple[str, ...], str | None] = field(default_factory=dict)
    """Each user's name (None: lines that name no user), by all their names."""


def _named(user: Mapping[str, Any]) -> bool:
    return any(user.get(k) not in (None, "") for k in ("email", "user_id", "display_name"))


NAMED_USERS = 3
"""Users of an error outside any activation named one by one; more are counted."""


def users_words(e: ErrorsOutside) -> str:
    """``kdoe@example.net, jroe@example.net``, ``1,959 users``, ``naming no user`` (a line without
    a user), ``2 users, and lines naming no user``."""
    named = [n for n in e.users if n is not None]
    if not named:
        return "naming no user"
    said = ", ".join(named) if len(named) <= NAMED_USERS else plural(len(named), "user")
    return f"{said}, and lines naming no user" if len(named) < len(e.users) else said


def errors_words(e: ErrorsOutside) -> str:
    """``7,980 mailbox_not_reachable errors (KB02276) of 1,959 users on BES_EAST_02, from
    2023-12-30 00:00:00 to 2024-01-01 23:50:00``; ``... of kdoe@example.net on ...``."""
    what = plural(e.count, f"{e.error} error")
    if e.kb:
        what += f" ({e.kb})"
    first, last = human_time(e.first), human_time(e.last)
    when = f"at {first}" if first == last else f"from {first} to {last}"
    where = f"on {e.server}" if e.server else "in input with no server name"
    who_ = users_words(e)
    if any(n is not None for n in e.users):
        who_ = f"of {who_}"
    return f"{what} {who_} {where}, {when}"


def more_errors(errors: Sequence[ErrorsOutside]) -> str | None:
    """What is said of the errors past `ERRORS_SHOWN`: ``and 3 more (12 lines)``."""
    rest = errors[ERRORS_SHOWN:]
    if not rest:
        return None
    return f"and {len(rest)} more ({plural(sum(e.count for e in rest), 'line')})"


ERRORS_HINT = "scan --user USER tells one user's; events lists every line"


def errors_lines(groups: Iterable[Unattached]) -> list[str]:
    """What a report of every user says under its summary (the table, Markdown): the first
    `ERRORS_SHOWN` errors outside any activation, then how many more; none when there are none."""
    from bes_logdiag.render.json import unattached_items

    errors = errors_outside(unattached_items(g for g in groups if g.error))
    more = more_errors(errors)
    return [errors_words(e) for e in errors[:ERRORS_SHOWN]] + ([more] if more else [])
