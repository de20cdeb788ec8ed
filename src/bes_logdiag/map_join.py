"""Joining names through user maps: which rows apply on a server, and why a row is refused."""

from __future__ import annotations

from collections import defaultdict

from bes_logdiag.identity_graph import IdentityGraph, entry_nodes
from bes_logdiag.model import Join, Note
from bes_logdiag.names import first_last, fold, fold_name
from bes_logdiag.usermap import MapEntry


def join_by_map(
    ids: IdentityGraph,
    own: list[MapEntry],
    shared: list[MapEntry],
    logged: LoggedNames,
    notes: list[str],
    where: str,
) -> tuple[list[MapEntry], set[str]]:
    """Join the names of the map rows that belong to this server; returns the rows used, and the
    addresses of the rows for any server whose id these logs never name (not joined on).

    A user id is only unique in one BES configuration database (BES-LOGS.md section 3): id 1002
    of one server is another person on the next.  So:

    - a row of this server (its server column, or ``--users SERVER=FILE``) is this server's own
      database speaking: wherever one of its names is in the logs, all of its names are joined,
      unless the map contradicts itself (one id, two addresses) or the row is older than the logs
      (`_stale`);
    - a row that names no server may come from another server's database.  It is used only where
      the logs show it is this person: they hold its address (an SMTP address is one person on
      every server), or its user id under its display name (``[Last, First:N]``).  Even then it is
      refused, with a note, when the logs contradict it: its id logged under another display
      name, or its display name logged only under other ids; one of its names already tied (on
      one line, or by a row of this server) to another address or id; or another such row giving
      its address another id or its id another address.
      An id that merely occurs in the logs never pulls in the address of a row.
    - a display name that rows of different people share is no key: it is not joined on.
    """
    present = set(ids.parent)
    used = [m for m in own if len(entry_nodes(m)) > 1 and not present.isdisjoint(entry_nodes(m))]
    fitting = [m for m in shared if len(entry_nodes(m)) > 1 and _anchored(m, present, logged)]
    common = _common_names(used + fitting)
    # Rows of this server's own map that give one id two addresses, or one address two ids, are a
    # map gone wrong: joining them would make two people one.  A row whose id these logs never
    # name, while they name its display name under another id, is older than the logs (the user
    # was made again): joining it would give the address an id nobody logs and split the user.
    refused = _clashes(used)
    claimed = {m.user_id for m in own if m.user_id}  # (a namesake the map knows is no sign of age)
    for m in used:
        problem = refused.get(m) or _stale(m, logged, claimed, present)
        if problem is not None:
            refused[m] = problem
            _refuse(m, problem, notes, where)
        else:
            _union_row(ids, m, common)
    used = [m for m in used if m not in refused]
    tied = _ties(ids)
    clashes = _clashes(fitting)
    unlent: set[str] = set()
    for m in fitting:
        problem = clashes.get(m) or _contradiction(m, tied, logged)
        if problem is not None:
            _refuse(m, problem, notes, where)
            continue
        # Its id may be another database's (the map exported on one server, used for all): one
        # these logs never name joins nothing, so that the order in time may still find the id
        # this server gave the user.  It is shown only if nothing in the logs gives one.
        lent = m.user_id is None or f"i:{m.user_id}" in present
        if not lent and m.email:
            unlent.add(m.email)
        _union_row(ids, m, common, with_id=lent)
        used.append(m)
    return used, unlent


def _refuse(m: MapEntry, problem: str, notes: list[str], where: str) -> None:
    names = ", ".join(x for x in (m.email, m.user_id, m.display_name) if x)
    notes.append(Note(f"{where}: not using user map row {m.source}:{m.line} ({names}): {problem}", _NOT_USED))


_NOT_USED = "user map rows not used"
"""The kind of the notes of refused rows (`Note`): a map of thousands can have thousands."""


class LoggedNames:
    """The display names a server's logs give each user id (``[Last, First:N]``), and back: built
    once per server, for the user map's joins (`join_by_map`, `join_by_logged_name`)."""

    def __init__(self, holders: dict[str, set[str]]) -> None:
        self.names = {n[2:]: names for n, names in holders.items() if n.startswith("i:")}
        self.ids: dict[str, set[str]] = defaultdict(set)
        for user_id, names in self.names.items():
            for name in names:
                self.ids[_name_form(name)].add(user_id)

    def of(self, user_id: str) -> set[str]:
        return self.names.get(user_id, set())

    def under(self, name: str) -> set[str]:
        """The user ids logged with this display name (accents folded, spaces evened out)."""
        return self.ids.get(_name_form(name), set())


def _name_form(display: str) -> str:
    """``Müller,Jürgen``, ``Müller, Jürgen`` and ``Jürgen Müller`` alike: folded, spaces evened
    out, first name first (a map and the logs may write a name in either order)."""
    first, _, last = first_last(fold_name(display))
    return f"{first.strip()} {last.strip()}".strip()


def _anchored(m: MapEntry, present: set[str], logged: LoggedNames) -> bool:
    """Whether this server's logs hold the row's address, or its id under its display name."""
    if m.email and f"e:{m.email}" in present:
        return True
    return bool(m.user_id and m.display_name and m.user_id in logged.under(m.display_name))


def _contradiction(m: MapEntry, tied: dict[str, set[str]], logged: LoggedNames) -> str | None:
    """What in this server's logs (or its own map rows) says a shared row is someone else."""
    if m.user_id and m.display_name:
        names, ids = logged.of(m.user_id), logged.under(m.display_name)
        if names and m.user_id not in ids:
            return f"these logs show user id {m.user_id} as '{sorted(names)[0]}'"
        if not names and ids:
            return (
                f"these logs show '{m.display_name}' as user id {' and '.join(sorted(ids, key=_by_number))}"
            )
    node = f"i:{m.user_id}"
    for n in entry_nodes(m):
        for other in sorted(tied.get(n, ())):
            if other.startswith("e:") and m.email and other != f"e:{m.email}":
                return f"{n[2:]} is tied to {other[2:]} on this server"
            if other.startswith("i:") and m.user_id and other != node:
                return f"{n[2:]} is tied to user id {other[2:]} on this server"
    return None


def _stale(m: MapEntry, logged: LoggedNames, claimed: set[str], present: set[str]) -> str | None:
    """What says an own row is older than the logs: its display name logged under other ids only,
    none of them another row's (``claimed``: a namesake), and its id nowhere in the logs (not on a
    POLC line either: ``present``, the names the logs hold)."""
    if not (m.user_id and m.display_name) or f"i:{m.user_id}" in present:
        return None
    ids = logged.under(m.display_name)
    if not ids or m.user_id in ids or not ids.isdisjoint(claimed):
        return None
    shown = " and ".join(sorted(ids, key=_by_number))
    return f"these logs show '{m.display_name}' as user id {shown}, and user id {m.user_id} nowhere"


def _by_number(user_id: str) -> tuple[int, str]:
    return len(user_id), user_id


def _clashes(rows: list[MapEntry]) -> dict[MapEntry, str]:
    """Shared rows that give one address two ids, or one id two addresses (maps of two servers)."""
    ids_of: dict[str, set[str]] = defaultdict(set)
    emails_of: dict[str, set[str]] = defaultdict(set)
    for m in rows:
        if m.email and m.user_id:
            ids_of[m.email].add(m.user_id)
            emails_of[m.user_id].add(m.email)
    out = {}
    for m in rows:
        if m.email and len(ids_of[m.email]) > 1:
            given = ", ".join(sorted(ids_of[m.email], key=_by_number))
            out[m] = f"the user map gives {m.email} the user ids {given}"
        elif m.user_id and len(emails_of[m.user_id]) > 1:
            out[m] = f"the user map gives user id {m.user_id} to {', '.join(sorted(emails_of[m.user_id]))}"
    return out


def _common_names(rows: list[MapEntry]) -> set[str]:
    """Display-name nodes that rows of different people share (two John Smiths): rows that give
    the name two addresses, or two ids, between them."""
    emails: dict[str, set[str]] = defaultdict(set)
    ids: dict[str, set[str]] = defaultdict(set)
    for m in rows:
        if m.display_name:
            node = f"n:{fold(m.display_name)}"
            if m.email:
                emails[node].add(m.email)
            if m.user_id:
                ids[node].add(m.user_id)
    return {n for given in (emails, ids) for n, values in given.items() if len(values) > 1}


def _ties(ids: IdentityGraph) -> dict[str, set[str]]:
    """Each node with the addresses, ids and names of its group, as the joins so far made it."""
    groups: dict[str, set[str]] = defaultdict(set)
    for x in list(ids.parent):
        groups[ids.find(x)].add(x)
    return {x: groups[ids.find(x)] for x in ids.parent}


def _union_row(ids: IdentityGraph, m: MapEntry, common: set[str], *, with_id: bool = True) -> None:
    nodes = entry_nodes(m)
    keys = [n for n in nodes if n not in common and (with_id or not n.startswith("i:"))]
    join = Join("map", f"user map: {', '.join(x[2:] for x in nodes)}")
    for n in keys[1:]:
        ids.union(keys[0], n, join)


def join_by_logged_name(ids: IdentityGraph, rows: list[MapEntry], logged: LoggedNames) -> None:
    """Rows without an id (a map of addresses and display names): SYNC logs a name beside its id
    (``[Müller, Jörg:4711]``), an attribute of the id, not a name of its own, so the row's name
    joins nothing by itself.  After every other join, a row's address takes the one id logged
    under its display name, where neither has the other kind yet: a namesake who got further
    (his SYNC lines, his address joined by time) keeps his id."""
    common = _common_names(rows)
    for m in rows:
        if (
            m.user_id is not None
            or not m.email
            or not m.display_name
            or f"n:{fold(m.display_name)}" in common
        ):
            continue
        logged_as = logged.under(m.display_name)
        if len(logged_as) != 1:
            continue
        node, email = f"i:{next(iter(logged_as))}", f"e:{m.email}"
        if ids.has(ids.find(node), "e:") or ids.has(ids.find(email), "i:"):
            continue
        ids.union(
            email, node, Join("map", f"user map: {m.email}, {m.display_name} (logged as user id {node[2:]})")
        )
