"""Many activations: thousands of users on two servers, joined by every kind of evidence and refused
where the evidence is ambiguous (README "How it decides", Identities; BES-LOGS.md section 3), give
the verdict the generator planned for each one.  The identity join is linear in the number of
names (issue 14), so a world of this size is a test and not a benchmark; it checks verdicts only.

The generator (``many_world``) lays out, per server, activations that no time-order pairing can
touch (their names are joined by a user map, or by the shape of the address against the display
name, or they never reach the service-book request) at random times, and the ones that only the
order in time can join, or that it must refuse, each in a quiet slot of its own:

- ``shape``: ``first.last@`` against ``[Last, First:N]`` (accents folded), reaching the slow sync;
- ``early``: stopped before the service-book request (no id, no display name);
- ``map``: an address whose shape says nothing, joined by the server's own map or the shared one;
  some pairs of them share a display name (two people called the same);
- ``time``: service books, then the IT policy 4 s later, nothing else within minutes;
- ``solo``: service books and nothing after;
- ``amb``: requests A, B, then policies 1, 2: refused, each address alone;
- ``push``: service books for one address, then three idle users' IT policy pushes: refused;
- ``twin``: ``first.last@`` fits two ids logged under the same display name (the other is a map
  user): the name join is refused and the order in time joins it;
- ``mover``: one person on both servers, a shared map row with the first server's id; on the
  second server that id is another person's, so the row is refused there.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from builders import (
    BOOKS_TEXT,
    DAY_FIRST,
    DAY_LAST,
    OUTCOMES,
    REACHES_POLC,
    REACHES_SYNC,
    STEPS,
    accept_text,
    address_fold,
    bes_line,
    bes_name,
    command_text,
    complete_text,
    etp_text,
    key_text,
    policy_text,
    scan_json,
    write_lines,
)

SERVERS = ("BES_EU_01", "BBPROD02")
START = datetime(2024, 5, 13, 6, 0, 0)
SLOT = timedelta(minutes=5)
"""Quiet slots for the time-order join: its window is 2 minutes either way (README)."""
SHAPE_SYNC = ("complete", "complete", "stall_getconfig", "stall_cical", "stall_progress", "retry_complete")
EARLY = ("stall_etp", "stall_key", "stall_accept", "fail_not_started", "fail_mailbox", "fail_etp_rejected",
         "fail_key_rejected")  # fmt: skip
MAPPED = (*SHAPE_SYNC, *EARLY, "stall_books", "stall_policy", "fail_policy_rejected")
TIMED = ("stall_policy", "fail_policy_rejected", "complete", "stall_getconfig", "stall_progress")
UPTO = {
    "stall_etp": "etp",
    "stall_key": "key",
    "stall_accept": "accept",
    "stall_books": "books",
    "stall_policy": "policy",
    "stall_getconfig": "getconfig",
    "stall_cical": "cical",
    "stall_progress": "progress",
    "fail_mailbox": "etp",
    "fail_etp_rejected": "etp",
    "fail_key_rejected": "key",
    "fail_policy_rejected": "policy",
}


@dataclass
class User:
    """One activating user as planned: where, who, how the tool can join their names, the outcome."""

    server: str
    email: str
    uid: int
    display: str
    kind: str
    outcome: str
    t0: datetime = START

    @property
    def joined(self) -> bool:
        return self.kind not in ("early", "solo", "amb", "push")

    @property
    def expect(self) -> tuple[Any, ...]:
        """(user id, display name, status, stage, KB, join kinds) of the user's activation."""
        mapped = self.kind in ("map", "twin_map") or (self.kind == "mover" and self.server == SERVERS[0])
        if self.kind in ("amb", "push"):
            status, stage, kb = OUTCOMES["stall_books"]  # only the address's half is an activation
        else:
            status, stage, kb = OUTCOMES[self.outcome]
        uid = self.uid if mapped or (self.joined and self.outcome in REACHES_POLC) else None
        disp = self.display if mapped or (self.joined and self.outcome in REACHES_SYNC) else None
        if mapped:
            joins: tuple[str, ...] = ("map",)
        elif self.kind in ("time", "twin"):
            joins = ("time",)
        elif self.kind in ("shape", "mover") and self.outcome in REACHES_SYNC:
            joins = ("name",)
        else:
            joins = ()
        return uid, disp, status, stage, kb, joins


@dataclass
class World:
    """The planned users, every file's (time, line) pairs, the user maps and the refusals to expect."""

    users: list[User] = field(default_factory=list)
    files: dict[tuple[str, str, datetime], list[tuple[datetime, str]]] = field(default_factory=dict)
    own_rows: dict[str, list[tuple[str, int, str]]] = field(default_factory=dict)
    """Per server: its ``--users SERVER=FILE`` rows (email, id, display name)."""
    shared_rows: list[tuple[str, int, str]] = field(default_factory=list)
    """The rows of a plain ``--users FILE``, for every server."""
    refusals: list[tuple[str, ...]] = field(default_factory=list)
    """Per refused join: words its note must hold."""
    end: dict[str, datetime] = field(default_factory=dict)

    def log(self, server: str, code: str, t: datetime, msg: str, *, tid: str, user: str | None = None,
            eid: str = "40000") -> None:  # fmt: skip
        t = t.replace(microsecond=t.microsecond // 1000 * 1000)
        day = t.replace(hour=0, minute=0, second=0, microsecond=0)
        line = bes_line(t, msg, tid=tid, user=user, eid=eid)
        self.files.setdefault((server, code, day), []).append((t, line))


def _names(rng: random.Random) -> list[tuple[str, str]]:
    """Distinct (first, last) pairs, accents and double-barrelled names among them."""
    lasts = list(DAY_LAST) + [f"{a}-{b}" for a in DAY_LAST[:40] for b in DAY_LAST[40:] if a != b]
    pairs = [(f, ln) for f in DAY_FIRST for ln in lasts]
    rng.shuffle(pairs)
    return pairs


def many_world(seed: int, n: int, servers: tuple[str, ...] = SERVERS) -> World:
    """About ``n`` activations on ``servers`` (every one planned: see the module docstring)."""
    rng = random.Random(seed)
    names = iter(_names(rng))
    world = World()
    serial = iter(range(1, 10**7))

    def new_user(server: str, idx: int, kind: str, outcome: str, *, shaped: bool) -> User:
        first, last = next(names)
        f, ln = address_fold(first), address_fold(last).replace("-", "")
        domain = ("corp.example", "example.eu", "hq.example.com")[idx % 3]
        k = next(serial)
        email = f"{f}.{address_fold(last)}@{domain}" if shaped else f"{f[0]}{ln}{k}@{domain}"
        return User(server, email, 100000 * (idx + 1) + k, f"{last}, {first}", kind, outcome)

    per_server = max(1, n // len(servers))
    for idx, server in enumerate(servers):
        world.own_rows[server] = []
        closed: list[User] = []
        slots: list[list[User]] = []
        pushes: list[tuple[User, list[int]]] = []
        made = 0
        while made < per_server:
            r = rng.random()
            if r < 0.45:
                closed.append(new_user(server, idx, "shape", rng.choice(SHAPE_SYNC), shaped=True))
            elif r < 0.57:
                closed.append(new_user(server, idx, "early", rng.choice(EARLY), shaped=rng.random() < 0.5))
            elif r < 0.78:
                u = new_user(server, idx, "map", rng.choice(MAPPED), shaped=False)
                closed.append(u)
                shared = rng.random() < 0.3
                (world.shared_rows if shared else world.own_rows[server]).append((u.email, u.uid, u.display))
                if not shared and rng.random() < 0.1:  # a namesake: another person of this server's map
                    v = new_user(server, idx, "map", rng.choice(SHAPE_SYNC), shaped=False)
                    v.display = u.display
                    closed.append(v)
                    world.own_rows[server].append((v.email, v.uid, v.display))
            elif r < 0.91:
                outcome = rng.choice(TIMED)
                shaped = outcome not in REACHES_SYNC and rng.random() < 0.5
                slots.append([new_user(server, idx, "time", outcome, shaped=shaped)])
            elif r < 0.94:
                slots.append([new_user(server, idx, "solo", "stall_books", shaped=rng.random() < 0.5)])
            elif r < 0.96:
                slots.append([new_user(server, idx, "amb", "stall_policy", shaped=False) for _ in range(2)])
            elif r < 0.975:
                u = new_user(server, idx, "push", "stall_books", shaped=False)
                pushes.append((u, [900000 + next(serial) for _ in range(3)]))
                slots.append([u])
            else:
                twin = new_user(server, idx, "twin", "complete", shaped=True)
                other = new_user(server, idx, "twin_map", rng.choice(SHAPE_SYNC), shaped=False)
                other.display = twin.display
                world.own_rows[server].append((other.email, other.uid, other.display))
                slots.append([twin])
                closed.append(other)
            made = len(closed) + sum(len(s) for s in slots)
        if idx == 1:  # movers: shape users of this server who were on the first server before
            for z in [u for u in closed if u.kind == "shape" and u.outcome in REACHES_SYNC][:3]:
                m = new_user(server, idx, "mover", "complete", shaped=True)
                t0 = START + timedelta(minutes=rng.randint(0, 300), seconds=rng.randint(0, 59))
                before = User(SERVERS[0], m.email, z.uid, m.display, "mover", "complete", t0)
                world.shared_rows.append((m.email, z.uid, m.display))
                world.refusals.append(
                    ("not using user map row", m.email, f"user id {z.uid} as '{z.display}'")
                )
                world.users.append(before)
                closed.append(m)
        span = max(len(slots) * SLOT, timedelta(hours=6))
        rng.shuffle(slots)
        for k, group in enumerate(slots):
            t = START + k * SLOT + timedelta(seconds=rng.randint(0, 60), milliseconds=rng.randint(0, 999))
            for j, u in enumerate(group):
                u.t0 = t + timedelta(seconds=3 * j)
        for u in closed:
            u.t0 = START + timedelta(seconds=rng.uniform(0, span.total_seconds()))
        for u in closed + [u for g in slots for u in g]:
            world.users.append(u)
        for u, ids in pushes:
            for j, uid in enumerate(ids):
                world.log(server, "POLC", u.t0 + timedelta(seconds=13 + 5 * j), policy_text(uid), tid="E1C")
            world.refusals.append((f"not joining {u.email} by time", *map(str, ids)))
        for g in slots:
            if g[0].kind == "amb":
                world.refusals.append((f"not joining UserId={g[0].uid} ", g[0].email, g[1].email))
                # (and the second policy, with the first's in between)
                world.refusals.append(
                    (f"not joining UserId={g[1].uid} ", g[0].email, g[1].email, "in between")
                )
            elif g[0].kind == "twin":
                world.refusals.append(
                    ("not joining by name shape", g[0].email, f"{g[0].display} ({g[0].uid})")
                )
        world.end[server] = START + span + timedelta(hours=4)
    for u in world.users:
        _activation(world, u, rng, next(serial))
    for server in servers:
        day = START.replace(hour=0)
        while day <= world.end[server]:
            for code in ("MAGT", "POLC", "SYNC"):
                last = min(day + timedelta(hours=23, minutes=59, seconds=59), world.end[server])
                for t in (day + timedelta(seconds=1), last):
                    world.log(server, code, t, "Total Msgs Pending 0", tid="A2C", eid="30000")
            day += timedelta(days=1)
    return world


def _activation(world: World, u: User, rng: random.Random, n: int) -> None:
    """The user's milestone lines as the seed's table has them (BES-LOGS.md section 3), on threads of
    their own, and the error line of a failure (BES-LOGS.md section 4)."""
    s, e = u.server, u.email
    poll, key, books = f"1{n:05X}", f"2{n:05X}", f"3{n:05X}"
    if u.outcome == "fail_not_started":
        world.log(
            s, "MAGT", u.t0, "The OpenDatabase() failed. User not started", tid=poll, user=e, eid="10000"
        )
        return
    t0 = u.t0
    if u.outcome == "retry_complete":  # a first try that stops at the ETP.DAT message, a retry 2 h later
        world.log(s, "MAGT", t0, etp_text(entry=n), tid=poll, user=e)
        t0 = t0 + timedelta(hours=2)

    def at(sec: float) -> datetime:
        return t0 + timedelta(seconds=sec)

    upto = UPTO.get(u.outcome, "complete")
    keep = STEPS[: STEPS.index(upto) + 1]
    if "etp" in keep:
        world.log(s, "MAGT", at(0), etp_text(entry=n), tid=poll, user=e)
    if "key" in keep:
        world.log(s, "MAGT", at(2), key_text(rng.choice(["3DES", "AES"])), tid=key, user=e)
    if "accept" in keep:
        world.log(s, "MAGT", at(2.3), accept_text(n), tid=key)
    if "books" in keep:
        world.log(s, "MAGT", at(9), BOOKS_TEXT, tid=books, user=e)
    if "policy" in keep:
        world.log(s, "POLC", at(13), policy_text(u.uid), tid="E1C")
    if "getconfig" in keep:
        world.log(s, "SYNC", at(48), command_text("GetConfig", u.display, u.uid), tid="1294", eid="46046")
    if "cical" in keep:
        world.log(
            s, "MAGT", at(60), "[CICAL] Calendar slow synchronization started, 40 items", tid=books, user=e
        )
    if "progress" in keep:
        for sec in (150, 260) if upto == "complete" else (150,):
            world.log(s, "SYNC", at(sec), command_text("TaskData", u.display, u.uid), tid="1294", eid="46047")
    if "complete" in keep:
        world.log(s, "SYNC", at(790), complete_text(u.display, u.uid), tid="12AC", eid="36023")
    if u.outcome == "fail_mailbox":
        msg = f"MAPIMailbox::MAPIMailbox - OpenMsgStore (0x8004011d) failed, MailboxDN=/o=Corp/cn={e.split('@')[0]}"
        world.log(s, "MAGT", at(1.5), msg, tid=poll, user=e, eid="20400")
    elif u.outcome == "fail_etp_rejected":
        msg = "Enterprise activation failed: ETP.DAT could not be decrypted with the activation password"
        world.log(s, "MAGT", at(1.5), msg, tid=poll, user=e, eid="20000")
    elif u.outcome == "fail_key_rejected":
        msg = f"*** OTAKEYGEN *** Key verification failed, sending KEY_REJECT transID = {n}"
        world.log(s, "MAGT", at(2.4), msg, tid=key, user=e, eid="20000")
    elif u.outcome == "fail_policy_rejected":
        msg = f"SCS::ProcessITPolicyResult - IT policy rejected by device for UserId={u.uid}"
        world.log(s, "POLC", at(40), msg, tid="E1C", eid="20000")


def write_world(world: World, root: Path) -> list[str]:
    """The logs under ``root/<server>/Logs/<day>/`` and the user maps; returns the ``--users`` arguments."""
    for (server, code, day), items in world.files.items():
        lines = [x for _, x in sorted(items, key=lambda p: p[0])]
        write_lines(
            root / server / "Logs" / f"{day:%Y%m%d}" / bes_name(server, code, day), lines, newline="\n"
        )
    args = []
    maps = root.parent / f"{root.name}-maps"
    maps.mkdir(exist_ok=True)
    for server, rows in [(None, world.shared_rows), *world.own_rows.items()]:
        path = maps / f"{server or 'all'}.csv"
        text = "email,user_id,display_name\n" + "".join(f'{e},{i},"{d}"\n' for e, i, d in rows)
        path.write_text(text, encoding="utf-8")
        args += ["--users", f"{server}={path}" if server else str(path)]
    return args


def test_three_thousand_activations_get_the_planned_verdicts(tmp_path: Path) -> None:
    world = many_world(14, 3000)
    root = tmp_path / "logs"
    users = write_world(world, root)
    code, rep, _ = scan_json(root, *users)
    got: dict[tuple[str, str], list[tuple[Any, ...]]] = {}
    for a in rep["activations"]:
        row = (a["user_id"], a["display_name"], a["status"], a["stage"], a["kb"],
               tuple(sorted(j["kind"] for j in a["joins"])))  # fmt: skip
        got.setdefault((a["server"], a["email"]), []).append(row)
    wrong = [
        (u.server, u.email, u.kind, u.outcome, got.get((u.server, u.email)), u.expect)
        for u in world.users
        if got.get((u.server, u.email)) != [u.expect]
    ]
    assert not wrong, f"{len(wrong)} wrong:\n" + "\n".join(map(str, wrong[:20]))
    assert len(rep["activations"]) == len(world.users)
    refused = [x for x in rep["notes"] if ": not joining " in x or ": not using user map row " in x]
    missing = [r for r in world.refusals if not any(all(w in x for w in r) for x in refused)]
    assert not missing, (missing[:10], refused[:10])
    assert len(refused) == len(world.refusals)
    kinds = {u.kind for u in world.users}
    assert kinds >= {"shape", "early", "map", "time", "solo", "amb", "push", "twin", "twin_map", "mover"}
