"""The identity join: the three names of a user (BES-LOGS.md section 3) grouped into one person."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from bes_logdiag.identity_graph import IdentityGraph, entry_nodes, event_nodes
from bes_logdiag.map_join import LoggedNames, join_by_logged_name, join_by_map
from bes_logdiag.model import Event, Join, Note
from bes_logdiag.names import email_key, fold, name_keys
from bes_logdiag.usermap import MapEntry
from bes_logdiag.words import duration


@dataclass
class Person:
    """One user on one server, with every event that names them under any of their names."""

    server: str | None
    email: str | None = None
    user_id: str | None = None
    display_name: str | None = None
    events: list[Event] = field(default_factory=list)
    joins: tuple[Join, ...] = ()
    untied: tuple[str, ...] = ()
    """User ids whose IT policy was queued just after this person's service-book request, which
    the order in time could not tie to them (another user asked, or another policy came, too)."""


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
    notes: list[str] = _unused_map_notes(entries, by_server)
    shared = [m for m in entries if m.server is None]
    rows_of: dict[str, list[MapEntry]] = defaultdict(list)
    for m in entries:
        if m.server:
            rows_of[m.server.lower()].append(m)
    for server in sorted(by_server, key=lambda s: s or ""):
        own = rows_of.get(server.lower(), []) if server else []
        p, o, n = _join_server(server, by_server[server], own, shared, pair, window)
        persons.extend(p)
        orphans.extend(o)
        notes.extend(n)
    return persons, orphans, notes


def _unused_map_notes(entries: list[MapEntry], by_server: dict[str | None, list[Event]]) -> list[str]:
    """A word for each map file whose server column (or ``--users SERVER=``) names no server of
    these logs: a typo or another naming of the server should not pass for "nobody matched"."""
    seen = sorted(s for s in by_server if s)
    keys = {s.lower() for s in seen}
    named: dict[str, dict[str, str]] = defaultdict(dict)
    for m in entries:
        if m.server:
            named[m.source].setdefault(m.server.lower(), m.server)
    notes = []
    for source, servers in named.items():
        if keys.isdisjoint(servers):
            which = " or ".join(sorted(servers.values(), key=str.lower))
            notes.append(
                f"user map {source}: no matched line comes from server {which} "
                f"(servers in these logs: {', '.join(seen) or 'none named'}); its rows are not used"
            )
    return notes


def _join_server(
    server: str | None,
    events: list[Event],
    own: list[MapEntry],
    shared: list[MapEntry],
    pair: tuple[str, str] | None,
    window: timedelta,
) -> tuple[list[Person], list[Event], list[str]]:
    ids = IdentityGraph()
    notes: list[str] = []
    where = f"server {server}" if server else "input without a server name"
    # A dense log names the same few thousand users on every poll: each distinct set of names
    # is turned into nodes once.
    nodes_of: dict[tuple[str | None, str | None, str | None], list[str]] = {}
    for e in events:
        names = (e.email, e.user_id, e.display_name)
        nodes = nodes_of.get(names)
        if nodes is None:
            nodes = nodes_of[names] = event_nodes(e)
            for n in nodes:
                ids.find(n)
        for n in nodes[1:]:
            ids.union(nodes[0], n, Join("id", f"{nodes[0][2:]} and {n[2:]} share a line ({e.where})"))
    holders = _holders(events)
    applied: list[MapEntry] = []
    unlent: set[str] = set()
    if own or shared:  # (no user map: nothing to index the logged names for)
        logged = LoggedNames(holders)
        applied, unlent = join_by_map(ids, own, shared, logged, notes, where)
    _join_by_name(ids, holders, notes, where)
    untied: dict[str, list[str]] = defaultdict(list)
    if pair is not None:
        _join_by_time(ids, events, *pair, window, notes, where, untied, unlent)
    if applied:
        join_by_logged_name(ids, applied, logged)

    people: dict[str, Person] = {}
    orphans: list[Event] = []
    roots: dict[tuple[str | None, str | None, str | None], str | None] = {}
    for e in events:
        names = (e.email, e.user_id, e.display_name)
        if names in roots:
            root = roots[names]
        else:
            nodes = nodes_of[names]
            root = roots[names] = ids.find(nodes[0]) if nodes else None
        if root is None:
            orphans.append(e)
            continue
        person = people.get(root)
        if person is None:
            person = people[root] = Person(server=server)
        person.events.append(e)
        person.email = person.email or e.email
        person.user_id = person.user_id or e.user_id
        person.display_name = person.display_name or e.display_name
    rows: dict[str, MapEntry] = {}
    for m in applied:
        rows.setdefault(ids.find(entry_nodes(m)[0]), m)
    for root, person in people.items():
        person.joins = tuple(dict.fromkeys(ids.joins.get(root, [])))
        if person.email in untied and not person.user_id:
            person.untied = tuple(dict.fromkeys(untied[person.email]))
        mapped = rows.get(root)
        if mapped is not None:
            if mapped.user_id and person.user_id and person.user_id != mapped.user_id:
                notes.append(
                    Note(
                        f"{where}: user map row {mapped.source}:{mapped.line} gives {person.email} "
                        f"UserId={mapped.user_id}, which these logs never name; the order in time ties "
                        f"the address to UserId={person.user_id} (a row that names no server may be "
                        "another server's)",
                        "user map ids the logs contradict",
                    )
                )
            person.email = person.email or mapped.email
            person.user_id = person.user_id or mapped.user_id
            person.display_name = person.display_name or mapped.display_name
    return list(people.values()), orphans, notes


# The kinds of the notes of refused joins (`Note`): on a day of mass activations, one per user.
_BY_NAME = "joins by name shape refused"
_BY_TIME = "joins by time refused"


def _holders(events: list[Event]) -> dict[str, set[str]]:
    """Which display names each identity node is known by (ids from ``[Last, First:N]``)."""
    names: dict[str, set[str]] = defaultdict(set)
    for e in events:
        if e.display_name:
            node = f"i:{e.user_id}" if e.user_id else f"n:{fold(e.display_name)}"
            names[node].add(e.display_name)
    return names


def _join_by_name(ids: IdentityGraph, holders: dict[str, set[str]], notes: list[str], where: str) -> None:
    """``ian.dundas@...`` is ``Dundas, Ian``, when exactly one of each fits the other."""
    # The addresses by the local part they fold to, each with its place in the graph: a holder's
    # name keys are looked up, not compared with every address (issue 14), and the addresses a
    # holder fits come in the graph's order, which decides the order of the joins and notes.
    emails = [n for n in ids.parent if n.startswith("e:")]
    by_key: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for place, e in enumerate(emails):
        by_key[email_key(e[2:])].append((place, e))
    fits: dict[str, list[str]] = defaultdict(list)
    fitted_by: dict[str, list[str]] = defaultdict(list)
    for holder, names in holders.items():
        keys = set().union(*(name_keys(n) for n in names))
        found = sorted(x for k in keys for x in by_key.get(k, ()))
        for _, e in found:
            if ids.find(e) != ids.find(holder):
                fits[e].append(holder)
                fitted_by[holder].append(e)
    refused: set[str] = set()
    for e, hs in fits.items():
        if len(hs) == 1 and len(fitted_by[hs[0]]) == 1:
            h = hs[0]
            root_e, root_h = ids.find(e), ids.find(h)
            if ids.has(root_e, "i:") and ids.has(root_h, "i:"):
                continue  # both already have an id: two people, not one
            if ids.has(root_h, "e:"):
                continue  # the name's person has an address already (a map row, a line): another person's
            name = sorted(holders[h])[0]
            ids.union(e, h, Join("name", f"{e[2:]} has the shape of the name '{name}'"))
        else:
            options = sorted(
                {e[2:]}
                | {f"{sorted(holders[h])[0]} ({h[2:] if h.startswith('i:') else 'no id'})" for h in hs}
                | {x[2:] for h in hs for x in fitted_by[h]}
            )
            fitting = ", ".join(options)
            if fitting not in refused:  # (each address of the same tangle would say it again)
                refused.add(fitting)
                note = f"{where}: not joining by name shape, more than one fits: {fitting}"
                notes.append(Note(note, _BY_NAME))


def _join_by_time(
    ids: IdentityGraph,
    events: list[Event],
    request: str,
    answer: str,
    window: timedelta,
    notes: list[str],
    where: str,
    untied: dict[str, list[str]],
    unlent: set[str],
) -> None:
    """MAGT asks for service books for X; POLC queues the IT policy for N seconds later.

    Requests and policies of names not yet joined are laid out in time order.  A request joins
    the policy right after it, within the window, when nothing else comes in between, no other
    user's request comes just before it and no other id's policy just after (BES-LOGS.md
    section 3: "with no other activation in between").  Requests A, policy 1, request B,
    policy 2 pair A-1 and B-2; requests A, B then policies 1, 2 are refused.  ``request`` and
    ``answer`` are the names of those two milestones, marked by ``join`` in the pattern library.
    A refusal is also kept in ``untied``: per address that asked, the ids it could not be tied to.
    A request of an address whose id a user map gave but these logs never name (``unlent``) is
    as good as tied while other users ask too: only alone may it take a policy.
    """

    def open_request(e: Event) -> bool:
        return e.milestone == request and bool(e.email) and not ids.has(ids.find(f"e:{e.email}"), "i:")

    def open_policy(e: Event) -> bool:
        return e.milestone == answer and bool(e.user_id) and not ids.has(ids.find(f"i:{e.user_id}"), "e:")

    steps = [e for e in events if open_request(e) or open_policy(e)]
    steps.sort(key=lambda e: e.moment)
    # The steps within the window before a policy, or after a request, are found by bisection
    # over the time-sorted moments (issue 14), not by a walk over every step.
    moments = [e.moment for e in steps]
    for i, p in enumerate(steps):
        if p.milestone != answer or not open_policy(p):
            continue
        first = bisect_left(moments, p.moment - window, 0, i)
        earlier = [
            e for e in reversed(steps[first:i]) if not (e.milestone == p.milestone and e.user_id == p.user_id)
        ]
        if unlent:
            others = [e for e in earlier if not (e.milestone == request and e.email in unlent)]
            if any(e.milestone == request for e in others):
                earlier = others
        if not earlier:
            continue
        if earlier[0].milestone != request:
            # Another id's policy came in between: in a burst of requests and policies (requests
            # A, B, policies 1, 2) the order cannot tell who is whose, and each policy says so.
            # (After one request, A, policies 1, 2, the request's refusal names both ids.)
            askers = [e.email for e in earlier if e.milestone == request and e.email and open_request(e)]
            if len(set(askers)) > 1:
                for email in askers:
                    untied[email] += [p.user_id] if p.user_id else []
                notes.append(
                    Note(
                        f"{where}: not joining UserId={p.user_id} ({p.where}) by time: "
                        f"{_listed(askers)} asked for service books within {duration(window)} before "
                        "it, with another user id's IT policy in between",
                        _BY_TIME,
                    )
                )
            continue
        r = earlier[0]
        rivals = [e for e in earlier[1:] if e.email != r.email]
        if rivals and rivals[0].milestone == request:
            # every address that asked within the window, nearest first, so the admin knows
            # which rows a user map needs
            askers = [e.email for e in earlier if e.milestone == request and e.email]
            for email in askers:
                untied[email] += [p.user_id] if p.user_id else []
            asked = _listed(askers)
            notes.append(
                Note(
                    f"{where}: not joining UserId={p.user_id} ({p.where}) by time: "
                    f"{asked} asked for service books within {duration(window)} before it",
                    _BY_TIME,
                )
            )
            continue
        last = bisect_right(moments, r.moment + window, i + 1)
        later = [
            e for e in steps[i + 1 : last]
            if not (e.milestone == r.milestone and e.email == r.email) and e.user_id != p.user_id
        ]  # fmt: skip
        if later and later[0].milestone == answer:
            ids_after = [u for u in (p.user_id, *(e.user_id for e in later if e.milestone == answer)) if u]
            if r.email:
                untied[r.email] += ids_after
            queued = _listed(ids_after)
            notes.append(
                Note(
                    f"{where}: not joining {r.email} by time: user ids {queued} had the IT policy queued "
                    f"within {duration(window)} after its service-book request",
                    _BY_TIME,
                )
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


def _listed(names: Iterable[str | None]) -> str:
    """``a and b both``, ``a, b and c all``: each name once, in the order given."""
    unique = list(dict.fromkeys(n for n in names if n))
    if len(unique) < 3:
        return f"{' and '.join(unique)} both"
    return f"{', '.join(unique[:-1])} and {unique[-1]} all"
