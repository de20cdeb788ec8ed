#!/usr/bin/env python3
"""Write the sample BES log folder, its ground truth and its user map.

Two servers, three days across New Year, one file per service per day
(`<server>/<day>/<server>_<CODE>_<NN>_<yyyymmdd>_<NNNN>.txt`, CRLF): mail-flow and health-check
noise around a table of activation scenarios (SCENARIOS) covering every outcome bes-logdiag tells
apart.  Milestone and error lines use the wording of patterns/*.toml.  Deterministic: scenario
timings come from `random.Random(seed)` and each file's noise from its own generator, so the noise
volume never moves a milestone.  The ground truth (tests/data/sample_expected.json) is written from
the scenario table, not by running the tool.

    python scripts/make_sample_logs.py [OUT_DIR] [--seed N] [--noise N] [--days N]
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "sample_logs"
EXPECTED_JSON = REPO / "tests" / "data" / "sample_expected.json"
USERS_CSV = REPO / "tests" / "data" / "sample_users.csv"

FIRST_DAY = date(2023, 12, 30)
BASE_DAYS = 3  # 20231230, 20231231, 20240101
DAY_MS = 86_400_000
MIN_MS = 60_000
LAST_DAY_END_MS = (23 * 60 + 50) * MIN_MS + 500  # each server's logs end at about 23:50
NOISE_PER_HOUR = 180  # noise lines per hour per server (default: a few MB in all)
DOMAIN = "example.com"
LOG_NAME = re.compile(r"^.+_[A-Z]{4}_\d{2}_\d{8}_\d{4}\.txt$")
BASE = datetime(FIRST_DAY.year, FIRST_DAY.month, FIRST_DAY.day)


@dataclass(frozen=True)
class Server:
    name: str
    agents: int  # Messaging Agent instances (MAGT_01, MAGT_02, ...)
    rollover_min: int  # day D's files run from D+rollover to D+1+rollover (past midnight)
    cipher: str
    sync_encoding: str
    restart: tuple[int, str] | None = None  # (day, "HH:MM"): MAGT_01 restarts, file _0002


SERVERS = (
    Server("BBPROD01", 2, 30, "3DES", "utf-8", restart=(1, "14:05")),
    Server("BES_EAST_02", 1, 0, "AES", "cp1252"),
)
SERVICES = ("MAGT", "POLC", "SYNC", "DISP", "ROUT", "CTRL", "CMNG")
SHARE = {"MAGT": 0.55, "POLC": 0.05, "SYNC": 0.08, "DISP": 0.10, "ROUT": 0.10, "CTRL": 0.04, "CMNG": 0.08}


@dataclass(frozen=True)
class User:
    first: str
    last: str
    user_id: int
    local: str = ""  # mailbox name when it is not first.last

    @property
    def email(self) -> str:
        return f"{self.local or (self.first + '.' + self.last).lower()}@{DOMAIN}"

    @property
    def display(self) -> str:
        return f"{self.last}, {self.first}"


# outcome -> (steps, status, last stage reached, KB); status None: not an activation (item 15)
FULL = ("etp", "key", "accept", "books", "policy", "getconfig")
OUTCOMES: dict[str, tuple[tuple[str, ...], str | None, int, str | None]] = {
    "complete": (FULL + ("calendar",) + ("syncdata",) * 3 + ("complete",), "complete", 4, None),
    "stall_etp": (("etp",), "stalled", 1, "KB13840"),
    "bad_password": (("etp", "pw_error"), "failed", 1, "KB04829"),
    "not_started": (("not_started",), "failed", 1, "KB10321"),
    "no_mailbox": (("etp", "mailbox"), "failed", 1, "KB02276"),
    "stall_accept": (FULL[:3], "stalled", 2, "KB13843"),
    "key_reject": (("etp", "key", "key_reject"), "failed", 2, "KB13843"),
    "policy_rejected": (FULL[:5] + ("policy_rejected",), "failed", 3, "KB04533"),
    "stall_services": (FULL[:4], "stalled", 3, "KB03410"),
    "stall_itpolicy": (FULL[:5], "stalled", 3, "KB13847"),
    "stall_getconfig": (FULL, "stalled", 4, "KB03964"),
    "stall_calendar": (FULL + ("calendar",), "stalled", 4, "KB10496"),
    "stall_syncdata": (FULL + ("calendar", "syncdata", "syncdata"), "stalled", 4, "KB13461"),
    "in_progress": (FULL, "in_progress", 4, None),
    "policy_push": (("policy",), None, 0, None),  # IT policy push, user not activating
    "mailbox_noise": (("mailbox",), None, 0, None),  # mailbox error, user not activating
}
# delay of each step after the previous one, in ms (min, max)
DELAY = {
    "etp": (0, 0),
    "not_started": (0, 0),
    "pw_error": (800, 3000),
    "mailbox": (300, 2000),
    "key": (2000, 8000),
    "accept": (50, 400),
    "key_reject": (100, 400),
    "books": (2000, 6000),
    "policy": (2000, 10000),
    "policy_rejected": (20000, 90000),
    "getconfig": (30000, 60000),
    "calendar": (5000, 20000),
    "syncdata": (90000, 240000),
    "complete": (60000, 480000),
}


@dataclass(frozen=True)
class Attempt:
    day: int  # day index from 20231230; negative counts from the last day
    at: str  # "HH:MM" of its first line (plus up to a minute of jitter)
    outcome: str


@dataclass
class Event:
    path: str  # relative to the output folder
    time: datetime
    pattern: str  # id of the pattern the line must match
    line: str


@dataclass
class Scenario:
    server: str
    user: User
    attempts: tuple[Attempt, ...]
    agent: int = 1
    events: list[Event] = field(default_factory=list)
    log_end: datetime | None = None  # the server's last line

    @property
    def activating(self) -> bool:
        return OUTCOMES[self.attempts[-1].outcome][1] is not None

    def expected(self) -> dict[str, object]:
        _, status, stage, kb = OUTCOMES[self.attempts[-1].outcome]
        return {
            "server": self.server,
            "email": self.user.email,
            "user_id": self.user.user_id,
            "display_name": self.user.display,
            "status": status,
            "stage": stage,
            "kb": kb,
            "attempts": len(self.attempts),
        }


S1, S2 = SERVERS[0].name, SERVERS[1].name
SCENARIOS: tuple[tuple[str, User, tuple[tuple[int, str, str], ...]], ...] = (
    (S1, User("Anna", "Berg", 1001), ((0, "10:12", "complete"),)),
    (S1, User("Ian", "Dundas", 1002), ((0, "14:30", "stall_etp"), (1, "09:40", "complete"))),
    (S1, User("Maria", "Lopez", 1003), ((1, "23:52", "complete"),)),  # crosses New Year
    (S1, User("Tom", "Reed", 1004), ((2, "07:10", "stall_etp"),)),
    (S1, User("Omar", "Haddad", 1005), ((2, "07:40", "bad_password"),)),
    (S1, User("Lena", "Vogel", 1006), ((2, "08:05", "not_started"),)),
    (S1, User("Raj", "Patel", 1007), ((2, "08:30", "no_mailbox"),)),
    (S1, User("Chloe", "Martin", 1008), ((2, "09:00", "stall_accept"),)),
    (S1, User("Ken", "Ito", 1009), ((2, "09:30", "key_reject"),)),
    (S1, User("Sara", "Nilsson", 1010), ((-1, "23:40", "in_progress"),)),
    (S2, User("Peter", "Novak", 2001), ((0, "11:00", "complete"),)),
    (S2, User("John", "Smith", 2002, "jsmith"), ((1, "10:05", "complete"),)),
    (S2, User("Jürgen", "Müller", 2003, "juergen.mueller"), ((1, "15:20", "complete"),)),
    (S2, User("Eva", "Lindqvist", 2004), ((2, "06:30", "policy_rejected"),)),
    (S2, User("Marco", "Bianchi", 2005), ((2, "07:00", "stall_services"),)),
    (S2, User("Nina", "Kowalski", 2006), ((2, "07:30", "stall_itpolicy"),)),
    (S2, User("Pierre", "Dubois", 2007), ((2, "08:00", "stall_getconfig"),)),
    (S2, User("Hana", "Sato", 2008), ((2, "08:45", "stall_calendar"),)),
    (S2, User("Lucas", "Moreau", 2009), ((2, "09:30", "stall_syncdata"),)),
)
FIRSTS = (
    "Alice Bruno Carla David Elena Felix Grace Hugo Irene Jonas Karin Liam Mona Nils Olga "
    "Paul Quinn Rosa Stefan Tara Uwe Vera Walter Xenia Yusuf Zoe Aaron Bianca Carl Dana"
).split()
LASTS = (
    "Adams Brandt Costa Dietz Evans Fischer Garcia Hansen Ivanova Jensen Keller Lund Meyer "
    "Nowak Olsen Price Quint Rossi Schulz Torres Ulrich Varga Weber Xu Young Zeller Abbott "
    "Baker Clarke Duarte"
).split()
NOISE_USERS = {
    S1: [User(*name, 1101 + i) for i, name in enumerate(zip(FIRSTS[:16], LASTS))],
    S2: [User(*name, 2101 + i) for i, name in enumerate(zip(FIRSTS[16:], LASTS[16:]))],
}
TEST_USER = User("Test", "User1", 2199, "test.user1")  # CMNG's "{Test User1}"
# item 15: lines that match a pattern for users who are not activating (and must not become one)
NON_ACTIVATING = (
    (S1, NOISE_USERS[S1][3], (0, "11:30", "mailbox_noise")),
    (S2, NOISE_USERS[S2][1], (1, "16:30", "policy_push")),
    (S2, NOISE_USERS[S2][2], (1, "16:30", "policy_push")),
)


# ---------------------------------------------------------------------------------------------
# Files


@dataclass
class LogFile:
    server: Server
    service: str
    instance: int
    day: date
    iteration: int
    start: int  # ms since BASE; noise runs over [start, end)
    end: int
    pool: Pool
    keys: list[tuple[int, int, str]] = field(default_factory=list)  # (ms, order, CRLF line)

    @property
    def rel(self) -> str:
        ymd = self.day.strftime("%Y%m%d")
        return (
            f"{self.server.name}/{ymd}/{self.server.name}_{self.service}_{self.instance:02d}_"
            f"{ymd}_{self.iteration:04d}.txt"
        )

    @property
    def encoding(self) -> str:
        return self.server.sync_encoding if self.service == "SYNC" else "utf-8"


@dataclass
class Pool:
    """What a file's noise lines draw from."""

    tids: list[str]
    users: list[User]
    agents: int
    emails: list[str] = field(init=False)  # "{first.last@domain}"
    names: list[str] = field(init=False)  # "[Last, First:N]"

    def __post_init__(self) -> None:
        self.emails = [f"{{{u.email}}}" for u in self.users]
        self.names = [f"[{u.display}:{u.user_id}]" for u in self.users]


Files = dict[tuple[str, int], list[LogFile]]


def stamp(ms: int, dates: list[str]) -> str:
    d, r = divmod(ms, DAY_MS)
    h, r = divmod(r, 3_600_000)
    m, r = divmod(r, MIN_MS)
    s, r = divmod(r, 1000)
    return f"{dates[d]} {h:02d}:{m:02d}:{s:02d}.{r:03d}"


def hhmm(text: str) -> int:
    h, m = text.split(":")
    return (int(h) * 60 + int(m)) * MIN_MS


def build_files(server: Server, ndays: int, rng: random.Random) -> Files:
    """Every file of a server: (service, instance) -> its files in time order."""
    files: Files = {}
    roll = server.rollover_min * MIN_MS
    users = NOISE_USERS[server.name]
    for service in SERVICES:
        for inst in range(1, (server.agents if service == "MAGT" else 1) + 1):
            mine = users[inst - 1 :: server.agents] if service == "MAGT" else users
            if service == "CMNG":
                mine = [TEST_USER, *users[:6]]
            tids = [f"{{0x{rng.randrange(0x400, 0x1FFF):X}}}" for _ in range(6)]
            pool = Pool(tids, mine, server.agents)
            chain = files.setdefault((service, inst), [])
            for d in range(ndays):
                start, end = d * DAY_MS + roll, (d + 1) * DAY_MS + roll
                if d == ndays - 1:
                    end = d * DAY_MS + LAST_DAY_END_MS
                day = FIRST_DAY + timedelta(days=d)
                if service == "MAGT" and inst == 1 and server.restart and server.restart[0] == d:
                    stop = d * DAY_MS + hhmm(server.restart[1])
                    chain.append(LogFile(server, service, inst, day, 1, start, stop, pool))
                    chain.append(LogFile(server, service, inst, day, 2, stop + 45_000, end, pool))
                else:
                    chain.append(LogFile(server, service, inst, day, 1, start, end, pool))
    return files


def file_at(files: Files, service: str, inst: int, ms: int) -> LogFile:
    for f in files[(service, inst)]:
        if f.start <= ms <= f.end:
            return f
    raise ValueError(f"no {service}_{inst:02d} file is open at {BASE + timedelta(milliseconds=ms)}")


# ---------------------------------------------------------------------------------------------
# Milestone and error lines: (service, event id, thread, user or None, body, pattern id)

Line = tuple[str, str, str, str | None, str, str]


@dataclass
class Ctx:
    server: Server
    user: User
    rng: random.Random
    key_tid: str  # key exchange thread: only other users' mail lines come before it
    magt_tids: list[str]

    def tid(self) -> str:
        return self.rng.choice(self.magt_tids)


def etp(c: Ctx) -> Line:
    r = c.rng
    body = (
        f"Queuing DATA from network@etp{r.randrange(1000, 1999)}.etp.na.blackberry.net, "
        f"Tag={r.randrange(-(2**31), 2**31)}, EntryId={r.randrange(100000, 9999999)}"
    )
    return "MAGT", "40000", c.tid(), c.user.email, body, "magt.etp-queued"


def pw_error(c: Ctx) -> Line:
    body = "Enterprise activation failed: ETP.DAT could not be decrypted with the activation password"
    return "MAGT", "20000", c.tid(), c.user.email, body, "magt.activation-password-rejected"


def not_started(c: Ctx) -> Line:
    return "MAGT", "20000", c.tid(), c.user.email, "User not started", "magt.user-not-started"


def mailbox(c: Ctx) -> Line:
    body = (
        f"MAPIMailbox::MAPIMailbox - OpenMsgStore (0x8004011d) failed, MailboxDN=/o=Example/"
        f"ou=Exchange/cn=Recipients/cn={c.user.email.split('@')[0]}"
    )
    return "MAGT", "20400", c.tid(), c.user.email, body, "magt.mailbox-open-failed"


def key(c: Ctx) -> Line:
    body = f"Generating {c.server.cipher} key"
    return "MAGT", "40000", c.key_tid, c.user.email, body, "magt.key-generated"


def accept(c: Ctx) -> Line:
    body = f"*** OTAKEYGEN *** sending KEY_ACCEPT transID = {c.rng.randrange(10**8, 2**31)}"
    return "MAGT", "40000", c.key_tid, None, body, "magt.key-accept"


def key_reject(c: Ctx) -> Line:
    body = (
        "*** OTAKEYGEN *** Key verification failed, sending KEY_REJECT transID = "
        f"{c.rng.randrange(10**8, 2**31)}"
    )
    return "MAGT", "20000", c.key_tid, c.user.email, body, "magt.key-rejected"


def books(c: Ctx) -> Line:
    body = "*** OTAKEYGEN *** Queuing service book data to Policy Server"
    return "MAGT", "40000", c.tid(), c.user.email, body, "magt.service-books-queued"


def policy(c: Ctx) -> Line:
    body = f"SCS::CheckITPolicyInGroup - Queuing SET_ITPOLICY_REQUEST request for UserId={c.user.user_id}"
    return "POLC", "40000", f"{{0x{0xE1C:X}}}", None, body, "polc.itpolicy-queued"


def policy_rejected(c: Ctx) -> Line:
    body = f"IT Policy Rejected by device, PIN={c.rng.randrange(0x20000000, 0x2FFFFFFF):X}"
    return "MAGT", "20000", c.tid(), c.user.email, body, "bes.itpolicy-rejected"


def _sync(c: Ctx, eid: str, text: str, pattern: str) -> Line:
    body = f"[SYNC-DSession] {text} [{c.user.display}:{c.user.user_id}]"
    return "SYNC", eid, f"{{0x{0x1294 + c.user.user_id % 16:X}}}", None, body, pattern


def getconfig(c: Ctx) -> Line:
    return _sync(c, "46046", 'Received "GetConfig" command from device.', "sync.getconfig")


def calendar(c: Ctx) -> Line:
    body = f"[CICAL] Starting calendar slow sync, items={c.rng.randrange(20, 900)}"
    return "MAGT", "40000", c.tid(), c.user.email, body, "magt.calendar-slowsync"


def syncdata(c: Ctx) -> Line:
    return _sync(c, "46047", 'Received "SyncData" command from device.', "sync.slowsync-command")


def complete(c: Ctx) -> Line:
    return _sync(c, "36023", "*** SLOWSYNC COMPLETE ***", "sync.slowsync-complete")


STEPS: dict[str, Callable[[Ctx], Line]] = {
    f.__name__: f
    for f in (
        etp,
        pw_error,
        not_started,
        mailbox,
        key,
        accept,
        key_reject,
        books,
        policy,
        policy_rejected,
        getconfig,
        calendar,
        syncdata,
        complete,
    )
}


# ---------------------------------------------------------------------------------------------
# Noise lines: each returns (event id, the line after its time stamp)

Noise = Callable[[random.Random, Pool], tuple[str, str]]


def _t(r: random.Random, p: Pool) -> str:
    return r.choice(p.tids)


def _u(r: random.Random, p: Pool) -> str:
    return f"{_t(r, p)} {r.choice(p.emails)}"


def new_mail(r: random.Random, p: Pool) -> tuple[str, str]:
    return "30085", f"{_u(r, p)} New mail has arrived, EntryId={r.randrange(100000, 9999999)}"


def pending(r: random.Random, p: Pool) -> tuple[str, str]:
    return "40000", f"{_t(r, p)} Total Msgs Pending {r.randrange(0, 9)}"


def sending(r: random.Random, p: Pool) -> tuple[str, str]:
    return "30000", (
        f"{_u(r, p)} Sending to device, size={r.randrange(200, 40000)}, "
        f"RefId={r.randrange(1, 99999)}, Tag={r.randrange(-(2**31), 2**31)}"
    )


def to_device(r: random.Random, p: Pool) -> tuple[str, str]:
    return "40000", f"{_u(r, p)} Queuing DATA to device, size={r.randrange(100, 8000)}"


def delivered(r: random.Random, p: Pool) -> tuple[str, str]:
    return "30000", f"{_u(r, p)} Device acknowledged delivery, RefId={r.randrange(99999)}, status=0"


def no_changes(r: random.Random, p: Pool) -> tuple[str, str]:
    return "40000", f"{_u(r, p)} MAPIMailbox::CheckForChanges - 0 new items"


def notify_timeout(r: random.Random, p: Pool) -> tuple[str, str]:
    return "20000", f"{_u(r, p)} MAPIMailbox::Notify - notification timeout, re-registering"


def meeting(r: random.Random, p: Pool) -> tuple[str, str]:
    return "40000", f"{_u(r, p)} [CICAL] Meeting request delivered"


def policy_poll(r: random.Random, p: Pool) -> tuple[str, str]:
    return "40000", f"{_t(r, p)} SCS::PollForChanges - no IT policy changes in group Default"


def config_refresh(r: random.Random, p: Pool) -> tuple[str, str]:
    uid = r.choice(p.users).user_id
    return "30000", f"{_t(r, p)} SCS::ProcessUserConfig - configuration refreshed for UserId={uid}"


def sync_poll(r: random.Random, p: Pool) -> tuple[str, str]:
    n = r.randrange(4)
    return "40000", f"{_t(r, p)} [SYNC-Backend] Polling configuration database, {n} changes"


def sync_session(r: random.Random, p: Pool) -> tuple[str, str]:
    return "30000", f"{_t(r, p)} [SYNC-DSession] Session closed, 0 records {r.choice(p.names)}"


def sync_slow_query(r: random.Random, p: Pool) -> tuple[str, str]:
    return "20000", f"{_t(r, p)} [SYNC-DB] Query took {r.randrange(1000, 9000)} ms"


def cmng_check(r: random.Random, p: Pool) -> tuple[str, str]:
    u = p.users[0] if r.random() < 0.5 else r.choice(p.users)
    who = f"{{{u.first} {u.last}}}"
    return "40089", f"{_t(r, p)} {who} CheckResponseReceived - no changes detected."


def cmng_queue(r: random.Random, p: Pool) -> tuple[str, str]:
    return "30000", f"{_t(r, p)} Management connector: {r.randrange(0, 3)} pending requests"


def heartbeat(r: random.Random, p: Pool) -> tuple[str, str]:
    return "20000", f"{_t(r, p)} Agent {r.randrange(1, p.agents + 1)}: Missed 1 heartbeats"


def srp(r: random.Random, p: Pool) -> tuple[str, str]:
    return "30000", f"{_t(r, p)} SRP connection to srp.na.blackberry.net:3101 is up"


def dispatch(r: random.Random, p: Pool) -> tuple[str, str]:
    return "40000", (
        f"{_t(r, p)} Dispatcher: forwarded packet to Agent "
        f"{r.randrange(1, p.agents + 1)}, size={r.randrange(64, 9000)}"
    )


def route(r: random.Random, p: Pool) -> tuple[str, str]:
    pin = r.randrange(0x20000000, 0x2FFFFFFF)
    size = r.randrange(64, 9000)
    return "40000", f"{_t(r, p)} Router: packet from device PIN={pin:X}, size={size}"


def devices(r: random.Random, p: Pool) -> tuple[str, str]:
    return "30000", f"{_t(r, p)} Router: {r.randrange(5, 40)} devices connected"


# the noise line kinds of each service, with their weights
WEIGHTS: dict[str, tuple[tuple[Noise, int], ...]] = {
    "MAGT": (
        (new_mail, 5),
        (sending, 4),
        (to_device, 3),
        (delivered, 3),
        (no_changes, 2),
        (pending, 2),
        (notify_timeout, 1),
        (meeting, 1),
    ),
    "POLC": ((policy_poll, 3), (config_refresh, 1)),
    "SYNC": ((sync_poll, 3), (sync_session, 2), (sync_slow_query, 1)),
    "CMNG": ((cmng_check, 4), (cmng_queue, 1)),
    "CTRL": ((heartbeat, 1),),
    "DISP": ((dispatch, 4), (srp, 1)),
    "ROUT": ((route, 4), (devices, 1)),
}
NOISE = {service: [fn for fn, w in kinds for _ in range(w)] for service, kinds in WEIGHTS.items()}


# ---------------------------------------------------------------------------------------------


def place(
    files: Files, service: str, inst: int, ms: int, text: str, dates: list[str], order: int = 0
) -> LogFile:
    """Put one line ("{ts}" stands for its time stamp) into the file open at that time."""
    f = file_at(files, service, inst, ms)
    f.keys.append((ms, order, f"{text.replace('{ts}', stamp(ms, dates))}\r\n"))
    return f


def play(sc: Scenario, att: Attempt, files: Files, ndays: int, rng: random.Random, dates: list[str]) -> None:
    """Write the lines of one attempt, step by step, and record its milestone and error lines."""
    server = next(s for s in SERVERS if s.name == sc.server)
    day = att.day % ndays
    ms = day * DAY_MS + hhmm(att.at) + rng.randrange(0, 60_000)
    magt = files[("MAGT", sc.agent)][0].pool
    ctx = Ctx(server, sc.user, rng, f"{{0x{rng.randrange(0x2000, 0x2FFF):X}}}", magt.tids)
    for step in OUTCOMES[att.outcome][0]:
        lo, hi = DELAY[step]
        ms += rng.randint(lo, hi)
        if step == "key":  # the KEY_ACCEPT that follows is logged in the same second
            ms -= ms % 1000 - rng.randrange(0, 500)
            others = [e for e in magt.emails if e != f"{{{sc.user.email}}}"]
            for back in (1500, 700):  # the key thread served other users just before
                place(
                    files,
                    "MAGT",
                    sc.agent,
                    ms - back - rng.randrange(0, 300),
                    f"[30085] ({{ts}}):{ctx.key_tid} {rng.choice(others)} New mail has arrived, "
                    f"EntryId={rng.randrange(100000, 9999999)}",
                    dates,
                )
        service, eid, tid, user, body, pattern = STEPS[step](ctx)
        inst = sc.agent if service == "MAGT" else 1
        who = f" {{{user}}}" if user else ""
        f = place(files, service, inst, ms, f"[{eid}] ({{ts}}):{tid}{who} {body}", dates, 1)
        if pattern:
            when = BASE + timedelta(milliseconds=ms)
            sc.events.append(Event(f.rel, when, pattern, f.keys[-1][2][:-2]))


def scenarios() -> list[Scenario]:
    """The scenario table as Scenario objects (no events yet)."""
    out: list[Scenario] = []
    n_agents = {s.name: s.agents for s in SERVERS}
    for i, (server, user, attempts) in enumerate(SCENARIOS):
        tries = tuple(Attempt(*a) for a in attempts)
        out.append(Scenario(server, user, tries, 1 + i % n_agents[server]))
    for server, user, attempt in NON_ACTIVATING:
        idx = NOISE_USERS[server].index(user)
        out.append(Scenario(server, user, (Attempt(*attempt),), 1 + idx % n_agents[server]))
    return out


def write_file(f: LogFile, out_dir: Path, noise_per_hour: int, seed: int, dates: list[str]) -> None:
    rng = random.Random(f"{seed}:{f.rel}")
    rate = noise_per_hour * SHARE[f.service] / (f.server.agents if f.service == "MAGT" else 1)
    kinds, pool = NOISE[f.service], f.pool
    keys = sorted(f.keys)
    i, nkeys = 0, len(keys)
    path = out_dir / f.rel
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding=f.encoding, newline="", buffering=1 << 20) as fh:
        write = fh.write
        t, lam = float(f.start), rate / 3_600_000
        while lam:
            t += rng.expovariate(lam)
            ms = int(t)
            if ms >= f.end:
                break
            while i < nkeys and keys[i][0] <= ms:
                write(keys[i][2])
                i += 1
            eid, rest = rng.choice(kinds)(rng, pool)
            write(f"[{eid}] ({stamp(ms, dates)}):{rest}\r\n")
        for k in keys[i:]:
            write(k[2])


def clean(out_dir: Path) -> None:
    """Delete the log files of an earlier run and the day and server folders they leave empty."""
    emptied: set[Path] = set()
    for p in sorted(out_dir.glob("*/*/*.txt")):
        if LOG_NAME.match(p.name) and re.fullmatch(r"\d{8}", p.parent.name):
            p.unlink()
            emptied.add(p.parent)
    for day in sorted(emptied):
        if not any(day.iterdir()):
            day.rmdir()
            if not any(day.parent.iterdir()):
                day.parent.rmdir()


def generate(
    out_dir: Path, *, seed: int = 7, noise_per_hour: int = NOISE_PER_HOUR, extra_days: int = 0
) -> list[Scenario]:
    """Write the log folder into `out_dir` and return the scenarios it holds."""
    ndays = BASE_DAYS + extra_days
    dates = [(FIRST_DAY + timedelta(days=d)).strftime("%m/%d") for d in range(ndays + 2)]
    rng = random.Random(seed)
    scs = scenarios()
    all_files: list[LogFile] = []
    for server in SERVERS:
        files = build_files(server, ndays, rng)
        for sc in (s for s in scs if s.server == server.name):
            for att in sc.attempts:
                play(sc, att, files, ndays, rng, dates)
        if server.restart:
            first, second = (
                f for f in files[("MAGT", 1)] if f.day == FIRST_DAY + timedelta(days=server.restart[0])
            )
            tid = first.pool.tids[0]
            agent = f"BlackBerry Messaging Agent {server.name} Agent 1"
            place(files, "MAGT", 1, first.end, f"[50000] ({{ts}}):{tid} Service stopping: {agent}", dates)
            place(
                files,
                "MAGT",
                1,
                second.start,
                f"[50000] ({{ts}}):{tid} {agent} Version 4.1.6.23 started",
                dates,
            )
            place(
                files,
                "MAGT",
                1,
                second.start + 12,
                f"[30000] ({{ts}}):{tid} Current Date: {second.day:%Y/%m/%d}",
                dates,
                1,
            )
        for f in files[("CTRL", 1)]:  # health checks every five minutes
            for ms in range(f.start - f.start % 300_000 + 300_203, f.end, 300_000):
                place(
                    files,
                    "CTRL",
                    1,
                    ms,
                    f"[30000] ({{ts}}):{f.pool.tids[0]} Performing "
                    "system health check (BlackBerry Controller Version 4.1.6.23)",
                    dates,
                )
        for chain in files.values():
            all_files.extend(chain)
        end = max(f.end for chain in files.values() for f in chain)
        for sc in scs:
            if sc.server == server.name:
                sc.log_end = BASE + timedelta(milliseconds=end)
    out_dir.mkdir(parents=True, exist_ok=True)
    clean(out_dir)
    for f in all_files:
        write_file(f, out_dir, noise_per_hour, seed, dates)
    return scs


def write_truth(scs: list[Scenario], expected: Path, users: Path) -> None:
    """The ground truth from the scenario table, and a user map of every sample user."""
    expected.parent.mkdir(parents=True, exist_ok=True)
    rows = [sc.expected() for sc in scs if sc.activating]
    expected.write_text(json.dumps(rows, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    everyone = [sc.user for sc in scs if sc.activating] + [TEST_USER]
    everyone += [u for s in SERVERS for u in NOISE_USERS[s.name]]
    with open(users, "w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh, lineterminator="\r\n")
        out.writerow(["MailboxSMTPAddr", "UserConfigId", "DisplayName"])
        out.writerows([u.email, u.user_id, u.display] for u in everyone)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out_dir", nargs="?", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument(
        "--noise",
        type=int,
        default=NOISE_PER_HOUR,
        help="noise lines per hour per server (about 57000 gives 800 MB)",
    )
    ap.add_argument("--days", type=int, default=0, help="extra days of logs after the three base days")
    ap.add_argument(
        "--truth",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="write tests/data/sample_expected.json and sample_users.csv "
        "(default: only when writing the default folder)",
    )
    args = ap.parse_args(argv)
    started = time.perf_counter()
    scs = generate(args.out_dir, seed=args.seed, noise_per_hour=args.noise, extra_days=args.days)
    took = time.perf_counter() - started
    if args.truth or (args.truth is None and args.out_dir.resolve() == DEFAULT_OUT):
        write_truth(scs, EXPECTED_JSON, USERS_CSV)
    logs = [p for p in args.out_dir.glob("*/*/*.txt") if LOG_NAME.match(p.name)]
    size = sum(p.stat().st_size for p in logs)
    print(
        f"{len(logs)} files, {size / 1e6:.1f} MB in {took:.1f} s ({size / 1e6 / took:.0f} MB/s); "
        f"{sum(sc.activating for sc in scs)} activating users -> {args.out_dir}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
