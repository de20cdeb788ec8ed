"""Third round of independent BES logs: a real admin's captured folder (BES-LOGS.md, seed 000, README).

One busy day (2024-03-12, 07:00-18:00) on three servers, built by a seeded generator in this file:
60 users activating at overlapping times (bursts of several in the same minute on both Messaging
Agents, each with its own threads), every outcome of the KB table plus complete and in progress,
and a day of realistic noise around them: mail flow for ~80 mailboxes per agent, IT policy pushes and
routine device syncs of idle users, mailbox errors of idle users, and the MDSS/CTRL/DISP/ROUT files.

Identities (BES-LOGS.md section 3, README "Identities"): most users have ``first.last`` addresses
(joined by name shape once SYNC names them); some have addresses of another shape and are joined by
the ``--users`` CSV; some only by the order in time (a service-book request, then the IT policy a few
seconds later, nothing else within two minutes); and one pair asks for service books in the same
seconds, which the tool must refuse to join.

The same folder is then given zipped, gzipped, mixed, through stdin, with pasting damage on ~30 % of
the lines in five encodings, and with different numbers of jobs and engines.
"""

from __future__ import annotations

import gzip
import json
import random
import shutil
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bes_logdiag.cli import app

runner = CliRunner()

DAY = datetime(2024, 3, 12)
LOG_START = DAY.replace(hour=7)
LOG_END = DAY.replace(hour=18)  # every server's last line (CTRL health check)
SERVERS = ("BES01", "BES_EU_02", "HQ_BES_03")
RESTART = DAY.replace(hour=12, minute=30)  # MAGT_01 restarts: _0001 until then, _0002 after
PUSHES = (DAY.replace(hour=7, minute=40), DAY.replace(hour=12, minute=5), DAY.replace(hour=16, minute=20))
# quiet slots: activations that only time order can join (nothing else within minutes)
SLOTS = (
    DAY.replace(hour=8, minute=20),
    DAY.replace(hour=10, minute=5),
    DAY.replace(hour=13, minute=20),
    DAY.replace(hour=14, minute=40),
    DAY.replace(hour=15, minute=20),
)
LATE_SLOT = DAY.replace(hour=17, minute=40)  # in progress at stage 3 when the logs end
BURSTS = (DAY.replace(hour=9, minute=0, second=5), DAY.replace(hour=11, minute=15, second=30))

# outcome -> (status, stage, kb): BES-LOGS.md section 4, patterns/rules.toml, patterns/errors.toml
OUTCOMES: dict[str, tuple[str, int, str | None]] = {
    "complete": ("complete", 4, None),
    "in_progress_4": ("in_progress", 4, None),
    "in_progress_3": ("in_progress", 3, None),
    "stall_etp": ("stalled", 1, "KB13840"),
    "stall_key": ("stalled", 2, "KB13843"),
    "stall_accept": ("stalled", 2, "KB13843"),
    "stall_books": ("stalled", 3, "KB03410"),
    "stall_policy": ("stalled", 3, "KB13847"),
    "stall_getconfig": ("stalled", 4, "KB03964"),
    "stall_cical": ("stalled", 4, "KB10496"),
    "stall_progress": ("stalled", 4, "KB13461"),
    "fail_not_started": ("failed", 1, "KB10321"),
    "fail_mailbox": ("failed", 1, "KB02276"),
    "fail_etp_rejected": ("failed", 1, "KB04829"),
    "fail_key_rejected": ("failed", 2, "KB13843"),
    "fail_policy_rejected": ("failed", 3, "KB04533"),
    "retry_complete": ("complete", 4, None),
}
REACHES_POLC = {
    "complete",
    "in_progress_4",
    "in_progress_3",
    "stall_policy",
    "stall_getconfig",
    "stall_cical",
    "stall_progress",
    "fail_policy_rejected",
    "retry_complete",
}
REACHES_SYNC = {
    "complete",
    "in_progress_4",
    "stall_getconfig",
    "stall_cical",
    "stall_progress",
    "retry_complete",
}
ORDER = ["etp", "key", "accept", "books", "policy", "getconfig", "cical", "progress", "complete"]
UPTO = {
    "stall_etp": "etp",
    "stall_key": "key",
    "stall_accept": "accept",
    "stall_books": "books",
    "stall_policy": "policy",
    "stall_getconfig": "getconfig",
    "stall_cical": "cical",
    "stall_progress": "progress",
    "in_progress_3": "policy",
    "in_progress_4": "progress",
}
STAGE_OF = {
    "etp_received": 1,
    "key_generated": 2,
    "key_accept_sent": 2,
    "service_books_requested": 3,
    "itpolicy_queued": 3,
    "slowsync_started": 4,
    "calendar_sync": 4,
    "slowsync_progress": 4,
    "slowsync_complete": 4,
}

FIRST = [
    "Anna",
    "Piet",
    "Sofia",
    "Marek",
    "Jürgen",
    "Zoë",
    "José",
    "Søren",
    "Chloé",
    "Ines",
    "Omar",
    "Ravi",
    "Mei",
    "Tomás",
    "Helga",
    "Björn",
    "Amélie",
    "Lucía",
    "Nils",
    "Greta",
    "Karim",
    "Yusuf",
    "Elif",
    "Dario",
    "Fiona",
    "Hugo",
    "Ivana",
    "Joost",
    "Kaja",
    "Lars",
    "Maëlle",
    "Noor",
    "Otto",
    "Pia",
    "Quinn",
    "Rosa",
    "Sven",
    "Tereza",
    "Ugo",
    "Vera",
    "Wim",
    "Xenia",
    "Yara",
    "Zeno",
]
LAST = [
    "Berg",
    "de Vries",
    "Rossi",
    "Novák",
    "Müller",
    "Lefèvre",
    "Núñez",
    "Jørgensen",
    "Martin",
    "Haddad",
    "Patel",
    "Chen",
    "Ortiz",
    "Schäfer",
    "Lindqvist",
    "Dubois",
    "García",
    "Andersen",
    "Eriksson",
    "Nasser",
    "Demir",
    "Kaya",
    "Bianchi",
    "Walsh",
    "Moreau",
    "Horvat",
    "Bakker",
    "Nowak",
    "Holm",
    "Fischer",
    "Khan",
    "Weber",
    "Ruiz",
    "Sauer",
    "Söderström",
    "Costa",
    "Olsen",
    "Vidal",
    "Janssen",
    "Kovács",
    "Brandt",
    "Meyer",
    "Roth",
    "Hartmann",
    "Lund",
    "Falk",
    "Strand",
    "Vogel",
    "Graf",
    "Keller",
    "Wolff",
    "Brun",
    "Åberg",
    "Frost",
    "Lang",
    "Sandberg",
    "Krüger",
    "Öztürk",
    "Pohl",
    "Marx",
    "Zeller",
    "Engel",
    "Dahl",
    "Baum",
]


def fold(s: str) -> str:
    """My own address folding for first.last addresses (ü -> ue, é -> e, ø -> oe, å -> aa)."""
    table = str.maketrans(
        {
            "ä": "ae",
            "ö": "oe",
            "ü": "ue",
            "ß": "ss",
            "æ": "ae",
            "ø": "oe",
            "å": "aa",
            "é": "e",
            "è": "e",
            "ë": "e",
            "á": "a",
            "í": "i",
            "ó": "o",
            "ú": "u",
            "ñ": "n",
            "ř": "r",
            "č": "c",
            "ý": "y",
            " ": "",
            "'": "",
        }
    )
    return s.lower().translate(table)


def ts(t: datetime) -> str:
    return f"{t:%m/%d %H:%M:%S}.{t.microsecond // 1000:03d}"


def line(t: datetime, msg: str, *, tid: str | None, user: str | None = None, eid: str = "40000") -> str:
    who = f" {{{user}}}" if user else ""
    thread = f"{{0x{tid}}}" if tid else ""
    return f"[{eid}] ({ts(t)}):{thread}{who} {msg}"


@dataclass
class User:
    server: str
    first: str
    last: str
    uid: int
    kind: str  # shape | map | time | amb
    outcome: str
    agent: int
    email: str = ""
    t0: datetime = DAY
    retry_t0: datetime = DAY
    scale: float = 1.0

    @property
    def display(self) -> str:
        return f"{self.last}, {self.first}"

    @property
    def expect(self) -> dict[str, object]:
        status, stage, kb = OUTCOMES[self.outcome]
        joined = self.kind != "amb"
        uid = self.uid if self.kind == "map" or (self.outcome in REACHES_POLC and joined) else None
        disp = self.display if self.kind == "map" or (self.outcome in REACHES_SYNC and joined) else None
        return {
            "server": self.server,
            "email": self.email,
            "user_id": uid,
            "display_name": disp,
            "status": status,
            "stage": stage,
            "kb": kb,
        }

    @property
    def needs_time_join(self) -> bool:
        """The address meets the user id only through POLC's line, and no map or name joins them."""
        if self.kind in ("time", "amb"):
            return True
        return self.kind == "shape" and self.outcome in REACHES_POLC - REACHES_SYNC


@dataclass
class World:
    users: list[User]
    idle: dict[str, list[tuple[str, int, str]]]  # server -> (email, uid, display)
    # (server, code, instance, iteration) -> [(time, text)]
    files: dict[tuple[str, str, int, int], list[tuple[datetime, str]]] = field(default_factory=dict)

    def add(self, server: str, code: str, inst: int, t: datetime, text: str) -> None:
        it = 2 if code == "MAGT" and inst == 1 and t >= RESTART else 1
        self.files.setdefault((server, code, inst, it), []).append((t, text))

    def user(self, email: str) -> User:
        return next(u for u in self.users if u.email == email)


# ---------------------------------------------------------------------------------------------
# the generator
# ---------------------------------------------------------------------------------------------


def _people(rng: random.Random) -> list[tuple[str, str]]:
    """Distinct first and last name pairs (so no address fits two display names)."""
    pairs = [(f, ln) for f in FIRST for ln in LAST]
    rng.shuffle(pairs)
    return pairs


def _email(first: str, last: str, kind: str, domain: str, rng: random.Random) -> str:
    f, ln = fold(first), fold(last)
    if kind == "shape":
        return f"{f}.{ln}@{domain}"
    # addresses whose shape does not give the name away (initial+last, last.initial, role mailbox)
    return rng.choice(
        [f"{f[0]}{ln}@{domain}", f"{ln}.{f[0]}@{domain}", f"{ln}{f[0]}{rng.randint(1, 9)}@{domain}"]
    )


def _server_plan(server: str, idx: int) -> list[tuple[str, str]]:
    """(outcome, kind) for the 20 users of one server: every outcome, every kind of join."""
    plan = [(o, "shape") for o in OUTCOMES]  # 17
    maps = [
        ("stall_key", "complete", "stall_policy"),
        ("stall_getconfig", "fail_mailbox", "in_progress_4"),
        ("fail_policy_rejected", "stall_books", "stall_progress"),
    ][idx]
    for o in maps:
        plan[[p[0] for p in plan].index(o)] = (o, "map")
    times = [("complete", "stall_getconfig"), ("stall_cical", "complete"), ("stall_progress", "complete")][
        idx
    ]
    plan.append((times[0], "time"))
    plan.append((times[1], "time"))
    if idx == 1:  # the ambiguous pair: two completes on BES_EU_02
        plan += [("complete", "amb"), ("complete", "amb")]
    else:
        plan.append(("complete", "shape"))
    return plan


def build_world(seed: int = 20240312) -> World:
    rng = random.Random(seed)
    people = _people(rng)
    users: list[User] = []
    idle: dict[str, list[tuple[str, int, str]]] = {}
    pi = 0
    for idx, server in enumerate(SERVERS):
        domain = ["corp.example", "example.eu", "hq.example.com"][idx]
        for n, (outcome, kind) in enumerate(_server_plan(server, idx)):
            f, ln = people[pi]
            pi += 1
            u = User(
                server,
                f,
                ln,
                1000 * (idx + 1) + 17 * n + rng.randint(1, 16),
                kind,
                outcome,
                rng.choice((1, 2)),
            )
            u.email = _email(f, ln, kind, domain, rng)
            while any(x.email == u.email for x in users):
                u.email = _email(f, ln, kind, domain, rng)
            u.scale = rng.uniform(0.8, 1.6)
            users.append(u)
        idle[server] = []
        for n in range(30):
            f, ln = people[pi]
            pi += 1
            idle[server].append((f"{fold(f)}.{fold(ln)}@{domain}", 5000 + 100 * idx + n, f"{ln}, {f}"))
    _schedule(users, rng)
    world = World(users, idle)
    busy: dict[tuple[str, int, str], list[tuple[datetime, datetime]]] = {}
    for u in users:
        _activation(world, u, rng, busy)
    for server in SERVERS:
        _noise(world, server, rng, busy)
    return world


def _schedule(users: list[User], rng: random.Random) -> None:
    """Start times: quiet slots for time-only joins, bursts, and random times elsewhere."""
    for idx, server in enumerate(SERVERS):
        mine = [u for u in users if u.server == server]
        amb = [u for u in mine if u.kind == "amb"]
        timed = [u for u in mine if u.needs_time_join and u.kind != "amb"]
        slots = list(SLOTS)
        late = [u for u in timed if u.outcome == "in_progress_3"]
        for u in late:
            u.t0 = LATE_SLOT + timedelta(seconds=rng.randint(0, 20))
        for u in timed:
            if u not in late:
                u.t0 = slots.pop(0) + timedelta(seconds=rng.randint(0, 40))
        if amb:  # requests A, B, then policies 1, 2 (README: refused)
            amb[0].t0 = slots.pop(0) + timedelta(seconds=7)
            amb[1].t0 = amb[0].t0 + timedelta(seconds=3)
            amb[0].scale = amb[1].scale = 1.0
        quiet = list(SLOTS) + [LATE_SLOT] + list(PUSHES) + [RESTART]

        def free(t: datetime) -> bool:
            return all(abs((t - q).total_seconds()) > 360 for q in quiet)

        rest = [u for u in mine if not u.needs_time_join]
        rng.shuffle(rest)
        burstable = [u for u in rest if u.outcome not in ("in_progress_4", "retry_complete")]
        for b, when in enumerate(BURSTS):  # several users in the same minute, both agents
            for k, u in enumerate(burstable[b * 4 : b * 4 + 4]):
                u.t0 = when + timedelta(seconds=rng.randint(0, 50), milliseconds=rng.randint(0, 999))
                u.agent = 1 + (k % 2)
        placed = {id(u) for u in burstable[:8]}
        for u in rest:
            if id(u) in placed:
                continue
            if u.outcome == "in_progress_4":
                u.t0 = DAY.replace(hour=17, minute=20, second=rng.randint(0, 59))
                u.scale = 1.0
                continue
            latest = {"complete": 16 * 60 + 30, "retry_complete": 14 * 60}.get(u.outcome, 15 * 60 + 20)
            while True:
                t = DAY + timedelta(
                    minutes=rng.randint(7 * 60 + 20, latest),
                    seconds=rng.randint(0, 59),
                    milliseconds=rng.randint(0, 999),
                )
                if free(t):
                    u.t0 = t
                    break
            while u.outcome == "retry_complete":  # the retry, two hours or so later
                u.retry_t0 = u.t0 + timedelta(hours=2, minutes=rng.randint(0, 20), seconds=rng.randint(0, 59))
                if free(u.retry_t0):
                    break


def _activation(world: World, u: User, rng: random.Random, busy: dict) -> None:  # type: ignore[type-arg]
    """Milestone lines (seed table) timed like the seed: key in seconds, slow sync ~13 min."""
    s = u.server
    while True:  # a key thread of its own on its agent (other users' mail may pass on it at other times)
        key_tid = f"{rng.randint(0x1000, 0x1FFF):X}"
        if not any(k[0] == s and k[1] == u.agent and k[2] == key_tid for k in busy):
            break
    poll_tid = f"{rng.randint(0x2000, 0x2FFF):X}"
    books_tid = f"{rng.randint(0x3000, 0x3FFF):X}"
    if u.outcome == "retry_complete":  # first try: ETP.DAT, nothing more (KB13840), then a retry 2 h later
        world.add(s, "MAGT", u.agent, u.t0, line(u.t0, _etp(rng), tid=poll_tid, user=u.email))
        u0 = u.t0
        u.t0 = u.retry_t0
        _milestones(world, u, "complete", rng, key_tid, poll_tid, books_tid, busy)
        u.t0 = u0
        return
    if u.outcome == "fail_not_started":
        for k in range(3):
            t = u.t0 + timedelta(minutes=15 * k)
            world.add(
                s,
                "MAGT",
                u.agent,
                t,
                line(
                    t, "The OpenDatabase() failed. User not started", tid=poll_tid, user=u.email, eid="10000"
                ),
            )
        return
    upto = UPTO.get(u.outcome, "complete")
    if u.outcome in ("fail_mailbox", "fail_etp_rejected"):
        upto = "etp"
    if u.outcome == "fail_key_rejected":
        upto = "key"
    if u.outcome == "fail_policy_rejected":
        upto = "policy"
    _milestones(world, u, upto, rng, key_tid, poll_tid, books_tid, busy)
    at = u.t0 + timedelta(seconds=1, milliseconds=rng.randint(0, 900))
    if u.outcome == "fail_mailbox":
        for k in range(2):
            t = at + timedelta(minutes=k)
            world.add(
                s,
                "MAGT",
                u.agent,
                t,
                line(
                    t,
                    f"MAPIMailbox::MAPIMailbox - OpenMsgStore (0x8004011d) failed, MailboxDN=/o=Corp/ou=Exchange/"
                    f"cn=Recipients/cn={u.email.split('@')[0]}",
                    tid=poll_tid,
                    user=u.email,
                    eid="20400",
                ),
            )
    elif u.outcome == "fail_etp_rejected":
        world.add(
            s,
            "MAGT",
            u.agent,
            at,
            line(
                at,
                "Enterprise activation failed: ETP.DAT could not be decrypted with the activation password",
                tid=poll_tid,
                user=u.email,
                eid="20000",
            ),
        )
    elif u.outcome == "fail_key_rejected":
        t = u.t0 + timedelta(seconds=2.4 * u.scale)
        world.add(
            s,
            "MAGT",
            u.agent,
            t,
            line(
                t,
                f"*** OTAKEYGEN *** Key verification failed, sending KEY_REJECT transID = {rng.randint(10**6, 10**9)}",
                tid=key_tid,
                user=u.email,
                eid="20000",
            ),
        )
    elif u.outcome == "fail_policy_rejected":
        t = u.t0 + timedelta(seconds=40 * u.scale)
        if SERVERS.index(s) % 2:
            world.add(
                s,
                "MAGT",
                u.agent,
                t,
                line(
                    t,
                    f"IT Policy Rejected by device, PIN=2A{u.uid:X}4C",
                    tid=books_tid,
                    user=u.email,
                    eid="20000",
                ),
            )
        else:
            world.add(
                s,
                "POLC",
                1,
                t,
                line(
                    t,
                    f"SCS::ProcessITPolicyResult - IT policy rejected by device for UserId={u.uid}",
                    tid="E1C",
                    eid="20000",
                ),
            )


def _etp(rng: random.Random) -> str:
    return (
        f"Queuing DATA from network@etp{rng.randint(1000, 1999)}.etp.na.blackberry.net, "
        f"Tag={rng.randint(-999999999, 999999999)}, EntryId={rng.randint(100000, 9999999)}"
    )


def _milestones(
    world: World,
    u: User,
    upto: str,
    rng: random.Random,
    key_tid: str,
    poll_tid: str,
    books_tid: str,
    busy: dict,
) -> None:  # type: ignore[type-arg]
    keep = ORDER[: ORDER.index(upto) + 1]
    s, a = u.server, u.agent

    def at(sec: float) -> datetime:
        return u.t0 + timedelta(seconds=sec * u.scale)

    if "etp" in keep:
        world.add(s, "MAGT", a, at(0), line(at(0), _etp(rng), tid=poll_tid, user=u.email))
    if "key" in keep:
        cipher = rng.choice(["3DES", "AES"])
        world.add(
            s,
            "MAGT",
            a,
            at(2),
            line(
                at(2), f"Generating {cipher} key (this is based on server setting)", tid=key_tid, user=u.email
            ),
        )
        busy.setdefault((s, a, key_tid), []).append(
            (at(2) - timedelta(seconds=1), at(2.3) + timedelta(seconds=1))
        )
    if "accept" in keep:
        world.add(
            s,
            "MAGT",
            a,
            at(2.3),
            line(
                at(2.3),
                f"*** OTAKEYGEN *** sending KEY_ACCEPT transID = {rng.randint(10**6, 2 * 10**9)}",
                tid=key_tid,
            ),
        )
    if "books" in keep:
        world.add(
            s,
            "MAGT",
            a,
            at(9),
            line(
                at(9),
                "*** OTAKEYGEN *** Queuing service book data to Policy Server",
                tid=books_tid,
                user=u.email,
            ),
        )
    if "policy" in keep:
        world.add(
            s,
            "POLC",
            1,
            at(13),
            line(
                at(13),
                f"SCS::CheckITPolicyInGroup - Queuing SET_ITPOLICY_REQUEST request for UserId={u.uid}",
                tid="E1C",
            ),
        )
    tag = f"[{u.display}:{u.uid}]"
    if "getconfig" in keep:
        world.add(
            s,
            "SYNC",
            1,
            at(48),
            line(
                at(48),
                f'[SYNC-DSession] Received "GetConfig" command from device. {tag}',
                tid="1294",
                eid="46046",
            ),
        )
    if "cical" in keep:
        world.add(
            s,
            "MAGT",
            a,
            at(60),
            line(
                at(60),
                f"[CICAL] Calendar slow synchronization started, {rng.randint(20, 900)} items",
                tid=books_tid,
                user=u.email,
            ),
        )
    if "progress" in keep:
        end = 760 if upto == "complete" else (rng.randint(300, 500) if u.outcome != "in_progress_4" else 1900)
        sec = 150
        while sec < end:
            cmd = rng.choice(["AddressBookData", "TaskData", "MemoData", "SyncData", "GetRecords"])
            world.add(
                s,
                "SYNC",
                1,
                at(sec),
                line(
                    at(sec),
                    f'[SYNC-DSession] Received "{cmd}" command from device. {tag}',
                    tid="1294",
                    eid="46047",
                ),
            )
            sec += rng.randint(60, 200)
    if "complete" in keep:
        world.add(
            s,
            "SYNC",
            1,
            at(790),
            line(at(790), f"[SYNC-DSession] *** SLOWSYNC COMPLETE *** {tag}", tid="12AC", eid="36023"),
        )
        for k in range(2):  # routine syncs later in the day: after completion they start nothing
            t = at(790) + timedelta(hours=1 + k, minutes=rng.randint(0, 30))
            if t < LOG_END - timedelta(minutes=1):
                world.add(
                    s,
                    "SYNC",
                    1,
                    t,
                    line(
                        t,
                        f'[SYNC-DSession] Received "SyncData" command from device. {tag}',
                        tid="1298",
                        eid="46047",
                    ),
                )


def _noise(world: World, server: str, rng: random.Random, busy: dict) -> None:  # type: ignore[type-arg]
    """A day of everything else (BES-LOGS.md section 2: activation lines are a tiny fraction)."""
    idle = world.idle[server]
    users = [u for u in world.users if u.server == server]
    workers = {a: [f"{rng.randint(0x1000, 0x1FFF):X}" for _ in range(6)] for a in (1, 2)}
    for u in users:  # key threads also carry mail flow at other times
        for s, a, tid in busy:
            if s == server and tid not in workers[a]:
                workers[a].append(tid)
    broken = [e for e, _, _ in idle[:2]]  # idle users whose mailbox the service account cannot open
    for agent in (1, 2):
        mailboxes = [u.email for u in users if u.agent == agent] + [e for e, _, _ in idle]
        for start in (LOG_START, RESTART):
            t = start + timedelta(milliseconds=rng.randint(5, 90))
            world.add(
                server,
                "MAGT",
                agent,
                t,
                line(
                    t, f"BlackBerry Messaging Agent {server} Agent {agent} starting", tid="9C4", eid="50000"
                ),
            )
            world.add(
                server, "MAGT", agent, t, line(t, f"Current Date: {DAY:%Y/%m/%d}", tid="9C4", eid="30000")
            )
        t = LOG_START + timedelta(seconds=1)
        n = 0
        while t < LOG_END - timedelta(seconds=30):
            t += timedelta(seconds=rng.expovariate(1 / 14), milliseconds=rng.randint(0, 999))
            if t >= LOG_END - timedelta(seconds=30):
                break
            if abs((t - RESTART).total_seconds()) < 2:
                continue
            tid = rng.choice(workers[agent])
            if any(a <= t <= b for a, b in busy.get((server, agent, tid), [])):
                continue
            who = rng.choice(mailboxes)
            n += 1
            kind = rng.random()
            if kind < 0.45:
                world.add(
                    server,
                    "MAGT",
                    agent,
                    t,
                    line(
                        t,
                        f"New mail has arrived, EntryId={rng.randint(10**5, 10**7)}",
                        tid=tid,
                        user=who,
                        eid="30085",
                    ),
                )
                world.add(
                    server,
                    "MAGT",
                    agent,
                    t,
                    line(
                        t,
                        f"Queuing DATA to device, RefId={rng.randint(10**5, 10**8)}, size={rng.randint(400, 90000)}",
                        tid=tid,
                        user=who,
                    ),
                )
            elif kind < 0.75:
                world.add(
                    server,
                    "MAGT",
                    agent,
                    t,
                    line(
                        t,
                        f"Message received from device, RefId={rng.randint(10**5, 10**8)}, "
                        f"TransactionId={rng.randint(10**5, 10**9)}, size={rng.randint(200, 9000)}",
                        tid=tid,
                        user=who,
                    ),
                )
            elif kind < 0.85:
                world.add(
                    server,
                    "MAGT",
                    agent,
                    t,
                    line(t, f"Total Msgs Pending {rng.randint(0, 9)}", tid="9C4", eid="30000"),
                )
            elif kind < 0.93:
                world.add(
                    server, "MAGT", agent, t, line(t, "[CICAL] Meeting request delivered", tid=tid, user=who)
                )
            else:
                world.add(
                    server,
                    "MAGT",
                    agent,
                    t,
                    line(
                        t,
                        f"Status: Sent message to device, Tag={n}, status=0",
                        tid=tid,
                        user=who,
                        eid="30000",
                    ),
                )
        t = LOG_START + timedelta(minutes=3 + agent)
        while t < LOG_END - timedelta(minutes=1):  # mailbox errors of idle users, every ~20 min
            who = broken[agent - 1]
            world.add(
                server,
                "MAGT",
                agent,
                t,
                line(
                    t,
                    f"MAPIMailbox::MAPIMailbox - OpenMsgStore (0x8004011d) failed, MailboxDN=/o=Corp/ou=Exchange/"
                    f"cn=Recipients/cn={who.split('@')[0]}",
                    tid=rng.choice(workers[agent]),
                    user=who,
                    eid="20400",
                ),
            )
            t += timedelta(minutes=rng.randint(15, 25), seconds=rng.randint(0, 59))
    # POLC: status lines, and IT policy pushes to idle users (SET_ITPOLICY_REQUEST outside activations)
    t = LOG_START + timedelta(seconds=2)
    while t < LOG_END - timedelta(seconds=40):
        world.add(
            server,
            "POLC",
            1,
            t,
            line(t, f"SCS::Poll - {rng.randint(0, 3)} outstanding requests", tid="D10", eid="30000"),
        )
        t += timedelta(seconds=rng.randint(60, 150), milliseconds=rng.randint(0, 999))
    for p in PUSHES:
        for k, (_, uid, _) in enumerate(idle[5:20]):
            t = p + timedelta(milliseconds=300 * k)
            world.add(
                server,
                "POLC",
                1,
                t,
                line(
                    t,
                    f"SCS::CheckITPolicyInGroup - Queuing SET_ITPOLICY_REQUEST request for UserId={uid}",
                    tid="E1C",
                ),
            )
            t2 = t + timedelta(seconds=rng.randint(20, 50))
            world.add(
                server,
                "POLC",
                1,
                t2,
                line(
                    t2,
                    f"SCS::ProcessITPolicyResult - IT policy applied for UserId={uid}",
                    tid="E20",
                    eid="30000",
                ),
            )
    # SYNC: idle users' routine checks and device commands (unattached)
    t = LOG_START + timedelta(seconds=4)
    while t < LOG_END - timedelta(seconds=30):
        _, uid, disp = rng.choice(idle[2:])
        if rng.random() < 0.1:
            world.add(
                server,
                "SYNC",
                1,
                t,
                line(
                    t,
                    f'[SYNC-DSession] Received "SyncData" command from device. [{disp}:{uid}]',
                    tid="12A0",
                    eid="46047",
                ),
            )
        else:
            world.add(
                server,
                "SYNC",
                1,
                t,
                line(t, "CheckResponseReceived - no changes detected.", tid="C4", user=disp, eid="40089"),
            )
        t += timedelta(seconds=rng.randint(20, 70), milliseconds=rng.randint(0, 999))
    # the other services: read and counted, never part of a diagnosis
    others = {
        "CTRL": (300, lambda: "Performing system health check (BlackBerry Controller Version 4.1.2.23)"),
        "DISP": (40, lambda: f"SRP: sent {rng.randint(1, 40)} packets, {rng.randint(1000, 90000)} bytes"),
        "ROUT": (45, lambda: f"Router: connection {rng.randint(1, 99)} to relay, {rng.randint(1, 500)} KB"),
        "MDSS": (
            35,
            lambda: f"HTTP GET http://intranet.{server.lower()}.local/app{rng.randint(1, 9)} status=200",
        ),
    }
    for code, (every, msg) in others.items():
        t = LOG_START + timedelta(seconds=rng.randint(1, 30))
        while t < LOG_END - timedelta(seconds=5):
            world.add(server, code, 1, t, line(t, msg(), tid="A2C", eid="30000"))
            if code == "CTRL" and rng.random() < 0.2:
                world.add(
                    server,
                    code,
                    1,
                    t,
                    line(t, f"Agent {rng.randint(1, 2)}: Missed 1 heartbeats", tid="A2C", eid="20000"),
                )
            t += timedelta(seconds=rng.randint(every // 2, every * 3 // 2), milliseconds=rng.randint(0, 999))
    world.add(
        server,
        "CTRL",
        1,
        LOG_END,
        line(
            LOG_END,
            "Performing system health check (BlackBerry Controller Version 4.1.2.23)",
            tid="A2C",
            eid="30000",
        ),
    )


# ---------------------------------------------------------------------------------------------
# writing the folder: plain, quirked, encodings, containers
# ---------------------------------------------------------------------------------------------


def fname(server: str, code: str, inst: int, it: int) -> str:
    return f"{server}_{code}_{inst:02d}_{DAY:%Y%m%d}_{it:04d}.txt"


def rel_path(key: tuple[str, str, int, int]) -> str:
    """``<server>/Logs/<YYYYMMDD>/<file>``: how an admin collects the day folders of three servers."""
    return f"{key[0]}/Logs/{DAY:%Y%m%d}/{fname(*key)}"


def file_lines(world: World, key: tuple[str, str, int, int]) -> list[str]:
    return [text for _, text in sorted(world.files[key], key=lambda x: x[0])]


ENCODERS: dict[str, Callable[[str], bytes]] = {
    "utf-8": lambda s: s.encode("utf-8"),
    "utf-8-sig": lambda s: s.encode("utf-8-sig"),
    "utf-16-le-bom": lambda s: b"\xff\xfe" + s.encode("utf-16-le"),
    "cp1252": lambda s: s.encode("cp1252"),
}


def write_tree(
    world: World,
    root: Path,
    *,
    quirks: random.Random | None = None,
    key_safe: bool = False,
    encodings: dict[tuple[str, str, int, int], tuple[str, str]] | None = None,
) -> list[Path]:
    paths = []
    for key in sorted(world.files):
        lines = file_lines(world, key)
        if quirks is not None:
            lines = damage(lines, quirks, old_build=quirks.random() < 0.3, key_safe=key_safe)
        enc, nl = (encodings or {}).get(key, ("utf-8", "\n"))
        p = root / rel_path(key)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(ENCODERS[enc](nl.join(lines) + nl))
        paths.append(p)
    return paths


# line quirks of BES-LOGS.md section 2, each a function of one line


def q_no_event_id(s: str, rng: random.Random) -> str:
    return s.split("] ", 1)[1] if s.startswith("[") else s


def q_one_digit_id(s: str, rng: random.Random) -> str:
    return "[" + s[1] + s[s.index("]") :] if s.startswith("[") else s


def q_no_ms(s: str, rng: random.Random) -> str:
    i = s.index("(")
    return s[: i + 15] + s[i + 19 :] if s[i + 15] == "." else s


def q_no_thread(s: str, rng: random.Random) -> str:
    # not on the key lines: KEY_ACCEPT finds its user through its thread (its loss would be real loss)
    if "KEY_ACCEPT" in s or "Generating" in s or "):{0x" not in s:
        return s
    head, rest = s.split("):{0x", 1)
    return head + "):" + rest.split("}", 1)[1]


def q_no_space(s: str, rng: random.Random) -> str:
    return s.replace("} {", "}{", 1)


def q_times(s: str, rng: random.Random) -> str:
    return s.replace("{0x", "{0×", 1)


def q_dash(s: str, rng: random.Random) -> str:
    return s.replace(" - ", " – ")


def q_curly(s: str, rng: random.Random) -> str:
    return s.replace(' "', " “").replace('" ', "” ")


def q_space_lost(s: str, rng: random.Random) -> str:
    return s.replace("DATA from network@", "DATA fromnetwork@").replace("transID = ", "transID =")


def q_pasted_prefix(s: str, rng: random.Random) -> str:
    return rng.choice(["> ", ">> ", "    ", "log: ", "\t"]) + s


LINE_QUIRKS = [
    q_no_event_id,
    q_one_digit_id,
    q_no_thread,
    q_no_space,
    q_times,
    q_dash,
    q_curly,
    q_space_lost,
    q_pasted_prefix,
]


def damage(
    lines: list[str],
    rng: random.Random,
    share: float = 0.3,
    *,
    old_build: bool = False,
    key_safe: bool = False,
) -> list[str]:
    """Quirks on ~30 % of the lines (one to three each), and now and then two records on one line.

    ``old_build``: the whole file without milliseconds (BES-LOGS.md: "in older builds"; a build
    property, so per file).  ``key_safe``: leave the thread of the two key lines undamaged and never
    glue either key line behind another record (kept for a run with the key lines spared; the tests
    below also damage them).
    """
    out: list[str] = []
    for s in lines:
        if rng.random() < share:
            for q in rng.sample(LINE_QUIRKS, rng.randint(1, 3)):
                if key_safe and q is q_times and ("Generating" in s or "KEY_ACCEPT" in s):
                    continue
                s = q(s, rng)
        out.append(q_no_ms(s, rng) if old_build else s)
    merged: list[str] = []
    i = 0
    while i < len(out):
        # text copied out of a table: the next record (with its event id) on the same line
        if (
            i + 1 < len(out)
            and out[i + 1].startswith("[")
            and rng.random() < 0.03
            and not (key_safe and ("KEY_ACCEPT" in out[i + 1] or "Generating" in out[i + 1]))
        ):
            merged.append(out[i] + " " + out[i + 1])
            i += 2
            continue
        merged.append(out[i])
        i += 1
    return merged


# ---------------------------------------------------------------------------------------------
# running the tool
# ---------------------------------------------------------------------------------------------


def run(
    *args: object, env: dict[str, str] | None = None, input: bytes | None = None, jobs: str = "1"
) -> tuple[int, dict, str]:  # type: ignore[type-arg]
    argv = [str(a) for a in args] + ["--format", "json", "--jobs", jobs]
    result = runner.invoke(app, argv, env=env, input=input)
    assert result.exit_code in (0, 1), (result.exit_code, result.stderr[-3000:], result.stdout[-2000:])
    return result.exit_code, json.loads(result.stdout), result.stderr


def verdict_rows(rep: dict, *, seconds: bool = False) -> list[tuple]:  # type: ignore[type-arg]
    """What an admin reads off a report, per activation (times cut to seconds when asked)."""

    def t(x: str | None) -> str | None:
        return x[:19] if (x and seconds) else x

    rows = []
    for a in rep["activations"]:
        rows.append(
            (
                a["server"],
                a["email"],
                a["user_id"],
                a["display_name"],
                a["status"],
                a["stage"],
                a["kb"],
                a["last_milestone"],
                a["next_expected"],
                t(a["started"]),
                t(a["last_progress"]),
                t(a["completed"]),
                len(a["attempts"]),
                tuple(sorted((m["milestone"], t(m["time"])) for m in a["milestones"])),
                tuple((e["error"], t(e["time"])) for e in a["errors"]),
                tuple(sorted(j["kind"] for j in a["joins"])),
            )
        )
    return sorted(rows, key=lambda r: tuple(str(x) for x in r))


def by_email(rep: dict) -> dict[str, list[dict]]:  # type: ignore[type-arg]
    out: dict[str, list[dict]] = {}  # type: ignore[type-arg]
    for a in rep["activations"]:
        out.setdefault(a["email"], []).append(a)
    return out


def users_csv(path: Path, rows: list[tuple[str, int, str]]) -> Path:
    """A user map as Windows exports it from the BES configuration database: UTF-16, CRLF."""
    text = "MailboxSMTPAddr,UserConfigId,DisplayName\r\n" + "".join(f'{e},{i},"{d}"\r\n' for e, i, d in rows)
    path.write_bytes(text.encode("utf-16"))
    return path


# ---------------------------------------------------------------------------------------------
# fixtures: the world is built once for the module
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world() -> World:
    return build_world()


@pytest.fixture(scope="module")
def plain(world: World, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("captured") / "captured"
    write_tree(world, root)
    return root


@pytest.fixture(scope="module")
def maps(world: World, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The partial map (map users and idle users, as an export of one group) and the full map."""
    d = tmp_path_factory.mktemp("maps")
    part = [(u.email, u.uid, u.display) for u in world.users if u.kind == "map"]
    part += [x for s in SERVERS for x in world.idle[s][:3]]
    full = part + [(u.email, u.uid, u.display) for u in world.users if u.kind == "amb"]
    return users_csv(d / "users.csv", part), users_csv(d / "users_full.csv", full)


@pytest.fixture(scope="module")
def baseline(plain: Path, maps: tuple[Path, Path]) -> tuple[int, dict, str]:  # type: ignore[type-arg]
    return run("scan", plain, "--users", maps[0])


# ---------------------------------------------------------------------------------------------
# 0. the generator itself
# ---------------------------------------------------------------------------------------------


def test_generator_is_a_busy_realistic_day(world: World, plain: Path) -> None:
    """Guard my own generator: scale, overlap, every outcome and join kind, isolation of time joins."""
    assert len(world.users) == 61
    lines = sum(len(v) for v in world.files.values())
    assert lines > 25000, lines
    codes = {k[1] for k in world.files}
    assert codes == {"MAGT", "POLC", "SYNC", "CTRL", "DISP", "ROUT", "MDSS"}
    assert {k[3] for k in world.files if k[1] == "MAGT" and k[2] == 1} == {1, 2}
    for s in SERVERS:
        mine = [u for u in world.users if u.server == s]
        assert {u.outcome for u in mine} == set(OUTCOMES), s
        assert {u.kind for u in mine} >= {"shape", "map", "time"}
        for b in BURSTS:  # several users in the same minute, on both agents
            same_minute = [u for u in mine if abs((u.t0 - b).total_seconds()) < 60]
            assert len(same_minute) >= 3 and {u.agent for u in same_minute} == {1, 2}, (s, b)
    assert sum(u.kind == "amb" for u in world.users) == 2
    # every service-book request and every policy line of a time-only join has no other request or
    # policy line within 3 minutes on its server (my reading of "nothing else in between")
    marks: dict[str, list[tuple[datetime, str]]] = {}
    for (srv, _, _, _), items in world.files.items():
        for t, text in items:
            if "Queuing service book data" in text or "SET_ITPOLICY_REQUEST" in text:
                marks.setdefault(srv, []).append((t, text))
    for u in world.users:
        if u.needs_time_join and u.kind != "amb":
            near = [x for x in marks[u.server] if abs((x[0] - u.t0).total_seconds()) < 200]
            assert len(near) == 2, (u.email, near)
    # names: the non-first.last addresses really have another shape
    for u in world.users:
        local = u.email.split("@")[0]
        assert (local == f"{fold(u.first)}.{fold(u.last)}") == (u.kind == "shape"), u.email


# ---------------------------------------------------------------------------------------------
# 1. a busy server day: every user's verdict, nothing split, nothing invented
# ---------------------------------------------------------------------------------------------


def test_busy_day_every_user_status_stage_kb_and_names(world: World, baseline: tuple[int, dict, str]) -> None:  # type: ignore[type-arg]
    code, rep, _ = baseline
    assert code == 1
    got = by_email(rep)
    wrong = []
    for u in world.users:
        if u.kind == "amb":
            continue
        acts = got.get(u.email, [])
        row = (
            {k: acts[0][k] for k in u.expect}
            if len(acts) == 1
            else [(a["status"], a["user_id"]) for a in acts]
        )
        if row != u.expect:
            wrong.append((u.email, u.kind, u.outcome, row, u.expect))
    assert not wrong, "\n".join(map(str, wrong))
    assert rep["log_end"] == {s: LOG_END.isoformat() for s in SERVERS}


def test_busy_day_one_activation_per_user_except_the_refused_pair(
    world: World, baseline: tuple[int, dict, str]
) -> None:  # type: ignore[type-arg]
    """61 users: 61 activations, plus one extra for each half of the pair the tool refused to join."""
    _, rep, _ = baseline
    acts = rep["activations"]
    amb = [u for u in world.users if u.kind == "amb"]
    assert len(acts) == len(world.users) + len(amb)
    assert rep["summary"]["activations"] == len(acts)
    known_emails = {u.email for u in world.users}
    known_ids = {u.uid for u in world.users}
    for a in acts:  # nothing invented: no idle user, no stray id
        assert a["email"] in known_emails or (a["email"] is None and a["user_id"] in {u.uid for u in amb}), a
        assert a["user_id"] is None or a["user_id"] in known_ids, a
    # the refused pair (README "Identities"): said in notes, each address alone, each id alone
    notes = " ".join(rep["notes"])
    assert all(u.email in notes for u in amb), rep["notes"]
    for u in amb:
        email_half = [a for a in acts if a["email"] == u.email]
        id_half = [a for a in acts if a["user_id"] == u.uid]
        assert len(email_half) == 1 and email_half[0]["user_id"] is None
        assert len(id_half) == 1 and id_half[0]["email"] is None
        assert (id_half[0]["status"], id_half[0]["display_name"]) == ("complete", u.display)
    # the idle users' pushes, device syncs and mailbox errors are unattached, not activations
    idle_ids = {uid for s in SERVERS for _, uid, _ in world.idle[s]}
    assert any(x.get("user_id") in idle_ids for x in rep["unattached"])
    assert {x["email"] for x in rep["unattached"] if x.get("error") == "mailbox_not_reachable"} == {
        e for s in SERVERS for e, _, _ in world.idle[s][:2]
    }


def test_busy_day_joins_say_how(world: World, baseline: tuple[int, dict, str]) -> None:  # type: ignore[type-arg]
    """map users by the CSV, time-only users by time, first.last users by name shape."""
    _, rep, _ = baseline
    got = by_email(rep)
    wrong = []
    for u in world.users:
        if u.kind == "amb":
            continue
        kinds = {j["kind"] for j in got[u.email][0]["joins"]}
        want = {"map": "map", "time": "time"}.get(u.kind)
        if u.kind == "shape":
            want = "name" if u.outcome in REACHES_SYNC else ("time" if u.outcome in REACHES_POLC else None)
        if (want is None and kinds) or (want is not None and want not in kinds):
            wrong.append((u.email, u.kind, u.outcome, kinds, want))
    assert not wrong, "\n".join(map(str, wrong))


def test_busy_day_filters_pick_the_right_users(world: World, plain: Path, maps: tuple[Path, Path]) -> None:
    """--user as "First Last" without accents, --server with an underscore, --status."""
    u = next(
        x for x in world.users if not x.first.isascii() and x.kind == "shape" and x.outcome in REACHES_SYNC
    )
    plain_name = f"{fold(u.first)} {fold(u.last)}".title()
    _, rep, _ = run("scan", plain, "--users", maps[0], "--user", plain_name)
    assert [(a["email"], a["display_name"]) for a in rep["activations"]] == [(u.email, u.display)]
    _, rep, _ = run("scan", plain, "--users", maps[0], "--server", SERVERS[1], "--status", "failed")
    want = sorted(x.email for x in world.users if x.server == SERVERS[1] and x.expect["status"] == "failed")
    assert sorted(a["email"] for a in rep["activations"]) == want


def test_full_user_map_resolves_the_refused_pair(world: World, plain: Path, maps: tuple[Path, Path]) -> None:
    _, rep, _ = run("scan", plain, "--users", maps[1])
    assert len(rep["activations"]) == len(world.users)
    got = by_email(rep)
    for u in world.users:
        assert len(got[u.email]) == 1
        assert {k: got[u.email][0][k] for k in u.expect} == {
            **u.expect,
            **({"user_id": u.uid, "display_name": u.display} if u.kind == "amb" else {}),
        }, u.email


def test_without_any_map_nobody_else_changes(world: World, plain: Path) -> None:
    """No CSV: the other users keep their verdicts and names; map users who never reach the Policy
    Service keep their verdict, without the id and name only the map gave."""
    _, rep, _ = run("scan", plain)
    got = by_email(rep)
    for u in world.users:
        if u.kind != "map":
            continue
        assert len(got[u.email]) == 1, u.email
        if u.outcome not in REACHES_POLC:
            want = {**u.expect, "user_id": None, "display_name": None}
            assert {k: got[u.email][0][k] for k in want} == want, u.email
    others = [u for u in world.users if u.kind in ("shape", "time")]
    for u in others:
        assert {k: got[u.email][0][k] for k in u.expect} == u.expect, u.email


# ---------------------------------------------------------------------------------------------
# 2. the same folder as zip, gz, a mix, stdin
# ---------------------------------------------------------------------------------------------


def _zip_tree(src: Path, dest: Path, under: str = "") -> Path:
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as z:
        for p in sorted(src.rglob("*.txt")):
            z.write(p, under + str(p.relative_to(src)).replace("\\", "/"))
    return dest


def test_zip_gz_and_mixed_give_the_same_verdicts(
    world: World, plain: Path, maps: tuple[Path, Path], baseline: tuple[int, dict, str], tmp_path: Path
) -> None:  # type: ignore[type-arg]
    want = verdict_rows(baseline[1])
    # one zip of the whole tree
    z = _zip_tree(plain, tmp_path / "captured.zip")
    _, rz, _ = run("scan", z, "--users", maps[0])
    assert verdict_rows(rz) == want
    # every file gzipped
    gz = tmp_path / "gz"
    for p in plain.rglob("*.txt"):
        q = gz / p.relative_to(plain)
        q.parent.mkdir(parents=True, exist_ok=True)
        q.with_name(q.name + ".gz").write_bytes(gzip.compress(p.read_bytes()))
    _, rg, _ = run("scan", gz, "--users", maps[0])
    assert verdict_rows(rg) == want
    # a mix: server 1 plain, server 2 gzipped, server 3 zipped, in one ticket folder
    mix = tmp_path / "mix"
    shutil.copytree(plain / SERVERS[0], mix / SERVERS[0])
    shutil.copytree(gz / SERVERS[1], mix / SERVERS[1])
    _zip_tree(plain / SERVERS[2], mix / f"{SERVERS[2]}_logs.zip", under=f"{SERVERS[2]}/")
    _, rm, _ = run("scan", mix, "--users", maps[0])
    assert verdict_rows(rm) == want
    for r in (rz, rg, rm):
        assert r["inputs"]["lines"] == baseline[1]["inputs"]["lines"]
        assert r["inputs"]["matched"] == baseline[1]["inputs"]["matched"]
        assert r["inputs"]["files_read"] == baseline[1]["inputs"]["files_read"]
        assert r["log_end"] == baseline[1]["log_end"]
        assert len(r["unattached"]) == len(baseline[1]["unattached"])


def test_stdin_of_one_messaging_agent_file_matches_that_file(
    world: World, plain: Path, tmp_path: Path
) -> None:
    """`scan - --year 2024` on one server's MAGT file gives the verdicts the file itself gives (same
    information: no POLC, no SYNC), with no server name; also gzipped through the pipe."""
    key = (SERVERS[0], "MAGT", 2, 1)
    f = plain / rel_path(key)
    _, rf, _ = run("scan", f)
    _, rs, _ = run("scan", "-", "--year", "2024", input=f.read_bytes())
    _, rsz, _ = run("scan", "-", "--year", "2024", input=gzip.compress(f.read_bytes()))

    def strip(rows: list[tuple]) -> list[tuple]:  # type: ignore[type-arg]
        return [r[1:] for r in rows]

    assert [r[0] for r in verdict_rows(rs)] == [None] * len(rs["activations"])
    assert strip(verdict_rows(rs)) == strip(verdict_rows(rf))
    assert strip(verdict_rows(rsz)) == strip(verdict_rows(rf))
    assert list(rs["log_end"].values()) == list(rf["log_end"].values())
    # and on this file alone every one of its users is there, by address
    mine = {u.email for u in world.users if u.server == SERVERS[0] and u.agent == 2}
    assert {a["email"] for a in rs["activations"]} == mine


# ---------------------------------------------------------------------------------------------
# 3. pasting damage on ~30 % of lines, five encodings, CRLF and LF
# ---------------------------------------------------------------------------------------------


def _quirk_encodings(world: World, rng: random.Random) -> dict[tuple[str, str, int, int], tuple[str, str]]:
    encs = list(ENCODERS)
    out = {k: (rng.choice(encs), rng.choice(["\r\n", "\n"])) for k in sorted(world.files)}
    # SYNC files hold the accented display names: one server each in cp1252, UTF-16 and UTF-8 BOM
    for s, enc in zip(SERVERS, ("cp1252", "utf-16-le-bom", "utf-8-sig")):
        out[(s, "SYNC", 1, 1)] = (enc, "\r\n")
    return out


def _damaged_scan(world: World, root: Path, users: Path, *, key_safe: bool) -> dict:  # type: ignore[type-arg]
    encs = _quirk_encodings(world, random.Random(7))
    assert {e for e, _ in encs.values()} == set(ENCODERS)
    write_tree(world, root, quirks=random.Random(11), encodings=encs, key_safe=key_safe)
    sync = (root / rel_path((SERVERS[0], "SYNC", 1, 1))).read_bytes()
    assert any(u.last.encode("cp1252") in sync and not u.last.isascii() for u in world.users)
    # guard: every kind of damage is really in the tree, on milestone lines too
    codecs = {"utf-16-le-bom": "utf-16", "utf-8-sig": "utf-8-sig", "utf-8": "utf-8", "cp1252": "cp1252"}
    text = "\n".join((root / rel_path(k)).read_bytes().decode(codecs[e]) for k, (e, _) in encs.items())
    milestone_lines = [
        x
        for x in text.splitlines()
        if "OTAKEYGEN" in x or "SET_ITPOLICY" in x or "SYNC-DSession" in x or "Queuing DATA from" in x
    ]
    for mark in ("{0×", " – ", "“GetConfig”", "fromnetwork@", "[4] (", "}{", "> [", "\t[", "): {", "):{0x"):
        assert any(mark in x for x in milestone_lines), mark
    assert any(x.startswith("(03/12") for x in milestone_lines)  # no event id
    assert any(x.count("] (03/12") == 2 for x in text.splitlines())  # two records on one line
    assert any("(03/12 " in x and x.split("(03/12 ", 1)[1][8] == ")" for x in milestone_lines)  # no ms
    _, rep, _ = run("scan", root, "--users", users)
    return rep  # type: ignore[no-any-return]


def _same_as_clean(rq: dict, clean: dict) -> None:  # type: ignore[type-arg]
    assert verdict_rows(rq, seconds=True) == verdict_rows(clean, seconds=True)
    assert rq["log_end"] == clean["log_end"]
    assert len(rq["unattached"]) == len(clean["unattached"])
    assert rq["inputs"]["files_skipped"] == 0, rq["inputs"]["skipped"]
    assert rq["inputs"]["unparsed"] == 0


def test_quirks_and_encodings_leave_every_verdict_unchanged(
    world: World, maps: tuple[Path, Path], baseline: tuple[int, dict, str], tmp_path: Path
) -> None:  # type: ignore[type-arg]
    """Every quirk of section 2 at random on ~30 % of lines, UTF-8/BOM/UTF-16/cp1252, CRLF/LF; the
    key lines' thread ids undamaged and KEY_ACCEPT never glued to its owner's line (see the bugs)."""
    rq = _damaged_scan(world, tmp_path / "damaged", maps[0], key_safe=True)
    _same_as_clean(rq, baseline[1])
    encodings = {f["encoding"] for f in rq["inputs"]["files"]}
    assert len(encodings) >= 4, encodings


def test_quirks_on_every_line_including_the_key_lines(
    world: World, maps: tuple[Path, Path], baseline: tuple[int, dict, str], tmp_path: Path
) -> None:  # type: ignore[type-arg]
    rq = _damaged_scan(world, tmp_path / "damaged_all", maps[0], key_safe=False)
    _same_as_clean(rq, baseline[1])


def _key_probe(tmp_path: Path, gen: str, acc: str, *, glue: str = "") -> list[tuple]:  # type: ignore[type-arg]
    """Another user's mail on the key thread a minute before; then ETP, Generating, KEY_ACCEPT.
    ``glue``: "acc" puts KEY_ACCEPT on Generating's line, "gen" puts Generating on ETP's line."""
    etp = (
        "[40000] (03/12 09:00:30.100):{0x2A00} {anna.berg@corp.example} Queuing DATA from "
        "network@etp1.etp.na.blackberry.net, Tag=1, EntryId=2"
    )
    lines = [
        "[30085] (03/12 09:00:10.000):{0x14D4} {other.user@corp.example} New mail has arrived, EntryId=1"
    ]
    lines += {"": [etp, gen, acc], "acc": [etp, gen + " " + acc], "gen": [etp + " " + gen, acc]}[glue]
    lines.append("[30000] (03/12 09:05:00.000):{0x9C4} Total Msgs Pending 0")
    p = tmp_path / f"BES01_MAGT_01_{DAY:%Y%m%d}_0001.txt"
    p.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))
    _, rep, _ = run("scan", p)
    return sorted((a["email"], [m["milestone"] for m in a["milestones"]]) for a in rep["activations"])


GEN = "[40000] (03/12 09:00:32.500):{0x14D4} {anna.berg@corp.example} Generating 3DES key (this is based on server setting)"
ACC = "[40000] (03/12 09:00:32.800):{0x14D4} *** OTAKEYGEN *** sending KEY_ACCEPT transID = 2077103732"
ANNA_KEYS = [("anna.berg@corp.example", ["etp_received", "key_generated", "key_accept_sent"])]


def test_key_accept_owner_with_undamaged_thread_ids(tmp_path: Path) -> None:
    assert _key_probe(tmp_path, GEN, ACC) == ANNA_KEYS
    assert _key_probe(tmp_path, GEN, ACC.replace("{0x", "{0×")) == ANNA_KEYS


def test_key_accept_owner_line_with_times_sign_in_thread(tmp_path: Path) -> None:
    assert _key_probe(tmp_path, GEN.replace("{0x", "{0×"), ACC) == ANNA_KEYS


def test_key_accept_glued_to_its_owner_line_as_in_the_seed(tmp_path: Path) -> None:
    assert _key_probe(tmp_path, GEN, ACC, glue="acc") == ANNA_KEYS


def test_key_accept_owner_glued_behind_another_record(tmp_path: Path) -> None:
    assert _key_probe(tmp_path, GEN, ACC, glue="gen") == ANNA_KEYS


# ---------------------------------------------------------------------------------------------
# 4. events and timeline
# ---------------------------------------------------------------------------------------------


def test_events_for_one_user_in_time_order_with_stages(
    world: World, plain: Path, maps: tuple[Path, Path]
) -> None:
    u = next(
        x for x in world.users if x.kind == "shape" and x.outcome == "complete" and x.server == SERVERS[2]
    )
    _, rep, _ = run("events", plain, "--users", maps[0])
    mine = [e for e in rep["events"] if e["email"] == u.email]
    names = [e["milestone"] for e in mine]
    assert names[:7] == [
        "etp_received",
        "key_generated",
        "key_accept_sent",
        "service_books_requested",
        "itpolicy_queued",
        "slowsync_started",
        "calendar_sync",
    ], names
    assert names[-1] == "slowsync_complete" and set(names[7:-1]) == {"slowsync_progress"}
    assert [e["time"] for e in mine] == sorted(e["time"] for e in mine)
    assert all(e["stage"] == STAGE_OF[e["milestone"]] for e in mine)
    assert {e["service"] for e in mine} == {"MAGT", "POLC", "SYNC"}
    assert all((e["user_id"], e["display_name"], e["server"]) == (u.uid, u.display, u.server) for e in mine)
    # the routine syncs after completion are events too, but they carry the user and start nothing
    assert len([e for e in rep["events"] if e["user_id"] == u.uid]) >= len(mine)


def test_timeline_of_a_retry_shows_both_attempts(world: World, plain: Path, maps: tuple[Path, Path]) -> None:
    for s in SERVERS:
        u = next(x for x in world.users if x.outcome == "retry_complete" and x.server == s)
        result = runner.invoke(
            app, ["timeline", u.email, str(plain), "--users", str(maps[0]), "--format", "json", "--jobs", "1"]
        )
        assert result.exit_code == 0, result.stderr
        tl = json.loads(result.stdout)
        assert len(tl["activations"]) == 1
        act = tl["activations"][0]
        assert (act["status"], act["server"], len(act["attempts"])) == ("complete", s, 1)
        first = act["attempts"][0]
        assert (first["status"], first["stage"], first["kb"]) == ("stalled", 1, "KB13840")
        ms = tl["milestones"]
        assert [m["attempt"] for m in ms] == [1] + [2] * (len(ms) - 1)
        assert ms[0]["milestone"] == ms[1]["milestone"] == "etp_received"
        assert ms[0]["since_previous_seconds"] is None and ms[1]["since_previous_seconds"] is None
        assert all(m["since_previous_seconds"] is not None for m in ms[2:])
        assert ms[-1]["milestone"] == "slowsync_complete"
        assert [m["time"] for m in ms] == sorted(m["time"] for m in ms)


# ---------------------------------------------------------------------------------------------
# 5. jobs and engines
# ---------------------------------------------------------------------------------------------


def test_jobs_and_engine_give_identical_json(
    plain: Path, maps: tuple[Path, Path], baseline: tuple[int, dict, str]
) -> None:  # type: ignore[type-arg]
    _, r4, _ = run("scan", plain, "--users", maps[0], jobs="4")
    _, rpy, _ = run("scan", plain, "--users", maps[0], jobs="4", env={"BES_LOGDIAG_ENGINE": "python"})
    _, rpy1, _ = run("scan", plain, "--users", maps[0], jobs="1", env={"BES_LOGDIAG_ENGINE": "python"})
    assert r4 == baseline[1]
    assert rpy == baseline[1]
    assert rpy1 == baseline[1]
