"""Timelines: join the three names of a user (BES-LOGS.md section 3) and cut their events into attempts."""

from __future__ import annotations

import csv
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from bes_logdiag.errors import InputError
from bes_logdiag.model import Event, Join
from bes_logdiag.patterns import Library, MilestoneDef

# Header names a BES user export may use (BES configuration database, BAS/BlackBerry Manager exports).
_MAP_COLUMNS = {
    "email": ("email", "mailboxsmtpaddr", "smtpaddress", "smtp"),
    "user_id": ("user_id", "userid", "id", "userconfigid"),
    "display_name": ("display_name", "displayname", "name"),
}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "æ": "ae", "ø": "oe", "å": "aa"})


@dataclass(frozen=True)
class MapEntry:
    email: str | None
    user_id: str | None
    display_name: str | None


def load_user_map(path: Path) -> tuple[list[MapEntry], list[str]]:
    """Read a CSV export of users (UTF-8, UTF-16 or cp1252; header names in any case).

    Returns the entries and a note for every row left out (an id that is not a number, a quote
    left open); a file that is not a user map at all raises InputError naming it.
    """
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise InputError(f"{path}: cannot read the user map: {e.strerror or e}") from e
    text = _decode_map(raw, path)
    try:
        rows = list(_csv_rows(text))
    except csv.Error as e:
        raise InputError(f"{path}: not a CSV user map ({e})") from e
    if not rows:
        raise InputError(f"{path}: the user map is empty")
    header = [h.strip().lower() for h in rows[0][1]]
    cols = {
        field_: next((header.index(n) for n in names if n in header), None)
        for field_, names in _MAP_COLUMNS.items()
    }
    if sum(c is not None for c in cols.values()) < 2:
        raise InputError(
            f"{path}: the user map needs two of the columns email/MailboxSMTPAddr, "
            f"user_id/UserId/Id/UserConfigId, display_name/DisplayName "
            f"(found: {', '.join(rows[0][1])[:200]})"
        )

    def cell(row: list[str], field_: str) -> str | None:
        i = cols[field_]
        if i is None or i >= len(row):
            return None
        return row[i].strip() or None

    entries, notes = [], []
    for n, r in rows[1:]:
        if not any(c.strip() for c in r):
            continue
        user_id = cell(r, "user_id")
        if any("\n" in c for c in r):
            notes.append(f"{path}: line {n}: a quote is left open; this row and the lines it "
                         f"swallowed are left out of the user map")  # fmt: skip
        elif user_id is not None and not user_id.isdigit():
            notes.append(f"{path}: line {n}: user id {user_id!r} is not a number; row left out")
        else:
            entries.append(MapEntry(
                email=(cell(r, "email") or "").lower() or None,
                user_id=user_id,
                display_name=_clean_name(cell(r, "display_name")),
            ))  # fmt: skip
    return entries, notes


def _decode_map(raw: bytes, path: Path) -> str:
    from bes_logdiag.read import detect_encoding

    encoding = detect_encoding(raw[:4096])
    problem = "no encoding fits its bytes"
    for codec in (encoding, "cp1252") if encoding == "utf-8" else (encoding,):
        try:
            text = raw.decode(codec).lstrip("\ufeff")
        except UnicodeDecodeError as e:
            problem = f"{e.reason} at byte {e.start}"
            continue
        control = _CONTROL.search(text)
        if control is None:
            return text
        line = text.count("\n", 0, control.start()) + 1
        problem = f"control character {control.group()!r} in line {line}"
    raise InputError(f"{path}: the user map is not text (UTF-8, UTF-16 or cp1252): {problem}")


def _csv_rows(text: str) -> Iterable[tuple[int, list[str]]]:
    """Rows with the line each starts on; a quote open at the end closes there."""
    import io

    reader = csv.reader(io.StringIO(text.replace("\0", "")))
    start = 1
    for row in reader:
        yield start, row
        start = reader.line_num + 1


def _clean_name(name: str | None) -> str | None:
    return " ".join(name.split()) if name else None


def fold(text: str) -> str:
    """Lower-case ASCII for comparing names: ü -> ue, é -> e."""
    text = text.lower().translate(_FOLD)
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def name_keys(display: str) -> set[str]:
    """Address local parts a display name stands for: ``Dundas, Ian`` -> ``ian.dundas`` and kin."""
    if "," in display:
        last, _, first = display.partition(",")
    else:
        first, _, last = display.strip().rpartition(" ")
    first, last = fold(first).strip(), fold(last).strip()
    if not first or not last:
        return set()
    f, ln = first.replace(" ", ""), last.replace(" ", "")
    return {f"{f}.{ln}", f"{f}_{ln}", f"{f}-{ln}"}


def email_key(email: str) -> str:
    return fold(email.partition("@")[0])


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
    window: timedelta = timedelta(minutes=2),
) -> tuple[list[Person], list[Event], list[str]]:
    """Group events by person, per server.  Returns persons, events naming nobody, and notes.

    Joins, strongest first: the user map; names that share a line (``[Last, First:N]``); the
    shape of the address against the display name; and, last, the order in time of MAGT's
    service-book request and POLC's IT-policy line.  Ambiguous guesses are refused with a note.
    """
    by_server: dict[str | None, list[Event]] = defaultdict(list)
    for e in events:
        by_server[e.server].append(e)
    entries = list(user_map)
    persons: list[Person] = []
    orphans: list[Event] = []
    notes: list[str] = []
    for server in sorted(by_server, key=lambda s: s or ""):
        p, o, n = _join_server(server, by_server[server], entries, window)
        persons.extend(p)
        orphans.extend(o)
        notes.extend(n)
    return persons, orphans, notes


def _join_server(
    server: str | None, events: list[Event], entries: list[MapEntry], window: timedelta
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
    _join_by_time(ids, events, window, notes, where)

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
    ids: _Identities, events: list[Event], window: timedelta, notes: list[str], where: str
) -> None:
    """MAGT asks for service books for X; POLC queues the IT policy for N seconds later.

    Requests and policies of names not yet joined are laid out in time order.  A request joins
    the policy right after it, within the window, when nothing else comes in between, no other
    user's request comes just before it and no other id's policy just after (BES-LOGS.md
    section 3: "with no other activation in between").  Requests A, policy 1, request B,
    policy 2 pair A-1 and B-2; requests A, B then policies 1, 2 are refused.
    """

    def open_request(e: Event) -> bool:
        return (
            e.milestone == "service_books_requested"
            and bool(e.email)
            and not ids.has(ids.find(f"e:{e.email}"), "i:")
        )

    def open_policy(e: Event) -> bool:
        return (
            e.milestone == "itpolicy_queued"
            and bool(e.user_id)
            and not ids.has(ids.find(f"i:{e.user_id}"), "e:")
        )

    steps = [e for e in events if open_request(e) or open_policy(e)]
    steps.sort(key=lambda e: e.time)
    for i, p in enumerate(steps):
        if p.milestone != "itpolicy_queued" or not open_policy(p):
            continue
        earlier = [e for e in reversed(steps[:i]) if p.time - e.time <= window]
        earlier = [e for e in earlier if not (e.milestone == p.milestone and e.user_id == p.user_id)]
        if not earlier or earlier[0].milestone != "service_books_requested":
            continue
        r = earlier[0]
        rivals = [e for e in earlier[1:] if e.email != r.email]
        if rivals and rivals[0].milestone == "service_books_requested":
            notes.append(
                f"{where}: not joining UserId={p.user_id} ({p.where}) by time: "
                f"{r.email} and {rivals[0].email} both asked for service books "
                f"within {_fmt(window)} before it"
            )
            continue
        later = [
            e for e in steps[i + 1 :]
            if e.time - r.time <= window and not (e.milestone == r.milestone and e.email == r.email)
        ]  # fmt: skip
        later = [e for e in later if e.user_id != p.user_id]
        if later and later[0].milestone == "itpolicy_queued":
            notes.append(
                f"{where}: not joining {r.email} by time: user ids {p.user_id} and "
                f"{later[0].user_id} both had the IT policy queued within {_fmt(window)} after "
                f"its service-book request"
            )
            continue
        if not open_request(r):
            continue
        gap = (p.time - r.time).total_seconds()
        ids.union(
            f"e:{r.email}",
            f"i:{p.user_id}",
            Join("time", f"service books for {r.email} ({r.where}) then UserId={p.user_id} "
                 f"{gap:.0f}s later ({p.where}), nothing else in between"),
        )  # fmt: skip


def _fmt(d: timedelta) -> str:
    s = int(d.total_seconds())
    return f"{s // 60} min" if s % 60 == 0 else f"{s} s"


def split_attempts(
    events: Sequence[Event], lib: Library, attach_window: timedelta
) -> tuple[list[list[Event]], list[Event]]:
    """Cut one person's events (sorted) into attempts; also return events that fit no attempt.

    A new attempt begins with a retry's first milestone (``starts_attempt``), with an earlier
    stage than the attempt has reached, or after an attempt ended.  Lines that also occur outside
    activations (``opens_attempt = false``) only join an attempt that is under way.
    """
    attempts: list[list[Event]] = []
    loose: list[Event] = []
    current: list[Event] | None = None
    state = _AttemptState()
    for e in events:
        ms = lib.milestones.get(e.milestone) if e.milestone else None
        if current is not None and _continues(current, state, e, ms, lib, attach_window):
            current.append(e)
            state.add(e, ms)
            continue
        if not e.opens_attempt:
            loose.append(e)
            continue
        current = [e]
        attempts.append(current)
        state = _AttemptState()
        state.add(e, ms)
    return attempts, loose


@dataclass
class _AttemptState:
    top_rank: int = -1
    top_stage: int = 0
    complete: bool = False
    failed: bool = False
    last_time: datetime | None = None
    etp_only: bool = True

    def add(self, e: Event, ms: MilestoneDef | None) -> None:
        self.last_time = e.time
        if ms is not None:
            self.top_rank = max(self.top_rank, ms.rank)
            self.top_stage = max(self.top_stage, ms.stage)
            self.complete = self.complete or ms.completes
            self.failed = False
            if not ms.starts_attempt:
                self.etp_only = False
        elif e.error:
            self.failed = True
            self.etp_only = False


def _continues(
    current: list[Event],
    state: _AttemptState,
    e: Event,
    ms: MilestoneDef | None,
    lib: Library,
    attach_window: timedelta,
) -> bool:
    gap = e.time - current[-1].time
    if not e.opens_attempt:
        if e.resumes and ms is not None and not state.failed and ms.stage == state.top_stage:
            return not state.complete
        return not state.complete and gap <= attach_window
    if ms is not None:
        if ms.starts_attempt:
            # The device re-sends ETP.DAT while it waits: the same attempt, unless it had moved
            # on, ended, or sat longer than the stage-1 threshold (then the user retried).
            limit = lib.stages[ms.stage].stall_after if ms.stage in lib.stages else attach_window
            return state.etp_only and not state.failed and gap <= limit
        if state.complete or state.failed and ms.stage < state.top_stage:
            return False
        return ms.stage >= state.top_stage or state.top_rank < 0
    # An explicit error: it belongs to the attempt it interrupts, unless that attempt completed.
    return not state.complete
