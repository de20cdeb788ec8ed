"""Invariance: how the logs are cut up, laid out, listed, padded or prefiltered never changes a verdict.

Property-based (hypothesis).  Every test builds one server's logs from a small seeded generator
written from BES-LOGS.md (the line grammar of section 2, the seed's milestone lines of section 3)
and README "How it decides", scans it once as a baseline, then scans a transformed copy and
requires the same verdicts: server, the three names, status, stage, KB, number of attempts and
the started / last_progress / completed times of every activation (and of every attempt).

1. read-block boundaries: files read in other block sizes (300 bytes .. 512 KiB) and jobs;
2. file layout: rotated iterations, a second Messaging Agent instance, day folders at midnight;
3. order of the paths on the command line, and the same file given twice;
4. mail-flow noise of other users on other threads inserted anywhere;
5. the pure-Python prefilter engine against the default one.

Failures found are kept below as explicit regression examples (each was a bug, fixed since).
"""

from __future__ import annotations

import json
import random
import shutil
import tempfile
import unicodedata
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import bes_logdiag.filescan as filescan_mod
from bes_logdiag.cli import app

runner = CliRunner()

SERVER = "BES_EU_01"  # a server name with "_" (BES-LOGS.md section 1: split from the right)
PROFILE = settings(max_examples=12, deadline=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])  # fmt: skip
CHEAP = settings(PROFILE, max_examples=25)

# ---------------------------------------------------------------------------------------------
# the generator: records, then physical lines, then files
# ---------------------------------------------------------------------------------------------

ORDER = ["etp", "key", "accept", "books", "policy", "getconfig", "cical", "progress", "complete"]
FIRST = ["Anna", "Jürgen", "Zoë", "José", "Chloé", "Ian", "Eva", "Omar", "Marek", "Inés", "Björn", "Li"]
LAST = ["Berg", "Müller", "Lefèvre", "Núñez", "Dundas", "Lindqvist", "Reed", "Okafor", "Novák", "Wei"]
IDLE = ["cat@corp.example", "helpdesk@corp.example", "dieter.schoen@corp.example", "sales-emea@corp.example",
        "noreply@corp.example", "p.ng@corp.example"]  # fmt: skip
IDLE_DISPLAY = ["Test User1", "Schön, Dieter", "Ng, Pat"]
SUBJECTS = [
    "Weekly report", "Grüße aus Köln – Café", "Re: Ihre Anfrage „Angebot“", "FW: 📱 new phone",
    '"*** SLOWSYNC COMPLETE *** [Reed, Ian:1003]"', '"Generating 3DES key"', '"sending KEY_ACCEPT transID = 5"',
    '"Queuing DATA from network@etp1.x.net"', '"User not started"', '"Received "GetConfig" command from device."',
    '"Current Date: 2031/01/01"', '"IT Policy Rejected"',
]  # fmt: skip


def fold(text: str) -> str:
    text = text.lower().translate(str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue"}))
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


@dataclass(frozen=True)
class Rec:
    """One BES record (BES-LOGS.md section 2) and what the generator knows about it."""

    t: datetime
    service: str
    tid: str
    text: str
    user: str | None = None  # the activating user this record is a milestone or error of
    kind: str = "noise"  # a milestone of ORDER, "error", "noise" or "end"


def stamp(t: datetime) -> str:
    return f"{t:%m/%d %H:%M:%S}.{t.microsecond // 1000:03d}"


def rec(
    t: datetime,
    service: str,
    tid: str,
    msg: str,
    *,
    who: str | None = None,
    eid: str = "40000",
    user: str | None = None,
    kind: str = "noise",
) -> Rec:
    t = t.replace(microsecond=t.microsecond // 1000 * 1000)
    w = f" {{{who}}}" if who else ""
    return Rec(t, service, tid, f"[{eid}] ({stamp(t)}):{{0x{tid}}}{w} {msg}", user, kind)


@dataclass
class World:
    day: datetime
    end: datetime
    recs: list[Rec] = field(default_factory=list)
    users: list[str] = field(default_factory=list)


def build_world(
    seed: int,
    n_users: int,
    *,
    start: datetime | None = None,
    busy: bool = False,
    noise_every: float = 2.0,
    thread_reuse: bool = False,
) -> World:
    """Activations of `n_users` users (overlapping, each with its own threads, every outcome), and
    mail flow of idle users on other threads every `noise_every` seconds on average.

    busy: a KEY_ACCEPT comes up to 4 minutes after its key line, with the other threads' lines in
    between (its owner is many read blocks back but within the 5-minute window).
    thread_reuse: an idle user's line on the key thread *before* the key line (the key line is
    then the last line naming a user on that thread, so the owner does not change).
    """
    rng = random.Random(seed)
    start = start or datetime(2024, 3, 12, 9, 0, 0)
    recs: list[Rec] = []
    users = []
    names = rng.sample([(f, ln) for f in FIRST for ln in LAST], n_users)
    t_last = start
    for i, (first, last) in enumerate(names):
        email = f"{fold(first)}.{fold(last)}@corp.example".replace(" ", "")
        uid, display = 1001 + i, f"{last}, {first}"
        users.append(email)
        t0 = start + timedelta(seconds=rng.randrange(0, 1800), milliseconds=rng.randrange(1000))
        upto = rng.choice(ORDER)
        error = rng.choice([None, None, None, "not_started", "key_reject", "policy_rejected"])
        tid = {k: f"{k}{i:02X}" for k in ("1A", "2B", "3C", "4D", "5E")}
        accept_gap = timedelta(seconds=rng.uniform(30, 240)) if busy else timedelta(milliseconds=50)
        times = {"etp": t0, "key": t0 + timedelta(seconds=1), "books": t0 + accept_gap + timedelta(seconds=6),
                 "policy": t0 + accept_gap + timedelta(seconds=9), "getconfig": t0 + accept_gap + timedelta(seconds=45),
                 "cical": t0 + accept_gap + timedelta(seconds=50), "progress": t0 + accept_gap + timedelta(minutes=3),
                 "complete": t0 + accept_gap + timedelta(minutes=rng.choice([9, 40]))}  # fmt: skip
        times["accept"] = times["key"] + accept_gap
        lines = {
            "etp": rec(times["etp"], "MAGT", tid["1A"], "Queuing DATA from network@etp1006.etp.na.blackberry.net, "
                       f"Tag=-{rng.randrange(10**9)}, EntryId={rng.randrange(10**7)}", who=email),
            "key": rec(times["key"], "MAGT", tid["2B"], f"Generating {rng.choice(['3DES', 'AES'])} key "
                       "(this is based on server setting)", who=email),
            "accept": rec(times["accept"], "MAGT", tid["2B"],
                          f"*** OTAKEYGEN *** sending KEY_ACCEPT transID = {rng.randrange(10**9)}"),
            "books": rec(times["books"], "MAGT", tid["3C"], "*** OTAKEYGEN *** Queuing service book data to "
                         "Policy Server", who=email),
            "policy": rec(times["policy"], "POLC", "E1C", "SCS::CheckITPolicyInGroup – Queuing "
                          f"SET_ITPOLICY_REQUEST request for UserId={uid}"),
            "getconfig": rec(times["getconfig"], "SYNC", tid["4D"], '[SYNC-DSession] Received "GetConfig" command '
                             f"from device. [{display}:{uid}]", eid="46046"),
            "cical": rec(times["cical"], "MAGT", tid["3C"], f"[CICAL] Starting calendar slow sync, items={rng.randrange(9, 400)}",
                         who=email),
            "progress": rec(times["progress"], "SYNC", tid["4D"], '[SYNC-DSession] Received "SyncData" command from '
                            f"device. [{display}:{uid}]", eid="46047"),
            "complete": rec(times["complete"], "SYNC", tid["5E"], f"[SYNC-DSession] *** SLOWSYNC COMPLETE *** "
                            f"[{display}:{uid}]", eid="36023"),
        }  # fmt: skip
        for k in ORDER[: ORDER.index(upto) + 1]:
            recs.append(replace(lines[k], user=email, kind=k))
            t_last = max(t_last, lines[k].t)
        if error == "not_started" and upto == "etp":
            recs.append(rec(t0 + timedelta(seconds=2), "MAGT", tid["1A"], "The OpenDatabase() failed. User not started",
                            who=email, eid="10000", user=email, kind="error"))  # fmt: skip
        elif error == "key_reject" and upto == "key":
            recs.append(rec(times["key"] + timedelta(milliseconds=300), "MAGT", tid["2B"],
                            "Activation error: Contact Service Administrator", who=email, eid="20000",
                            user=email, kind="error"))  # fmt: skip
        elif error == "policy_rejected" and upto == "policy":
            recs.append(rec(times["policy"] + timedelta(seconds=3), "POLC", "E1C",
                            f"SCS::ProcessITPolicyResult - IT policy rejected by device for UserId={uid}",
                            eid="20000", user=email, kind="error"))  # fmt: skip
        if thread_reuse:
            recs.append(rec(times["key"] - timedelta(milliseconds=rng.randrange(1, 900)), "MAGT", tid["2B"],
                            f"New mail has arrived, EntryId={rng.randrange(10**6)}", who=rng.choice(IDLE),
                            eid="30085"))  # fmt: skip
    end = max(t_last, start + timedelta(minutes=30)) + timedelta(minutes=rng.choice([5, 20, 50, 90]))
    end = end.replace(microsecond=end.microsecond // 1000 * 1000)
    recs += noise(rng, start - timedelta(minutes=5), end, noise_every)
    for service in ("MAGT", "POLC", "SYNC"):
        recs.append(rec(end, service, "A2C", "Total Msgs Pending 0", eid="30000", kind="end"))
    recs.sort(key=lambda r: (r.t, r.kind == "end"))
    return World(start.replace(hour=0, minute=0, second=0, microsecond=0), end, recs, users)


def noise_rec(rng: random.Random, t: datetime, service: str | None = None) -> Rec:
    """A line that is no milestone of anybody activating: other users, other threads (BES-LOGS.md
    section 2 "Real lines of other kinds"); subjects that quote milestone text in quotes."""
    service = service or rng.choice(["MAGT", "MAGT", "MAGT", "POLC", "SYNC"])
    tid = f"{rng.choice(['7', '8', '9', 'C', 'D'])}{rng.randrange(16**2):02X}"
    if service == "MAGT":
        who = rng.choice(IDLE)
        kind = rng.randrange(6)
        if kind == 0:
            return rec(
                t, service, tid, f"New mail has arrived, EntryId={rng.randrange(10**6)}", who=who, eid="30085"
            )
        if kind == 1:
            return rec(
                t,
                service,
                tid,
                f"Sending message to device, RefId={rng.randrange(10**6)}, "
                f"size={rng.randrange(99, 9999)}, Subject={rng.choice(SUBJECTS)}",
                who=who,
                eid="30011",
            )
        if kind == 2:
            return rec(t, service, tid, f"Total Msgs Pending {rng.randrange(9)}", eid="30000")
        if kind == 3:
            return rec(
                t,
                service,
                tid,
                "MAPIMailbox::MAPIMailbox - OpenMsgStore (0x8004011d) failed, "
                f"MailboxDN=/o=CORP/cn={who.split('@')[0]}",
                who=who,
                eid="20400",
            )
        if kind == 4:
            return rec(t, service, tid, f"[BIPP] Message delivered, Subject={rng.choice(SUBJECTS)}", who=who)
        return rec(t, service, tid, "Agent 4: Missed 1 heartbeats", eid="20000")
    if service == "POLC":
        return rec(t, service, tid, rng.choice(["SCS::Heartbeat ok", f"Policy cache refreshed, Subject={rng.choice(SUBJECTS)}"]),
                   eid="30000")  # fmt: skip
    return rec(t, service, tid, "CheckResponseReceived - no changes detected.", who=rng.choice(IDLE_DISPLAY),
               eid="40089")  # fmt: skip


def noise(rng: random.Random, t0: datetime, t1: datetime, every: float) -> list[Rec]:
    out, t = [], t0
    while t < t1:
        t += timedelta(seconds=rng.expovariate(1 / every))
        if t < t1:
            out.append(noise_rec(rng, t.replace(microsecond=t.microsecond // 1000 * 1000)))
    return out


Line = tuple[Rec, ...]
"""A physical line: one record, or several glued (text copied out of a table, README "Input")."""


def physical(recs: list[Rec], rng: random.Random, glue: float) -> dict[str, list[Line]]:
    """Per service, its records in time order as physical lines, a share `glue` of them glued to
    the next one.  The last line of a file is never glued (it must end the log)."""
    out: dict[str, list[Line]] = {}
    for service in ("MAGT", "POLC", "SYNC"):
        mine = [r for r in recs if r.service == service]
        lines: list[Line] = []
        i = 0
        while i < len(mine):
            if i + 2 < len(mine) and rng.random() < glue:
                lines.append((mine[i], mine[i + 1]))
                i += 2
            else:
                lines.append((mine[i],))
                i += 1
        out[service] = lines
    return out


def text_of(line: Line) -> str:
    return " ".join(r.text for r in line)


ENCODINGS = ["utf-8", "utf-8-sig", "utf-16-le-bom", "utf-16-le", "utf-16-be-bom", "cp1252"]


def encode(text: str, how: str) -> bytes:
    if how == "utf-8-sig":
        return b"\xef\xbb\xbf" + text.encode("utf-8")
    if how == "utf-16-le-bom":
        return b"\xff\xfe" + text.encode("utf-16-le")
    if how == "utf-16-be-bom":
        return b"\xfe\xff" + text.encode("utf-16-be")
    return text.encode(how, errors="replace")


@dataclass(frozen=True)
class Style:
    encodings: dict[str, str]  # service -> how its files are encoded
    newline: str = "\r\n"


def name(service: str, day: datetime, inst: int = 1, it: int = 1) -> str:
    return f"{SERVER}_{service}_{inst:02d}_{day:%Y%m%d}_{it:04d}.txt"


def write(root: Path, files: dict[str, list[Line]], style: Style) -> None:
    """`files`: relative path -> its lines; the service is read from the name."""
    for rel, lines in files.items():
        service = rel.rsplit("/", 1)[-1].split("_")[-4]
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(encode("".join(text_of(x) + style.newline for x in lines), style.encodings[service]))


def plain_layout(world: World, lines: dict[str, list[Line]]) -> dict[str, list[Line]]:
    return {f"{world.day:%Y%m%d}/{name(s, world.day)}": ls for s, ls in lines.items()}


# ---------------------------------------------------------------------------------------------
# scanning and comparing
# ---------------------------------------------------------------------------------------------


@contextmanager
def chunk_size(size: int | None) -> Iterator[None]:
    """Every file read in blocks of ``size`` bytes (`bes_logdiag.filescan.read_blocks`)."""
    if size is None:
        yield
        return

    def blocks(stream: BinaryIO) -> Iterator[bytes]:
        block = stream.read(size)
        while block:
            yield block
            block = stream.read(size)

    with mock.patch.object(filescan_mod, "read_blocks", blocks):
        yield


def scan(*args: object, size: int | None = None, engine: str = "python", jobs: str = "1") -> dict:  # type: ignore[type-arg]
    """``scan --format json``; the pure-Python engine unless told (hyperscan compiles its database
    in each run, 65 ms, which these small folders would spend most of their time on)."""
    with chunk_size(size):
        res = runner.invoke(app, ["scan", *map(str, args), "--format", "json", "--jobs", jobs, "-q"],
                            env={"BES_LOGDIAG_ENGINE": engine})  # fmt: skip
    assert res.exit_code in (0, 1), (res.exit_code, res.output, res.exception)
    return json.loads(res.stdout)  # type: ignore[no-any-return]


VERDICT = ("status", "stage", "kb", "started", "last_progress", "completed")


def verdicts(rep: dict) -> list[tuple]:  # type: ignore[type-arg]
    """Every activation as the administrator sees it, with its earlier attempts."""
    out = []
    for a in rep["activations"]:
        tries = tuple(tuple(t[k] for k in VERDICT) for t in a["attempts"])
        out.append((a["server"], a["email"], a["user_id"], a["display_name"], *(a[k] for k in VERDICT),
                    len(a["attempts"]), tries))  # fmt: skip
    return sorted(out, key=repr)


def file_counts(rep: dict) -> list[tuple]:  # type: ignore[type-arg]
    return sorted(
        (f["path"], f["lines"], f["matched"], f["unparsed"], f["last_time"]) for f in rep["inputs"]["files"]
    )


def refused_join(report: dict) -> bool:  # type: ignore[type-arg]
    """One activation per user, unless two users' service-book requests both fit one IT policy
    within the join window: then the tool refuses to guess and says so (README, "Identities")."""
    return any("not joining" in note for note in report["notes"])


def same(base: dict, other: dict) -> None:  # type: ignore[type-arg]
    assert verdicts(other) == verdicts(base)
    assert other["log_end"] == base["log_end"]
    assert other["summary"] == base["summary"]


@contextmanager
def tmpdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="bes-inv-") as d:
        yield Path(d)


worlds = st.builds(
    lambda seed, n, every: (seed, n, every),
    st.integers(0, 2**32 - 1),
    st.integers(1, 6),
    st.sampled_from([1.5, 5.0, 20.0]),
)
styles = st.builds(
    lambda m, p, s, nl: Style({"MAGT": m, "POLC": p, "SYNC": s}, nl),
    st.sampled_from(ENCODINGS),
    st.sampled_from(ENCODINGS),
    st.sampled_from(ENCODINGS),
    st.sampled_from(["\r\n", "\n"]),
)


# ---------------------------------------------------------------------------------------------
# 0. the generator makes what it says
# ---------------------------------------------------------------------------------------------


def test_generator_gives_one_activation_per_user_with_every_outcome(tmp_path: Path) -> None:
    seen: set[str] = set()
    for seed in range(6):
        world = build_world(seed, 6, busy=seed % 2 == 1)
        root = tmp_path / str(seed)
        write(root, plain_layout(world, physical(world.recs, random.Random(seed), 0.1)),
              Style(dict.fromkeys(("MAGT", "POLC", "SYNC"), "utf-8")))  # fmt: skip
        rep = scan(root)
        assert sorted(a["email"] for a in rep["activations"]) == sorted(world.users)
        assert all(a["server"] == SERVER for a in rep["activations"])
        assert rep["log_end"] == {SERVER: world.end.isoformat()}
        seen |= {a["status"] for a in rep["activations"]}
        for a in rep["activations"]:  # the KEY_ACCEPT line found its owner, however far back
            accepts = [r for r in world.recs if r.kind == "accept" and r.user == a["email"]]
            if accepts and a["status"] != "failed":
                assert a["stage"] >= 2 and "key_accept_sent" in {m["milestone"] for m in a["milestones"]}
    assert seen == {"complete", "in_progress", "stalled", "failed"}


# ---------------------------------------------------------------------------------------------
# 1. read-block boundaries
# ---------------------------------------------------------------------------------------------

chunk_sizes = st.one_of(
    st.integers(300, 4096),
    st.integers(4096, 512 * 1024),
    st.sampled_from([301, 997, 4095, 4097, 65536, 256 * 1024 - 1]),
)


@PROFILE
@given(w=worlds, style=styles, busy=st.booleans(), reuse=st.booleans(), glue=st.sampled_from([0.0, 0.05, 0.3]),
       sizes=st.lists(chunk_sizes, min_size=1, max_size=3))  # fmt: skip
def test_read_block_size_never_changes_a_verdict_or_a_count(w, style, busy, reuse, glue, sizes) -> None:  # type: ignore[no-untyped-def]
    seed, n, every = w
    world = build_world(seed, n, busy=busy, noise_every=every, thread_reuse=reuse)
    with tmpdir() as root:
        write(root, plain_layout(world, physical(world.recs, random.Random(seed), glue)), style)
        base = scan(root, engine="auto", jobs="0")
        assert len(base["activations"]) == n or refused_join(base)
        for k, size in enumerate(sizes):
            other = scan(root, size=size, engine=("python", "auto")[k % 2])
            same(base, other)
            assert file_counts(other) == file_counts(base)
            assert other["inputs"]["lines"] == base["inputs"]["lines"]
            assert other["inputs"]["matched"] == base["inputs"]["matched"]
        same(base, scan(root, size=sizes[0], engine="auto", jobs="3"))


def _boundary_file(root: Path, data: str, how: str) -> Path:
    p = root / f"{datetime(2024, 3, 12):%Y%m%d}" / name("MAGT", datetime(2024, 3, 12))
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(encode(data, how))
    return p


def _codec(how: str) -> tuple[str, int]:
    """The codec of an ENCODINGS entry and the length of its byte-order mark."""
    if how.startswith("utf-16"):
        return how[:9], 2 if how.endswith("-bom") else 0
    return ("utf-8", 3) if how == "utf-8-sig" else (how, 0)


def _interesting_offsets(text: str, how: str) -> list[int]:
    """Byte offsets where a read block may end badly: inside a multi-byte character (ü, the en
    dash, the two halves of a surrogate pair), between \\r and \\n, at and inside the KEY_ACCEPT
    line and its owner's line."""
    codec, pos = _codec(how)
    unit = 2 if codec.startswith("utf-16") else 1
    out: set[int] = set()
    for ch in text:
        width = len(ch.encode(codec, errors="replace"))
        if width > unit:
            out.update(range(pos + 1, pos + width, 1))
        if ch == "\n":
            out.add(pos)  # \r | \n
        pos += width
    data = encode(text, how)
    for needle in ("KEY_ACCEPT", "Generating", "{0x2B00}"):
        at = data.find(needle.encode(codec))
        out.update((at, at + 1, at + 5))
    return sorted(out)


@pytest.mark.parametrize("how", ["utf-8", "cp1252", "utf-16-le-bom", "utf-16-le", "utf-16-be-bom"])
def test_block_boundaries_inside_characters_line_ends_and_the_key_lines(tmp_path: Path, how: str) -> None:
    """The first read is at least 4 KiB, the next ones `size` bytes: a block size of ``o - 4096``
    ends the first block exactly at byte ``o``, for each interesting ``o`` past 4 KiB + 300."""
    t0 = datetime(2024, 3, 12, 9, 0, 0)
    em = "juergen.mueller@corp.example"
    pad = [rec(t0 - timedelta(seconds=60 - i), "MAGT", "7A1", f"Sending message to device, RefId={i}, "
               f"Subject=Grüße – 📱 {'é' * (i % 7)}", who="cat@corp.example", eid="30011").text for i in range(60)]  # fmt: skip
    act = [
        rec(t0, "MAGT", "1A00", "Queuing DATA from network@etp1.eu.blackberry.net, Tag=-5, EntryId=4", who=em).text,
        rec(t0 + timedelta(seconds=1), "MAGT", "2B00", "Generating 3DES key (this is based on server setting)", who=em).text,
        rec(t0 + timedelta(seconds=1.5), "MAGT", "7A1", "Subject=„Müller“ – ok 📱", who="cat@corp.example").text,
        rec(t0 + timedelta(seconds=2), "MAGT", "2B00", "*** OTAKEYGEN *** sending KEY_ACCEPT transID = 9").text,
        rec(t0 + timedelta(seconds=8), "MAGT", "3C00", "*** OTAKEYGEN *** Queuing service book data to Policy Server", who=em).text,
        rec(t0 + timedelta(minutes=10), "MAGT", "A2C", "Total Msgs Pending 0", eid="30000").text,
    ]  # fmt: skip
    text = "\r\n".join(pad + act) + "\r\n"
    data = encode(text, how)
    _boundary_file(tmp_path, text, how)
    base = scan(tmp_path)
    assert [(a["email"], a["status"], a["last_milestone"]) for a in base["activations"]] == [
        (em, "in_progress", "service_books_requested")
    ]
    start = data.find(act[0][:20].encode(_codec(how)[0]))
    offsets = [o for o in _interesting_offsets(text, how) if o >= max(start - 300, 4096 + 300)]
    assert len(offsets) > 10
    for o in offsets:
        other = scan(tmp_path, size=o - 4096)
        same(base, other)
        assert file_counts(other) == file_counts(base), o


# ---------------------------------------------------------------------------------------------
# 2. file layout
# ---------------------------------------------------------------------------------------------


def _key_spans(lines: list[Line]) -> list[tuple[int, int]]:
    """Index ranges that must stay in one file: a key line and its KEY_ACCEPT (README: the
    KEY_ACCEPT belongs to the user last named on the same thread *of the same file*)."""
    where: dict[tuple[str | None, str], int] = {}
    for i, line in enumerate(lines):
        for r in line:
            if r.kind in ("key", "accept"):
                where.setdefault((r.user, r.kind), i)
    return [
        (where[(u, "key")], where[(u, "accept")]) for (u, k) in where if k == "accept" and (u, "key") in where
    ]


@CHEAP
@given(w=worlds, style=styles, busy=st.booleans(), data=st.data())
def test_rotated_iterations_give_the_same_verdicts(w, style, busy, data) -> None:  # type: ignore[no-untyped-def]
    seed, n, every = w
    world = build_world(seed, n, busy=busy, noise_every=every)
    lines = physical(world.recs, random.Random(seed), 0.05)
    rotated: dict[str, list[Line]] = {}
    for service, ls in lines.items():
        spans = _key_spans(ls)
        allowed = [c for c in range(1, len(ls)) if not any(a < c <= b for a, b in spans)]
        cuts = (
            sorted(set(data.draw(st.lists(st.sampled_from(allowed), max_size=4), label=service)))
            if allowed
            else []
        )
        for it, (a, b) in enumerate(zip([0, *cuts], [*cuts, len(ls)]), start=1):
            rotated[f"{world.day:%Y%m%d}/{name(service, world.day, it=it)}"] = ls[a:b]
    with tmpdir() as root:
        write(root / "one", plain_layout(world, lines), style)
        write(root / "rot", rotated, style)
        same(scan(root / "one"), scan(root / "rot"))


@PROFILE
@given(w=worlds, style=styles, data=st.data())
def test_users_split_over_two_messaging_agent_instances_give_the_same_verdicts(w, style, data) -> None:  # type: ignore[no-untyped-def]
    seed, n, every = w
    world = build_world(seed, n, noise_every=every)
    lines = physical(world.recs, random.Random(seed), 0.05)
    # Threads on one physical line stay together; each group of threads goes to instance 1 or 2.
    group: dict[str, str] = {}

    def find(t: str) -> str:
        while group.setdefault(t, t) != t:
            t = group[t]
        return t

    for line in lines["MAGT"]:
        for r in line[1:]:
            group[find(r.tid)] = find(line[0].tid)
    threads = sorted({find(r.tid) for line in lines["MAGT"] for r in line})
    inst = {t: data.draw(st.sampled_from([1, 2]), label=t) for t in threads}
    files: dict[str, list[Line]] = {}
    for line in lines["MAGT"]:
        i = inst[find(line[0].tid)]
        files.setdefault(f"{world.day:%Y%m%d}/{name('MAGT', world.day, inst=i)}", []).append(line)
    for service in ("POLC", "SYNC"):
        files[f"{world.day:%Y%m%d}/{name(service, world.day)}"] = lines[service]
    with tmpdir() as root:
        write(root / "one", plain_layout(world, lines), style)
        write(root / "two", files, style)
        same(scan(root / "one"), scan(root / "two"))


@PROFILE
@given(w=worlds, style=styles, new_year=st.booleans(), busy=st.booleans(), minutes=st.integers(5, 40))
def test_day_folders_at_midnight_give_the_same_verdicts(w, style, new_year, busy, minutes) -> None:  # type: ignore[no-untyped-def]
    """Activations from `minutes` before midnight on; the one-file layout runs over midnight, the
    other has a file per day in its day folder, named with its date (BES-LOGS.md section 1)."""
    seed, n, every = w
    midnight = datetime(2024, 1, 1) if new_year else datetime(2024, 3, 13)
    world = build_world(seed, n, start=midnight - timedelta(minutes=minutes), busy=busy, noise_every=every)
    # A restart at midnight ends the thread's file: keep each key line and its KEY_ACCEPT on one day.
    assume(not _straddles(world, midnight))
    lines = physical(world.recs, random.Random(seed), 0.05)
    files: dict[str, list[Line]] = {}
    for service, ls in lines.items():
        for line in ls:
            day = line[0].t.replace(hour=0, minute=0, second=0, microsecond=0)
            files.setdefault(f"{day:%Y%m%d}/{name(service, day)}", []).append(line)
    with tmpdir() as root:
        write(root / "one", plain_layout(world, lines), style)
        write(root / "days", files, style)
        base = scan(root / "one")
        same(base, scan(root / "days"))
        same(base, scan(*sorted((root / "days").iterdir())))


def _straddles(world: World, midnight: datetime) -> bool:
    key = {r.user: r.t for r in world.recs if r.kind == "key"}
    return any(r.kind == "accept" and key[r.user] < midnight <= r.t for r in world.recs)


# ---------------------------------------------------------------------------------------------
# 3. order of paths, duplicates
# ---------------------------------------------------------------------------------------------


@PROFILE
@given(w=worlds, style=styles, rotate=st.booleans(), data=st.data())
def test_path_order_and_duplicates_give_the_same_verdicts(w, style, rotate, data) -> None:  # type: ignore[no-untyped-def]
    seed, n, every = w
    world = build_world(seed, n, noise_every=every)
    lines = physical(world.recs, random.Random(seed), 0.05)
    files = plain_layout(world, lines)
    if rotate:  # a restart half-way in POLC and SYNC (their lines have no thread owners to lose)
        for s in ("POLC", "SYNC"):
            ls = files.pop(f"{world.day:%Y%m%d}/{name(s, world.day)}")
            files[f"{world.day:%Y%m%d}/{name(s, world.day, it=1)}"] = ls[: len(ls) // 2]
            files[f"{world.day:%Y%m%d}/{name(s, world.day, it=2)}"] = ls[len(ls) // 2 :]
    with tmpdir() as root:
        write(root / "logs", files, style)
        base = scan(root / "logs")
        paths = sorted(p for p in (root / "logs").rglob("*.txt"))
        shuffled = data.draw(st.permutations(paths), label="order")
        same(base, scan(*shuffled))
        extra = data.draw(st.lists(st.sampled_from(paths), min_size=1, max_size=3), label="twice")
        same(base, scan(*shuffled, *extra))
        same(base, scan(*extra, root / "logs"))
        same(base, scan(root / "logs", root / "logs" / ".." / "logs"))
        # the same file copied into a second folder (README: read twice, counts once)
        copy = root / "copy" / extra[0].name
        copy.parent.mkdir()
        shutil.copy(extra[0], copy)
        same(base, scan(root / "logs", copy))
        # zipped and plain (README: read twice, counts once)
        with zipfile.ZipFile(root / "logs.zip", "w") as zf:
            for p in paths:
                zf.write(p, p.relative_to(root / "logs").as_posix())
        same(base, scan(root / "logs.zip"))
        same(base, scan(root / "logs.zip", *shuffled))


# ---------------------------------------------------------------------------------------------
# 4. noise
# ---------------------------------------------------------------------------------------------


@CHEAP
@given(w=worlds, style=styles, busy=st.booleans(), data=st.data())
def test_mail_flow_noise_never_changes_a_verdict_or_makes_an_activation(w, style, busy, data) -> None:  # type: ignore[no-untyped-def]
    seed, n, _ = w
    world = build_world(seed, n, busy=busy, noise_every=60.0)
    lines = physical(world.recs, random.Random(seed), 0.0)
    rng = random.Random(data.draw(st.integers(0, 2**32 - 1), label="noise seed"))
    many = data.draw(st.sampled_from([5, 50, 400]), label="lines per file")
    noisy: dict[str, list[Line]] = {}
    for service, ls in lines.items():
        out = list(ls)
        for _ in range(many):
            i = rng.randrange(1, len(out))  # never after the last line: the logs end where they ended
            lo, hi = out[i - 1][-1].t, out[i][0].t
            t = lo + (hi - lo) * rng.random()
            out.insert(i, (noise_rec(rng, t.replace(microsecond=t.microsecond // 1000 * 1000), service),))
        noisy[service] = out
    with tmpdir() as root:
        write(root / "quiet", plain_layout(world, lines), style)
        write(root / "noisy", plain_layout(world, noisy), style)
        base = scan(root / "quiet")
        assert len(base["activations"]) == n or refused_join(base)
        same(base, scan(root / "noisy"))


# ---------------------------------------------------------------------------------------------
# 5. engines
# ---------------------------------------------------------------------------------------------


@PROFILE
@given(w=worlds, style=styles, busy=st.booleans(), glue=st.sampled_from([0.0, 0.2]))
def test_python_engine_gives_the_same_json_as_the_default(w, style, busy, glue) -> None:  # type: ignore[no-untyped-def]
    seed, n, every = w
    world = build_world(seed, n, busy=busy, noise_every=every)
    with tmpdir() as root:
        write(root, plain_layout(world, physical(world.recs, random.Random(seed), glue)), style)
        auto = scan(root, engine="auto", jobs="0")
        assert scan(root, engine="python", jobs="0") == auto
        assert scan(root, engine="python", jobs="2") == auto


# ---------------------------------------------------------------------------------------------
# failures found: minimal repros, kept as regression tests (the generators above never make these
# shapes, so the properties stay green without an `assume`)
# ---------------------------------------------------------------------------------------------

T0 = datetime(2024, 3, 12, 9, 0, 0)
KIM, LI, OMAR = "kim.tran@corp.example", "li.wei@corp.example", "omar.farouk@corp.example"
MAGT_FILE = name("MAGT", datetime(2024, 3, 12))


def _magt(root: Path, lines: list[str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    p = root / MAGT_FILE
    p.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))
    return p


def _mail(n: int, t: datetime, tid: str = "1C30") -> list[str]:
    """`n` lines of another user's mail on another thread, 1 ms apart from `t` on."""
    return [rec(t + timedelta(milliseconds=i), "MAGT", tid, f"New mail has arrived, EntryId={i}", who=OMAR,
                eid="30085").text for i in range(n)]  # fmt: skip


def _reused_key_thread(noise_lines: int) -> list[str]:
    """Kim's key line on thread 0x14D4, then Li's mail on the same thread, then other threads'
    mail, then the KEY_ACCEPT on 0x14D4 at 09:00:30, all within the 5-minute window: by
    README/BES-LOGS.md section 3 the KEY_ACCEPT belongs to Li, the user last named on the thread."""
    return [
        rec(T0, "MAGT", "1AEC", "Queuing DATA from network@etp3.eu.blackberry.net, Tag=-5, EntryId=4", who=KIM).text,
        rec(T0 + timedelta(seconds=1), "MAGT", "14D4", "Generating 3DES key (this is based on server setting)", who=KIM).text,
        rec(T0 + timedelta(seconds=1.2), "MAGT", "14D4", "New mail has arrived, EntryId=812211", who=LI, eid="30085").text,
        *_mail(noise_lines, T0 + timedelta(seconds=2)),
        rec(T0 + timedelta(seconds=30), "MAGT", "14D4", "*** OTAKEYGEN *** sending KEY_ACCEPT transID = 77").text,
        rec(T0 + timedelta(minutes=40), "MAGT", "A2C", "Total Msgs Pending 0", eid="30000").text,
    ]  # fmt: skip


def test_key_accept_owner_named_by_a_mail_line_two_blocks_back(tmp_path: Path) -> None:
    _magt(tmp_path, _reused_key_thread(120))  # ~13 KB of other threads' mail in between
    base = scan(tmp_path)  # 256 KiB blocks: Li owns it (kim stalled at key_generated, li at key_accept_sent)
    same(base, scan(tmp_path, size=4096))  # 4 KiB blocks: Kim owns it (kim at key_accept_sent, no li)


def test_key_accept_owner_changes_with_the_volume_of_other_threads_mail(tmp_path: Path) -> None:
    quiet = scan(_magt(tmp_path / "quiet", _reused_key_thread(0)).parent)
    busy = scan(_magt(tmp_path / "busy", _reused_key_thread(5500)).parent)  # ~580 KB: 5.5 s of mail
    same(quiet, busy)


def test_key_accept_after_many_userless_lines_of_its_thread(tmp_path: Path) -> None:
    lines = [
        rec(T0, "MAGT", "1AEC", "Queuing DATA from network@etp3.eu.blackberry.net, Tag=-5, EntryId=4", who=KIM).text,
        rec(T0 + timedelta(seconds=1), "MAGT", "14D4", "Generating 3DES key (this is based on server setting)", who=KIM).text,
        *[rec(T0 + timedelta(seconds=1, milliseconds=100 * (i + 1)), "MAGT", "14D4", f"Polling mailbox, pass={i}").text
          for i in range(399)],
        rec(T0 + timedelta(seconds=60), "MAGT", "14D4", "*** OTAKEYGEN *** sending KEY_ACCEPT transID = 77").text,
        rec(T0 + timedelta(minutes=40), "MAGT", "A2C", "Total Msgs Pending 0", eid="30000").text,
    ]  # fmt: skip
    _magt(tmp_path, lines)
    base = scan(tmp_path)  # KEY_ACCEPT unattached: Kim stalled at key_generated, last_progress 09:00:01
    same(base, scan(tmp_path, size=4096))  # Kim stalled at key_accept_sent, last_progress 09:01:00


TAIL = "    at com.rim.bes.magt.MailboxPoller.run(MailboxPoller.java:412)"
"""A line without a timestamp, as a stack trace dumped into the log writes them."""


def _tail_file(root: Path, noise_lines: int, tail_lines: int) -> Path:
    """Kim's ETP.DAT at 09:00, other users' mail, the server's last BES line at 09:20, then lines
    without a timestamp (a dump, a stack trace): the server's logs end at 09:20 (README: the last
    timestamp in any of its files), so Kim, with no key after 20 minutes, is stalled (stage 1, 15 min)."""
    return _magt(root, [
        rec(T0, "MAGT", "1AEC", "Queuing DATA from network@etp3.eu.blackberry.net, Tag=-5, EntryId=4", who=KIM).text,
        *_mail(noise_lines, T0 + timedelta(seconds=2)),
        rec(T0 + timedelta(minutes=20), "MAGT", "A2C", "Total Msgs Pending 0", eid="30000").text,
        *[TAIL] * tail_lines,
    ])  # fmt: skip


def test_log_end_behind_a_tail_without_timestamps_small_blocks(tmp_path: Path) -> None:
    _tail_file(tmp_path, 0, 150)
    base = scan(tmp_path)  # log_end 09:20, Kim stalled KB13840
    same(base, scan(tmp_path, size=4096))  # log_end 09:00, Kim in_progress


def test_log_end_behind_a_tail_without_timestamps_depends_on_the_mail_before_it(tmp_path: Path) -> None:
    small = scan(_tail_file(tmp_path / "small", 0, 300).parent)  # log_end 09:00: in_progress
    per_line = len(_mail(1, T0)[0]) + 2
    fill = (256 * 1024 - 150 * (len(TAIL) + 2) - 400) // per_line
    big = scan(_tail_file(tmp_path / "big", fill, 300).parent)  # boundary mid-tail: log_end 09:20, stalled
    same(small, big)
