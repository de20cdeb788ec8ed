"""Across the files of one agent: what a thread carries over a size rotation or midnight."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from bes_logdiag.filescan import FileResult
from bes_logdiag.library import Library
from bes_logdiag.model import Event, LogKey, LogOrder, log_place
from bes_logdiag.names import clean_address, clean_name
from bes_logdiag.owners import Tail, owner_in


def owners_across_rotation(
    results: Sequence[FileResult], library: Library, window: timedelta
) -> list[FileResult]:
    """Give a user-less line at the start of a file the owner its thread had at the end of the
    file before it, when a rotation cut between the two (the key at the end of ``_0001``, the
    KEY_ACCEPT at the start of ``_0002``).

    The file before is the previous iteration of the same server, service, agent and day, or,
    for a day's first file, the last one of the day before (midnight).  A file that begins with
    its service starting up carries no thread over (`FileResult.fresh_start`).
    """
    inherit = {p.id: p.inherit_from for p in library.patterns if p.inherit_from}
    if not inherit:
        return list(results)
    by_agent: dict[LogKey, list[tuple[LogOrder, FileResult]]] = {}
    for r in results:
        place = log_place(r.stats.info)
        if place is not None:
            by_agent.setdefault(place[0], []).append((place[1], r))
    before_of: dict[int, FileResult] = {}
    for placed in by_agent.values():
        # Files at one place (``X_0002.txt`` and a ``Copy of X_0002.txt`` taken while it was
        # written) each follow the place before, never one another: of those at that place, the
        # one that reaches furthest, whose tail is the iteration's real end.
        at: dict[LogOrder, list[FileResult]] = {}
        for order, r in placed:
            at.setdefault(order, []).append(r)
        orders = sorted(at)
        for earlier, order in zip(orders, orders[1:]):
            before = max(at[earlier], key=_reach)
            for after in at[order]:
                gap = after.stats.info.day - before.stats.info.day  # type: ignore[operator]
                if gap <= timedelta(days=1) and not after.fresh_start and before.tail:
                    before_of[id(after)] = before
    out = []
    for r in results:
        prev = before_of.get(id(r))
        if prev is None or not r.events:  # (most of 20,000 small files match nothing)
            out.append(r)
        else:
            out.append(replace(r, events=tuple(_owned(e, inherit, prev.tail, window) for e in r.events)))
    return out


def _reach(r: FileResult) -> tuple[bool, datetime, int]:
    """How far a file reaches: its last time, then its size (a partial copy is the shorter)."""
    last = r.stats.last_time
    return (last is not None, last or datetime.min, r.stats.bytes)


def _owned(e: Event, inherit: dict[str, str], tail: Tail, window: timedelta) -> Event:
    milestone = inherit.get(e.pattern_id)
    if milestone is None or e.email or e.display_name or e.user_id:
        return e
    user = owner_in(tail, e.thread, milestone, e.time, window)
    if user is None:
        return e
    if "@" in user:
        return e._replace(email=clean_address(user), identity_from="thread")
    return e._replace(display_name=clean_name(user), identity_from="thread")
