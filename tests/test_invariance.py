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

import random
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import BinaryIO
from unittest import mock

import pytest
from builders import (
    ENCODINGS,
    WORLD_SERVER,
    Line,
    Style,
    World,
    bes_line,
    bes_name,
    encode,
    idle_record,
    physical,
    plain_layout,
    random_world,
    scan_json,
    write_files,
    write_lines,
)
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import bes_logdiag.filescan as filescan_mod

SERVER = WORLD_SERVER
PROFILE = settings(max_examples=12, deadline=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])  # fmt: skip
CHEAP = settings(PROFILE, max_examples=25)

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
    """``scan --format json`` in blocks of ``size``; the pure-Python engine unless told (hyperscan
    compiles its database in each run, 65 ms, which these small folders would spend most of their
    time on)."""
    with chunk_size(size):
        return scan_json(*args, jobs=jobs, quiet=True, env={"BES_LOGDIAG_ENGINE": engine})[1]


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
        world = random_world(seed, 6, busy=seed % 2 == 1)
        root = tmp_path / str(seed)
        write_files(root, plain_layout(world, physical(world.recs, random.Random(seed), 0.1)),
              Style(dict.fromkeys(("MAGT", "POLC", "SYNC"), "utf-8")))  # fmt: skip
        rep = scan(root)
        assert sorted(a["email"] for a in rep["activations"]) == sorted(world.users)
        assert all(a["server"] == SERVER for a in rep["activations"])
        assert rep["log_end"] == {SERVER: world.end.isoformat(timespec="milliseconds")}
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
    world = random_world(seed, n, busy=busy, noise_every=every, thread_reuse=reuse)
    with tmpdir() as root:
        write_files(root, plain_layout(world, physical(world.recs, random.Random(seed), glue)), style)
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
    p = root / f"{datetime(2024, 3, 12):%Y%m%d}" / bes_name(SERVER, "MAGT", datetime(2024, 3, 12))
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(encode(data, how, "replace"))
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
    data = encode(text, how, "replace")
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
    pad = [bes_line(t0 - timedelta(seconds=60 - i), f"Sending message to device, RefId={i}, "
               f"Subject=Grüße – 📱 {'é' * (i % 7)}", tid="7A1", user="cat@corp.example", eid="30011") for i in range(60)]  # fmt: skip
    act = [
        bes_line(t0, "Queuing DATA from network@etp1.eu.blackberry.net, Tag=-5, EntryId=4", tid="1A00", user=em),
        bes_line(t0 + timedelta(seconds=1), "Generating 3DES key (this is based on server setting)", tid="2B00", user=em),
        bes_line(t0 + timedelta(seconds=1.5), "Subject=„Müller“ – ok 📱", tid="7A1", user="cat@corp.example"),
        bes_line(t0 + timedelta(seconds=2), "*** OTAKEYGEN *** sending KEY_ACCEPT transID = 9", tid="2B00"),
        bes_line(t0 + timedelta(seconds=8), "*** OTAKEYGEN *** Queuing service book data to Policy Server", tid="3C00", user=em),
        bes_line(t0 + timedelta(minutes=10), "Total Msgs Pending 0", tid="A2C", eid="30000"),
    ]  # fmt: skip
    text = "\r\n".join(pad + act) + "\r\n"
    data = encode(text, how, "replace")
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
    world = random_world(seed, n, busy=busy, noise_every=every)
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
            rotated[f"{world.day:%Y%m%d}/{bes_name(SERVER, service, world.day, it=it)}"] = ls[a:b]
    with tmpdir() as root:
        write_files(root / "one", plain_layout(world, lines), style)
        write_files(root / "rot", rotated, style)
        same(scan(root / "one"), scan(root / "rot"))


@PROFILE
@given(w=worlds, style=styles, data=st.data())
def test_users_split_over_two_messaging_agent_instances_give_the_same_verdicts(w, style, data) -> None:  # type: ignore[no-untyped-def]
    seed, n, every = w
    world = random_world(seed, n, noise_every=every)
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
        files.setdefault(f"{world.day:%Y%m%d}/{bes_name(SERVER, 'MAGT', world.day, inst=i)}", []).append(line)
    for service in ("POLC", "SYNC"):
        files[f"{world.day:%Y%m%d}/{bes_name(SERVER, service, world.day)}"] = lines[service]
    with tmpdir() as root:
        write_files(root / "one", plain_layout(world, lines), style)
        write_files(root / "two", files, style)
        same(scan(root / "one"), scan(root / "two"))


@PROFILE
@given(w=worlds, style=styles, new_year=st.booleans(), busy=st.booleans(), minutes=st.integers(5, 40))
def test_day_folders_at_midnight_give_the_same_verdicts(w, style, new_year, busy, minutes) -> None:  # type: ignore[no-untyped-def]
    """Activations from `minutes` before midnight on; the one-file layout runs over midnight, the
    other has a file per day in its day folder, named with its date (BES-LOGS.md section 1)."""
    seed, n, every = w
    midnight = datetime(2024, 1, 1) if new_year else datetime(2024, 3, 13)
    world = random_world(seed, n, start=midnight - timedelta(minutes=minutes), busy=busy, noise_every=every)
    # A restart at midnight ends the thread's file: keep each key line and its KEY_ACCEPT on one day.
    assume(not _straddles(world, midnight))
    lines = physical(world.recs, random.Random(seed), 0.05)
    files: dict[str, list[Line]] = {}
    for service, ls in lines.items():
        for line in ls:
            day = line[0].t.replace(hour=0, minute=0, second=0, microsecond=0)
            files.setdefault(f"{day:%Y%m%d}/{bes_name(SERVER, service, day)}", []).append(line)
    with tmpdir() as root:
        write_files(root / "one", plain_layout(world, lines), style)
        write_files(root / "days", files, style)
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
    world = random_world(seed, n, noise_every=every)
    lines = physical(world.recs, random.Random(seed), 0.05)
    files = plain_layout(world, lines)
    if rotate:  # a restart half-way in POLC and SYNC (their lines have no thread owners to lose)
        for s in ("POLC", "SYNC"):
            ls = files.pop(f"{world.day:%Y%m%d}/{bes_name(SERVER, s, world.day)}")
            files[f"{world.day:%Y%m%d}/{bes_name(SERVER, s, world.day, it=1)}"] = ls[: len(ls) // 2]
            files[f"{world.day:%Y%m%d}/{bes_name(SERVER, s, world.day, it=2)}"] = ls[len(ls) // 2 :]
    with tmpdir() as root:
        write_files(root / "logs", files, style)
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
    world = random_world(seed, n, busy=busy, noise_every=60.0)
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
            out.insert(i, (idle_record(rng, t.replace(microsecond=t.microsecond // 1000 * 1000), service),))
        noisy[service] = out
    with tmpdir() as root:
        write_files(root / "quiet", plain_layout(world, lines), style)
        write_files(root / "noisy", plain_layout(world, noisy), style)
        base = scan(root / "quiet")
        assert len(base["activations"]) == n or refused_join(base)
        same(base, scan(root / "noisy"))


@CHEAP
@given(w=worlds, style=styles, data=st.data())
def test_noise_on_the_activations_own_threads_never_changes_a_verdict(w, style, data) -> None:  # type: ignore[no-untyped-def]
    """The Messaging Agent's threads are a pool: other users' mail lands on the very thread that
    generated a key, between the key and its KEY_ACCEPT, a few lines or thousands.  Verdicts are
    those of the quiet logs, however dense (README, "Ownership")."""
    seed, n, _ = w
    world = random_world(seed, n, noise_every=60.0)
    lines = physical(world.recs, random.Random(seed), 0.0)
    rng = random.Random(data.draw(st.integers(0, 2**32 - 1), label="noise seed"))
    per_gap = data.draw(st.sampled_from([1, 20, 2000]), label="bystander lines per gap")
    magt = list(lines["MAGT"])
    noisy_magt: list[Line] = []
    for i, line in enumerate(magt):
        noisy_magt.append(line)
        rec = line[-1]
        following = magt[i + 1][0] if i + 1 < len(magt) else None
        if rec.user is None or following is None:
            continue
        # bystanders on this activation line's own thread, up to the next line of the file
        lo, hi = rec.t, following.t
        for k in range(per_gap):
            t = lo + (hi - lo) * ((k + 1) / (per_gap + 1))
            bystander = idle_record(rng, t.replace(microsecond=t.microsecond // 1000 * 1000), "MAGT")
            noisy_magt.append(
                (
                    replace(
                        bystander,
                        tid=rec.tid,
                        text=bystander.text.replace(f"{{0x{bystander.tid}}}", f"{{0x{rec.tid}}}"),
                    ),
                )
            )
    noisy = {**lines, "MAGT": noisy_magt}
    with tmpdir() as root:
        write_files(root / "quiet", plain_layout(world, lines), style)
        write_files(root / "noisy", plain_layout(world, noisy), style)
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
    world = random_world(seed, n, busy=busy, noise_every=every)
    with tmpdir() as root:
        write_files(root, plain_layout(world, physical(world.recs, random.Random(seed), glue)), style)
        auto = scan(root, engine="auto", jobs="0")
        assert scan(root, engine="python", jobs="0") == auto
        assert scan(root, engine="python", jobs="2") == auto


# ---------------------------------------------------------------------------------------------
# failures found: minimal repros, kept as regression tests (the generators above never make these
# shapes, so the properties stay green without an `assume`)
# ---------------------------------------------------------------------------------------------

T0 = datetime(2024, 3, 12, 9, 0, 0)
KIM, LI, OMAR = "kim.tran@corp.example", "li.wei@corp.example", "omar.farouk@corp.example"
MAGT_FILE = bes_name(SERVER, "MAGT", datetime(2024, 3, 12))


def _magt(root: Path, lines: list[str]) -> Path:
    return write_lines(root / MAGT_FILE, lines)


def _mail(n: int, t: datetime, tid: str = "1C30") -> list[str]:
    """`n` lines of another user's mail on another thread, 1 ms apart from `t` on."""
    return [bes_line(t + timedelta(milliseconds=i), f"New mail has arrived, EntryId={i}", tid=tid, user=OMAR, eid="30085") for i in range(n)]  # fmt: skip


def _reused_key_thread(noise_lines: int) -> list[str]:
    """Kim's key line on thread 0x14D4, then Li's mail on the same thread, then other threads'
    mail, then the KEY_ACCEPT on 0x14D4 at 09:00:30, all within the 5-minute window: the
    KEY_ACCEPT belongs to Kim, whose key the thread generated (README, "Ownership"); Li's mail on
    the pooled thread does not take it over."""
    return [
        bes_line(T0, "Queuing DATA from network@etp3.eu.blackberry.net, Tag=-5, EntryId=4", tid="1AEC", user=KIM),
        bes_line(T0 + timedelta(seconds=1), "Generating 3DES key (this is based on server setting)", tid="14D4", user=KIM),
        bes_line(T0 + timedelta(seconds=1.2), "New mail has arrived, EntryId=812211", tid="14D4", user=LI, eid="30085"),
        *_mail(noise_lines, T0 + timedelta(seconds=2)),
        bes_line(T0 + timedelta(seconds=30), "*** OTAKEYGEN *** sending KEY_ACCEPT transID = 77", tid="14D4"),
        bes_line(T0 + timedelta(minutes=40), "Total Msgs Pending 0", tid="A2C", eid="30000"),
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
        bes_line(T0, "Queuing DATA from network@etp3.eu.blackberry.net, Tag=-5, EntryId=4", tid="1AEC", user=KIM),
        bes_line(T0 + timedelta(seconds=1), "Generating 3DES key (this is based on server setting)", tid="14D4", user=KIM),
        *[bes_line(T0 + timedelta(seconds=1, milliseconds=100 * (i + 1)), f"Polling mailbox, pass={i}", tid="14D4")
          for i in range(399)],
        bes_line(T0 + timedelta(seconds=60), "*** OTAKEYGEN *** sending KEY_ACCEPT transID = 77", tid="14D4"),
        bes_line(T0 + timedelta(minutes=40), "Total Msgs Pending 0", tid="A2C", eid="30000"),
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
        bes_line(T0, "Queuing DATA from network@etp3.eu.blackberry.net, Tag=-5, EntryId=4", tid="1AEC", user=KIM),
        *_mail(noise_lines, T0 + timedelta(seconds=2)),
        bes_line(T0 + timedelta(minutes=20), "Total Msgs Pending 0", tid="A2C", eid="30000"),
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
