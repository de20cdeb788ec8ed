"""The identity join: the three names of a user (BES-LOGS.md section 3) grouped into one person."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from bes_logdiag.model import Event, Join
from bes_logdiag.names import email_key, fold, name_keys
from bes_logdiag.usermap import MapEntry
from bes_logdiag.words import duration


class _Identities:
    """Union-find over identity nodes (``e:`` address, ``i:`` user id, ``n:`` display name)."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}
        self.joins: dict[str, list[Join]] = defaultdict(list)

    def find(self, x: str) -> str:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: str, b: str, join: Join | None = None) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[rb] = ra
            self.joins[ra].extend(self.joins.pop(rb, []))
        if join is not None:
            self.joins[ra].append(join)

    def members(self, root: str) -> list[str]:
        return [x for x in self.parent if self.find(x) == root]

    def has(self, root: str, prefix: str) -> bool:
        return any(x.startswith(prefix) for x in self.members(root))


def _nodes(e: Event) -> list[str]:
    """Identity nodes of an event.  A display name next to a user id is an attribute of that id,
    not a node of its own: two people may share a name, never an id."""
    out = []
    if e.email:
        out.append(f"e:{e.email}")
    if e.user_id:
        out.append(f"i:{e.user_id}")
    elif e.display_name:
        out.append(f"n:{fold(e.display_name)}")
    return out


@dataclass
class Person:
    """One user on one server, with every event that names them under any of their names."""

    server: str | None
    email: str | None = None
    user_id: str | None = None
    display_name: str | None = None
    events: list[Event] = field(default_factory=list)
    joins: tuple[Join, ...] = ()


def join_identities(
    events: Sequence[Event],
    user_map: Iterable[MapEntry] = (),
    *,
    request: str | None,
    answer: str | None,
    window: timedelta = timedelta(minutes=2),
) -> tuple[list[Person], list[Event], list[str]]:
    """Group events by person, per server.  Returns persons, events naming nobody, and notes.

    Joins, strongest first: the user map; names that share a line (``[Last, First:N]``); the
    shape of the address against the display name; and, last, the order in time of MAGT's
    service-book request and POLC's IT-policy line.  Ambiguous guesses are refused with a note.
    ``request`` and ``answer`` name those two milestones (the library's ``join`` roles); without
    both, the time-order join is off.
    """
    by_server: dict[str | None, list[Event]] = defaultdict(list)
    for e in events:
        by_server[e.server].append(e)
    entries = list(user_map)
    pair = (request, answer) if request is not None and answer is not None else None
    persons: list[Person] = []
    orphans: list[Event] = []
    notes: list[str] = []
    for server in sorted(by_server, key=lambda s: s or ""):
        p, o, n = _join_server(server, by_server[server], entries, pair, window)
        persons.extend(p)
        orphans.extend(o)
        notes.extend(n)
    return persons, orphans, notes


def _join_server(
    server: str | None,
    events: list[Event],
    entries: list[MapEntry],
    pair: tuple[str, str] | None,
    window: timedelta,
) -> tuple[list[Person], list[Event], list[str]]:
    ids = _Identities()
    notes: list[str] = []
    where = f"server {server}" if server else "input without a server name"
    for e in events:
        nodes = _nodes(e)
        for n in nodes:
            ids.find(n)
        for n in nodes[1:]:
            ids.union(nodes[0], n, Join("id", f"{nodes[0][2:]} and {n[2:]} share a line ({e.where})"))
    present = set(ids.parent)
    for m in entries:
        nodes = list(_entry_nodes(m))
        if not any(n in present for n in nodes):
            continue
        for n in nodes[1:]:
            ids.union(nodes[0], n, Join("map", f"user map: {', '.join(x[2:] for x in nodes)}"))
    _join_by_name(ids, _holders(events), notes, where)
    if pair is not None:
        _join_by_time(ids, events, *pair, window, notes, where)

    people: dict[str, Person] = {}
    orphans: list[Event] = []
    for e in events:
        nodes = _nodes(e)
        if not nodes:
            orphans.append(e)
            continue
        root = ids.find(nodes[0])
        person = people.get(root)
        if person is None:
            person = people[root] = Person(server=server)
        person.events.append(e)
        person.email = person.email or e.email
        person.user_id = person.user_id or e.user_id
        person.display_name = person.display_name or e.display_name
    for root, person in people.items():
        person.joins = tuple(dict.fromkeys(ids.joins.get(root, [])))
        mapped = _map_entry_for(person, entries)
        if mapped is not None:
            person.email = person.email or mapped.email
            person.user_id = person.user_id or mapped.user_id
            person.display_name = person.display_name or mapped.display_name
    return list(people.values()), orphans, notes


def _entry_nodes(m: MapEntry) -> list[str]:
    out = []
    if m.email:
        out.append(f"e:{m.email}")
    if m.user_id:
        out.append(f"i:{m.user_id}")
    if m.display_name:
        out.append(f"n:{fold(m.display_name)}")
    return out


def _holders(events: list[Event]) -> dict[str, set[str]]:
    """Which display names each identity node is known by (ids from ``[Last, First:N]``)."""
    names: dict[str, set[str]] = defaultdict(set)
    for e in events:
        if e.display_name:
            node = f"i:{e.user_id}" if e.user_id else f"n:{fold(e.display_name)}"
            names[node].add(e.display_name)
    return names


def _map_entry_for(person: Person, entries: list[MapEntry]) -> MapEntry | None:
    for m in entries:
        if (m.email and m.email == person.email) or (m.user_id and m.user_id == person.user_id):
            return m
    return None


def _join_by_name(ids: _Identities, holders: dict[str, set[str]], notes: list[str], where: str) -> None:
    """``ian.dundas@...`` is ``Dundas, Ian``, when exactly one of each fits the other."""
    emails = [n for n in ids.parent if n.startswith("e:")]
    fits: dict[str, list[str]] = defaultdict(list)
    fitted_by: dict[str, list[str]] = defaultdict(list)
    for holder, names in holders.items():
        keys = set().union(*(name_keys(n) for n in names))
        for e in emails:
            if email_key(e[2:]) in keys and ids.find(e) != ids.find(holder):
                fits[e].append(holder)
                fitted_by[holder].append(e)
    for e, hs in fits.items():
        if len(hs) == 1 and len(fitted_by[hs[0]]) == 1:
            h = hs[0]
            root_e, root_h = ids.find(e), ids.find(h)
            if ids.has(root_e, "i:") and ids.has(root_h, "i:"):
                continue  # both already have an id: two people, not one
            name = sorted(holders[h])[0]
            ids.union(e, h, Join("name", f"{e[2:]} has the shape of the name '{name}'"))
        else:
            options = sorted(
                {e[2:]}
                | {f"{sorted(holders[h])[0]} ({h[2:] if h.startswith('i:') else 'no id'})" for h in hs}
                | {x[2:] for h in hs for x in fitted_by[h]}
            )
            notes.append(f"{where}: not joining by name shape, more than one fits: {', '.join(options)}")


def _join_by_time(
    ids: _Identities,
    events: list[Event],
    request: str,
    answer: str,
    window: timedelta,
    notes: list[str],
    where: str,
) -> None:
    """MAGT asks for service books for X; POLC queues the IT policy for N seconds later.

    Requests and policies of names not yet joined are laid out in time order.  A request joins
    the policy right after it, within the window, when nothing else comes in between, no other
    user's request comes just before it and no other id's policy just after (BES-LOGS.md
    section 3: "with no other activation in between").  Requests A, policy 1, request B,
    policy 2 pair A-1 and B-2; requests A, B then policies 1, 2 are refused.  ``request`` and
    ``answer`` are the names of those two milestones, marked by ``join`` in the pattern library.
    """

    def open_request(e: Event) -> bool:
        return e.milestone == request and bool(e.email) and not ids.has(ids.find(f"e:{e.email}"), "i:")

    def open_policy(e: Event) -> bool:
        return e.milestone == answer and bool(e.user_id) and not ids.has(ids.find(f"i:{e.user_id}"), "e:")

    steps = [e for e in events if open_request(e) or open_policy(e)]
    steps.sort(key=lambda e: e.moment)
    for i, p in enumerate(steps):
        if p.milestone != answer or not open_policy(p):
            continue
        earlier = [e for e in reversed(steps[:i]) if p.moment - e.moment <= window]
        earlier = [e for e in earlier if not (e.milestone == p.milestone and e.user_id == p.user_id)]
        if not earlier or earlier[0].milestone != request:
            continue
        r = earlier[0]
        rivals = [e for e in earlier[1:] if e.email != r.email]
        if rivals and rivals[0].milestone == request:
            notes.append(
                f"{where}: not joining UserId={p.user_id} ({p.where}) by time: "
                f"{r.email} and {rivals[0].email} both asked for service books "
                f"within {duration(window)} before it"
            )
            continue
        later = [
            e for e in steps[i + 1 :]
            if e.moment - r.moment <= window and not (e.milestone == r.milestone and e.email == r.email)
        ]  # fmt: skip
        later = [e for e in later if e.user_id != p.user_id]
        if later and later[0].milestone == answer:
            notes.append(
                f"{where}: not joining {r.email} by time: user ids {p.user_id} and "
                f"{later[0].user_id} both had the IT policy queued within {duration(window)} after "
                f"its service-book request"
            )
            continue
        if not open_request(r):
            continue
        gap = (p.moment - r.moment).total_seconds()
        ids.union(
            f"e:{r.email}",
            f"i:{p.user_id}",
            Join("time", f"service books for {r.email} ({r.where}) then UserId={p.user_id} "
                 f"{gap:.0f}s later ({p.where}), nothing else in between"),
        )  # fmt: skip
