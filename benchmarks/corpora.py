"""The benchmark corpora: the default one (the sample logs in more noise) and its variants.

Every corpus is written from ``scripts/make_sample_logs.py``'s helpers (servers, file names, noise
lines, the activation steps' lines), seeded, so the same command writes the same bytes.  The
variants change the proportions real BES logs show and the default corpus does not:

- ``dense-P``: bystander mailbox errors (``MAPIMailbox::MAPIMailbox - OpenMsgStore (0x8004011d)
  failed``, event id 20400, MAGT) of idle users on P% of all lines, around the sample's scenarios;
- ``pushes-P``: IT policy pushes to users who are not activating (POLC ``SET_ITPOLICY_REQUEST ...
  UserId=N``) on P% of all lines, around the sample's scenarios;
- ``acts-N``: N activations of generated users spread over the sample's servers and days, every
  outcome (complete, a stall at each stage, the explicit errors), some retried; an address in MAGT,
  ``UserId=N`` in POLC and ``[Last, First:N]`` in SYNC, some addresses not shaped like the name, so
  that the identity join has work;
- ``files-N``: four servers, ten days, five logs each (MAGT x2, POLC, SYNC, CMNG) cut into N files
  (``files-20``: one file per log; ``files-20000``: 100 iterations per log and day), the same lines
  whatever N;
- ``gz``: the default corpus, every file gzipped.
"""

from __future__ import annotations

import gzip
import importlib.util
import random
import re
import shutil
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import pairwise
from pathlib import Path
from types import ModuleType
from typing import Any

REPO = Path(__file__).resolve().parents[1]
HERE = REPO / "benchmarks"
BASE_DAYS = 3
BYTES_PER_NOISE_UNIT = 14_030
"""Bytes the sample generator writes per (noise line per hour per server) over its three base days,
measured at seed 7."""


def load_generator() -> ModuleType:
    path = REPO / "scripts" / "make_sample_logs.py"
    spec = importlib.util.spec_from_file_location("make_sample_logs", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"{path}: cannot load the sample-log generator")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


gen = load_generator()
DAY_MS, MIN_MS, HOUR_MS = gen.DAY_MS, gen.MIN_MS, 3_600_000
Files = dict[tuple[str, int], list[Any]]  # (service, instance) -> make_sample_logs.LogFile chain
Extra = Callable[[random.Random], tuple[str, str]]
"""Writes one extra line: (event id, the line after its time stamp), as a noise line maker does."""


def noise_for(megabytes: float, extra_days: int) -> int:
    """Noise lines per hour per server that give the default corpus about ``megabytes`` of logs."""
    per_unit = BYTES_PER_NOISE_UNIT * (BASE_DAYS + extra_days) / BASE_DAYS
    return max(1, round(megabytes * 1e6 / per_unit))


# ---------------------------------------------------------------------------------------------
# Variant names

DEFAULT_MB = {
    "dense-1": 800.0,
    "dense-1.6": 800.0,
    "dense-3": 400.0,
    "acts-100": 200.0,
    "acts-3000": 200.0,
    "acts-10000": 400.0,
    "pushes-1": 200.0,
    "files-20000": 400.0,
    "files-20": 400.0,
    "gz": 850.0,
}
"""The variants ``all`` stands for, with their default sizes (MB of logs, uncompressed)."""
_NAME = re.compile(r"(dense|pushes|acts|files)-(\d+(?:\.\d+)?)|gz")


@dataclass(frozen=True)
class Variant:
    name: str
    kind: str  # dense, pushes, acts, files, gz
    amount: float
    """Percent of all lines (dense, pushes), activations (acts) or files (files); 0 for gz."""

    @property
    def default_mb(self) -> float:
        if self.name in DEFAULT_MB:
            return DEFAULT_MB[self.name]
        if self.kind == "dense":
            return 400.0 if self.amount >= 3 else 800.0
        return 400.0 if self.kind in ("files", "gz") or self.amount >= 10_000 else 200.0

    def folder(self, root: Path = HERE) -> Path:
        return root / f"corpus-{self.name}"


def parse_variant(name: str) -> Variant:
    """``dense-1.6``, ``acts-3000``, ... as a Variant; SystemExit naming the known ones otherwise."""
    m = _NAME.fullmatch(name)
    if m is None:
        known = ", ".join(DEFAULT_MB)
        raise SystemExit(f"{name}: not a variant (dense-P, pushes-P, acts-N, files-N, gz; e.g. {known})")
    if name == "gz":
        return Variant(name, "gz", 0.0)
    kind, amount = m.group(1), float(m.group(2))
    if kind in ("dense", "pushes") and not 0 < amount < 50:
        raise SystemExit(f"{name}: the percentage must be above 0 and below 50")
    if kind in ("acts", "files") and (amount != int(amount) or amount < 1):
        raise SystemExit(f"{name}: the count must be a whole number")
    if kind == "files":
        per_log = int(amount) // FILES_LOGS
        if int(amount) % FILES_LOGS or (per_log != 1 and per_log % FILES_DAYS):
            step = FILES_LOGS * FILES_DAYS
            raise SystemExit(f"{name}: the count must be {FILES_LOGS} or a multiple of {step}")
    return Variant(name, kind, amount)


def expand(names: list[str]) -> list[Variant]:
    """Variant names as given (``all`` for every one of DEFAULT_MB), each once, in order."""
    out: list[Variant] = []
    for name in names:
        for one in DEFAULT_MB if name == "all" else [name]:
            v = parse_variant(one)
            if v not in out:
                out.append(v)
    return out


# ---------------------------------------------------------------------------------------------
# Worlds: servers, their files (with the activation lines already placed) and what else they log


@dataclass
class Stream:
    """One log of one service instance over the whole span, cut into files in time order."""

    files: list[Any]  # make_sample_logs.LogFile
    extras: list[tuple[float, Extra]] = field(default_factory=list)
    """Extra line kinds, each with its rate in lines per noise line of this log."""


@dataclass
class World:
    dates: list[str]  # "MM/DD" of each day index
    servers: dict[str, Files]
    note: str = ""
    streams: list[Stream] = field(init=False)

    def __post_init__(self) -> None:
        self.streams = [Stream(chain) for files in self.servers.values() for chain in files.values()]


def day_labels(first: date, ndays: int) -> list[str]:
    return [(first + timedelta(days=d)).strftime("%m/%d") for d in range(ndays + 2)]


def sample_world(seed: int, *, with_sample: bool) -> World:
    """The sample's servers and files over its three days, as make_sample_logs.generate builds them.

    With ``with_sample`` its scenarios are played with the same random draws, so their lines are
    the default corpus's (only the noise around them differs)."""
    ndays = gen.BASE_DAYS
    dates = day_labels(gen.FIRST_DAY, ndays)
    rng = random.Random(seed)
    scs = gen.scenarios() if with_sample else []
    servers: dict[str, Files] = {}
    for server in gen.SERVERS:
        files = gen.build_files(server, ndays, rng)
        for sc in (s for s in scs if s.server == server.name):
            for att in sc.attempts:
                gen.play(sc, att, files, ndays, rng, dates)
        _restart_lines(server, files, dates)
        _health_checks(files, dates)
        servers[server.name] = files
    return World(dates, servers)


def _restart_lines(server: Any, files: Files, dates: list[str]) -> None:
    """The Messaging Agent's stop and start lines around its restart (as make_sample_logs.generate)."""
    if not server.restart:
        return
    day = gen.FIRST_DAY + timedelta(days=server.restart[0])
    first, second = (f for f in files[("MAGT", 1)] if f.day == day)
    tid = first.pool.tids[0]
    agent = f"BlackBerry Messaging Agent {server.name} Agent 1"
    gen.place(files, "MAGT", 1, first.end, f"[50000] ({{ts}}):{tid} Service stopping: {agent}", dates)
    started = f"[50000] ({{ts}}):{tid} {agent} Version 4.1.6.23 started"
    gen.place(files, "MAGT", 1, second.start, started, dates)
    current = f"[30000] ({{ts}}):{tid} Current Date: {second.day:%Y/%m/%d}"
    gen.place(files, "MAGT", 1, second.start + 12, current, dates, 1)


def _health_checks(files: Files, dates: list[str]) -> None:
    for f in files.get(("CTRL", 1), []):  # every five minutes, as make_sample_logs.generate
        for ms in range(f.start - f.start % 300_000 + 300_203, f.end, 300_000):
            text = (
                f"[30000] ({{ts}}):{f.pool.tids[0]} Performing "
                "system health check (BlackBerry Controller Version 4.1.6.23)"
            )
            gen.place(files, "CTRL", 1, ms, text, dates)


FILES_SERVERS = (
    gen.Server("BBPROD01", 2, 0, "3DES", "utf-8"),
    gen.Server("BES_EAST_02", 2, 0, "AES", "cp1252"),
    gen.Server("BES_WEST_03", 2, 0, "AES", "utf-8"),
    gen.Server("BBDR04", 2, 0, "3DES", "cp1252"),
)
FILES_STREAMS = (("MAGT", 1), ("MAGT", 2), ("POLC", 1), ("SYNC", 1), ("CMNG", 1))
FILES_LOGS = len(FILES_SERVERS) * len(FILES_STREAMS)
FILES_DAYS = 10
FILES_FIRST_DAY = date(2024, 2, 5)  # no New Year and no daylight saving change inside a one-file log
FILES_ACTIVATIONS = 200


def files_world(seed: int, nfiles: int) -> World:
    """FILES_LOGS logs over FILES_DAYS days cut into ``nfiles`` files: one file per log, or the
    same number of iterations per log and day (by time).  The draws do not depend on the cut, so
    every cut holds the same lines."""
    per_log = nfiles // FILES_LOGS
    iterations = 0 if per_log == 1 else per_log // FILES_DAYS
    dates = day_labels(FILES_FIRST_DAY, FILES_DAYS)
    end = FILES_DAYS * DAY_MS
    rng = random.Random(seed)
    servers: dict[str, Files] = {}
    for index, server in enumerate(FILES_SERVERS):
        users = [
            gen.User(gen.FIRSTS[(j + 7 * index) % 30], gen.LASTS[(3 * j + 11 * index) % 30], 1101 + j)
            for j in range(16)
        ]
        files: Files = {}
        for service, inst in FILES_STREAMS:
            mine = users[inst - 1 :: server.agents] if service == "MAGT" else users
            if service == "CMNG":
                mine = [gen.TEST_USER, *users[:6]]
            tids = [f"{{0x{rng.randrange(0x400, 0x1FFF):X}}}" for _ in range(6)]
            pool = gen.Pool(tids, mine, server.agents)
            if not iterations:
                whole = gen.LogFile(server, service, inst, FILES_FIRST_DAY, 1, 0, end, pool)
                files[(service, inst)] = [whole]
                continue
            chain = files.setdefault((service, inst), [])
            for d in range(FILES_DAYS):
                day = FILES_FIRST_DAY + timedelta(days=d)
                for k in range(iterations):
                    start = d * DAY_MS + k * DAY_MS // iterations
                    stop = d * DAY_MS + (k + 1) * DAY_MS // iterations
                    chain.append(gen.LogFile(server, service, inst, day, k + 1, start, stop, pool))
        servers[server.name] = files
    world = World(dates, servers)
    act_rng = random.Random(f"{seed}:activations")
    play_activations(world, {s.name: s for s in FILES_SERVERS}, FILES_ACTIVATIONS, act_rng)
    world.note = f"{FILES_ACTIVATIONS} activations"
    return world


# ---------------------------------------------------------------------------------------------
# Generated users and activations

SUFFIXES = ("", "s", "son", "sen", "mann", "berg", "er", "ley", "ton", "ez", "ini", "ova", "ski", "feld")
"""Last-name endings: 30 first names x 30 last names x 14 endings = 12,600 distinct people."""
OUTCOME_WEIGHTS = {
    "complete": 40,
    "stall_etp": 5,
    "bad_password": 3,
    "not_started": 3,
    "no_mailbox": 3,
    "stall_accept": 4,
    "key_reject": 3,
    "policy_rejected": 3,
    "stall_services": 4,
    "stall_itpolicy": 4,
    "stall_getconfig": 4,
    "stall_calendar": 4,
    "stall_syncdata": 6,
}
RETRY = 0.1  # share of users whose first attempt stalls or fails early and who try again later
RETRIED = ("stall_etp", "bad_password", "stall_accept", "key_reject")
BUSY_MS = 40 * MIN_MS  # an attempt's lines all fall within this time of its first (the longest: ~22 min)


def people() -> list[tuple[str, str]]:
    return [(first, last + end) for end in SUFFIXES for last in gen.LASTS for first in gen.FIRSTS]


def activating_users(n: int, rng: random.Random) -> list[Any]:
    """``n`` distinct users, ids from 10001: 70% first.last@, 15% jsmith@-like, 15% bb<id>@."""
    out, taken = [], set()
    for j, (first, last) in enumerate(rng.sample(people(), n)):
        uid, r = 10_001 + j, rng.random()
        local = ""
        if r >= 0.85:
            local = f"bb{uid}"
        elif r >= 0.7 and (short := f"{first[0]}{last}".lower()) not in taken:
            local = short
        user = gen.User(first, last, uid, local)
        taken.add(user.email.split("@")[0])
        out.append(user)
    return out


def idle_users(server_index: int, n: int = 2000) -> list[Any]:
    """Users who never activate (ids from 50001), a different sample on each server."""
    names = [(first, last + end) for end in SUFFIXES[1:] for last in gen.LASTS for first in gen.FIRSTS]
    picked = random.Random(f"idle:{server_index}").sample(names, n)
    return [gen.User(first, last, 50_001 + j) for j, (first, last) in enumerate(picked)]


def play_at(server: Any, files: Files, agent: int, user: Any, ms: int, outcome: str, rng: random.Random,
            dates: list[str]) -> None:  # fmt: skip
    """One attempt from ``ms`` on, step by step, written as make_sample_logs.play writes it."""
    magt = files[("MAGT", agent)][0].pool
    ctx = gen.Ctx(server, user, rng, f"{{0x{rng.randrange(0x2000, 0x2FFF):X}}}", magt.tids)
    for step in gen.OUTCOMES[outcome][0]:
        lo, hi = gen.DELAY[step]
        ms += rng.randint(lo, hi)
        if step == "key":  # the KEY_ACCEPT that follows is logged in the same second
            ms -= ms % 1000 - rng.randrange(0, 500)
            others = [e for e in magt.emails if e != f"{{{user.email}}}"]
            for back in (1500, 700):  # the key thread served other users just before
                mail = (
                    f"[30085] ({{ts}}):{ctx.key_tid} {rng.choice(others)} New mail has arrived, "
                    f"EntryId={rng.randrange(100000, 9999999)}"
                )
                gen.place(files, "MAGT", agent, ms - back - rng.randrange(0, 300), mail, dates)
        service, eid, tid, who, body, _ = gen.STEPS[step](ctx)
        inst = agent if service == "MAGT" else 1
        name = f" {{{who}}}" if who else ""
        gen.place(files, service, inst, ms, f"[{eid}] ({{ts}}):{tid}{name} {body}", dates, 1)


def play_activations(world: World, servers: dict[str, Any], n: int, rng: random.Random) -> None:
    """``n`` users activating on random agents at random times (none across an agent's restart)."""
    slots = [(name, agent) for name in world.servers for agent in range(1, servers[name].agents + 1)]
    chosen = [rng.choice(slots) for _ in range(n)]
    users = {name: iter(activating_users(sum(c[0] == name for c in chosen), rng)) for name in world.servers}
    outcomes, weights = list(OUTCOME_WEIGHTS), list(OUTCOME_WEIGHTS.values())
    for name, agent in chosen:
        files = world.servers[name]
        chain = files[("MAGT", agent)]
        gaps = [(a.end, b.start) for a, b in pairwise(chain) if b.start > a.end]
        lo, hi = chain[0].start + 5 * MIN_MS, chain[-1].end - BUSY_MS

        def free(ms: int, gaps: list[tuple[int, int]] = gaps, hi: int = hi) -> bool:
            return ms <= hi and all(ms + BUSY_MS < g0 or ms - 10_000 > g1 for g0, g1 in gaps)

        start = rng.randrange(lo, hi)
        while not free(start):
            start = rng.randrange(lo, hi)
        user, outcome = next(users[name]), rng.choices(outcomes, weights)[0]
        if rng.random() < RETRY:
            again = start + rng.randrange(HOUR_MS, 6 * HOUR_MS)
            if free(again):
                play_at(servers[name], files, agent, user, start, rng.choice(RETRIED), rng, world.dates)
                start = again
        play_at(servers[name], files, agent, user, start, outcome, rng, world.dates)


# ---------------------------------------------------------------------------------------------
# Extra lines of users who are not activating


def mailbox_errors(server: Any, users: list[Any], tids: list[str]) -> Extra:
    """make_sample_logs.mailbox's line (KB02276's wording) for a random idle user and thread."""

    def line(rng: random.Random) -> tuple[str, str]:
        _, eid, tid, who, body, _ = gen.mailbox(gen.Ctx(server, rng.choice(users), rng, "", tids))
        return eid, f"{tid} {{{who}}} {body}"

    return line


def policy_pushes(server: Any, users: list[Any]) -> Extra:
    """make_sample_logs.policy's line (POLC's SET_ITPOLICY_REQUEST) for a user who is not activating."""

    def line(rng: random.Random) -> tuple[str, str]:
        _, eid, tid, _, body, _ = gen.policy(gen.Ctx(server, rng.choice(users), rng, "", []))
        return eid, f"{tid} {body}"

    return line


def add_extras(world: World, service: str, percent: float, seed: int, make: Callable[..., Extra]) -> None:
    """Extra lines on ``percent`` of all lines, in the ``service`` logs (spread like their noise)."""
    share_all = sum(gen.SHARE[s] for s in {key[0] for files in world.servers.values() for key in files})
    ratio = percent / (100 - percent) * share_all / gen.SHARE[service]
    names = list(world.servers)
    for stream in world.streams:
        f = stream.files[0]
        if f.service != service:
            continue
        rng = random.Random(f"{seed}:{f.server.name}:{service}:{f.instance}:extras")
        users = idle_users(names.index(f.server.name))
        if service == "MAGT":  # a user's mailbox lives on one agent; many threads, as a busy agent
            users = users[f.instance - 1 :: f.server.agents]
            tids = sorted({f"{{0x{rng.randrange(0x400, 0x1FFF):X}}}" for _ in range(64)})
            stream.extras.append((ratio, make(f.server, users, tids)))
        else:  # pushes also reach the noise users, whose names SYNC logs
            stream.extras.append((ratio, make(f.server, users + list(f.pool.users))))


def build_world(variant: Variant, seed: int) -> World:
    if variant.kind == "dense":
        world = sample_world(seed, with_sample=True)
        add_extras(world, "MAGT", variant.amount, seed, mailbox_errors)
        world.note = "mailbox errors of idle users"
    elif variant.kind == "pushes":
        world = sample_world(seed, with_sample=True)
        add_extras(world, "POLC", variant.amount, seed, policy_pushes)
        world.note = "IT policy pushes to users not activating"
    elif variant.kind == "acts":
        world = sample_world(seed, with_sample=False)
        servers = {s.name: s for s in gen.SERVERS}
        play_activations(world, servers, int(variant.amount), random.Random(f"{seed}:activations"))
        world.note = f"{int(variant.amount)} activations"
    elif variant.kind == "files":
        world = files_world(seed, int(variant.amount))
    else:
        raise ValueError(f"{variant.name}: not written from a world")
    return world


# ---------------------------------------------------------------------------------------------
# Writing


def write_stream(
    stream: Stream, out_dir: Path, noise_per_hour: int, seed: int, dates: list[str]
) -> tuple[int, int]:
    """Write one log's files; returns (lines written, extra lines among them).

    One Poisson clock and one random generator run over the whole log, whatever its files, so the
    lines do not depend on where the files are cut."""
    first = stream.files[0]
    service = first.service
    rng = random.Random(f"{seed}:{first.server.name}:{service}:{first.instance}")
    rate = noise_per_hour * gen.SHARE[service] / (first.server.agents if service == "MAGT" else 1)
    extra_ratio = sum(ratio for ratio, _ in stream.extras)
    lam = rate * (1 + extra_ratio) / HOUR_MS
    cuts, acc = [], 0.0
    for ratio, make in stream.extras:
        acc += ratio / (1 + extra_ratio)
        cuts.append((acc, make))
    p_extra = acc
    kinds, pool, stamp = gen.NOISE[service], first.pool, gen.stamp
    minute, head = -1, ""  # the time stamp up to its seconds, made once a minute (it is the slow part)
    expovariate, random_, choice = rng.expovariate, rng.random, rng.choice
    t, carried = float(first.start), -1
    lines = extras = 0
    for f in stream.files:
        keys = sorted(f.keys)
        i, nkeys, end = 0, len(keys), f.end
        path = out_dir / f.rel
        path.parent.mkdir(parents=True, exist_ok=True)
        buf: list[str] = []
        add = buf.append
        with open(path, "w", encoding=f.encoding, newline="", buffering=1 << 20) as fh:
            while lam:
                if carried >= 0:
                    ms, carried = carried, -1
                else:
                    t += expovariate(lam)
                    ms = int(t)
                if ms >= end:
                    carried = ms  # the next file's first line, if that file is open then
                    break
                if ms < f.start:
                    continue  # between two files (a restart): nothing is logged
                while i < nkeys and keys[i][0] <= ms:
                    add(keys[i][2])
                    i += 1
                if p_extra and (r := random_()) < p_extra:
                    eid, rest = next(make for cut, make in cuts if r < cut)(rng)
                    extras += 1
                else:
                    eid, rest = choice(kinds)(rng, pool)
                if ms // MIN_MS != minute:
                    minute = ms // MIN_MS
                    head = stamp(minute * MIN_MS, dates)[:-6]  # "MM/DD HH:MM:"
                sec, milli = divmod(ms - minute * MIN_MS, 1000)
                add(f"[{eid}] ({head}{sec:02d}.{milli:03d}):{rest}\r\n")
                if len(buf) >= 8192:
                    lines += len(buf)
                    fh.write("".join(buf))
                    buf.clear()
            buf.extend(k[2] for k in keys[i:])
            lines += len(buf)
            fh.write("".join(buf))
    return lines, extras


def noise_maker(kinds: list[Any], pool: Any) -> Extra:
    def line(rng: random.Random) -> tuple[str, str]:
        eid, rest = rng.choice(kinds)(rng, pool)
        return eid, rest

    return line


def line_bytes(draw: Extra, rng: random.Random, encoding: str, n: int = 400) -> float:
    """Mean encoded size of ``n`` lines from ``draw``."""
    total = 0
    for _ in range(n):
        eid, rest = draw(rng)
        total += len(f"[{eid}] (12/30 10:00:00.000):{rest}\r\n".encode(encoding))
    return total / n


def bytes_per_noise_unit(world: World) -> float:
    """Bytes a world's logs take per noise line per hour per server (extra lines included)."""
    rng, total = random.Random(0), 0.0
    for stream in world.streams:
        f = stream.files[0]
        hours = sum(g.end - g.start for g in stream.files) / HOUR_MS
        rate = gen.SHARE[f.service] / (f.server.agents if f.service == "MAGT" else 1)
        size = line_bytes(noise_maker(gen.NOISE[f.service], f.pool), rng, f.encoding)
        for ratio, make in stream.extras:
            size += ratio * line_bytes(make, rng, f.encoding)
        total += hours * rate * size
    return total


LOG_FILE = re.compile(r"^.+_[A-Z]{4}_\d{2}_\d{8}_\d{4}\.txt(?:\.gz)?$")


def clear(folder: Path) -> None:
    """Empty a corpus folder, refusing one that holds anything but BES logs in day folders."""
    if not folder.exists():
        return
    for p in folder.rglob("*"):
        if p.is_file() and not (LOG_FILE.match(p.name) and len(p.relative_to(folder).parts) == 3):
            raise SystemExit(f"{folder}: holds {p.relative_to(folder)}, not a corpus folder; not emptying it")
    shutil.rmtree(folder)


def gzip_logs(folder: Path) -> None:
    """Replace every log of ``folder`` by ``NAME.txt.gz`` (level 6, as gzip's default; no time stamp)."""

    def one(path: Path) -> None:
        target = path.with_name(path.name + ".gz")
        with open(path, "rb") as src, open(target, "wb") as raw:
            with gzip.GzipFile(path.name, "wb", 6, raw, mtime=0) as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
        path.unlink()

    with ThreadPoolExecutor(2) as pool:  # zlib lets go of the GIL
        list(pool.map(one, sorted(folder.glob("*/*/*.txt"))))


@dataclass(frozen=True)
class Written:
    noise_per_hour: int
    lines: int  # 0 when not counted (gz)
    extras: int
    note: str


def write_variant(variant: Variant, out_dir: Path, *, megabytes: float, seed: int) -> Written:
    """Write a variant into ``out_dir`` (emptied first)."""
    clear(out_dir)
    out_dir.mkdir(parents=True)
    if variant.kind == "gz":
        noise = noise_for(megabytes, 0)
        gen.generate(out_dir, seed=seed, noise_per_hour=noise)
        gzip_logs(out_dir)
        return Written(noise, 0, 0, "the default corpus, gzipped")
    world = build_world(variant, seed)
    placed = sum(len(k[2].encode(f.encoding)) for s in world.streams for f in s.files for k in f.keys)
    noise = max(1, round((megabytes * 1e6 - placed) / bytes_per_noise_unit(world)))
    lines = extras = 0
    for stream in world.streams:
        n, e = write_stream(stream, out_dir, noise, seed, world.dates)
        lines, extras = lines + n, extras + e
    return Written(noise, lines, extras, world.note)
