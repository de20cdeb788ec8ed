"""``redact`` keeps the diagnosis and drops the people (issue 18).

For generated log sets (hypothesis over `builders.random_world`, every encoding and line end,
pasting damage, glued records, ``--servers`` or not), for ``sample_logs/`` and for the busy day of
three servers with its user map: a scan of the redacted copies gives the same verdicts, stages,
KBs, attempts, milestones and times as a scan of the originals, once the names are read back
through the ``--map-out`` file; and no original address, display name, user id, PIN or IP is left
anywhere in the copies' bytes.  The original tokens are read from the original files with
regexes of this file, written from BES-LOGS.md section 2, not with the tool's own grammar.
"""

from __future__ import annotations

import gzip
import json
import random
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from builders import (
    ENCODINGS,
    LON,
    LON_SITE,
    SAMPLE_LOGS,
    Activation,
    BusyDay,
    Style,
    bes_line,
    damage,
    encode,
    merge,
    physical,
    plain_layout,
    random_world,
    run_cli,
    scan_json,
    text_of,
    unattached_users,
    write_lines,
    write_server,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

PROFILE = settings(max_examples=8, print_blob=True, deadline=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])  # fmt: skip
PYTHON = {"BES_LOGDIAG_ENGINE": "python"}
"""Small folders: hyperscan's start-up would cost more than the scan (as test_invariance does)."""

# ---------------------------------------------------------------------------------------------
# running: redact with a mapping, scan, read back
# ---------------------------------------------------------------------------------------------


def redact(paths: list[Path], out: Path, key: Path, *extra: object) -> dict[str, dict[str, str]]:
    """``redact PATHS -o OUT --key KEY --map-out MAP``: exit code 0 asserted; the mapping."""
    mapping = out.parent / f"{out.name}-map.json"
    result = run_cli("redact", *paths, "-o", out, "--key", key, "--map-out", mapping, "--jobs", "1", *extra)
    assert result.exit_code == 0, (result.stderr, result.stdout)
    doc = json.loads(mapping.read_text(encoding="utf-8"))
    return doc["pseudonyms"]  # type: ignore[no-any-return]


def scan(*args: object) -> dict[str, Any]:
    return scan_json(*args, quiet=True, env=PYTHON)[1]


def back(mapping: dict[str, dict[str, str]], kind: str, value: object) -> str | None:
    """The original of a pseudonym (a value that is no pseudonym is itself)."""
    if value is None:
        return None
    return mapping.get(kind, {}).get(str(value), str(value))


def verdicts(
    report: dict[str, Any], mapping: dict[str, dict[str, str]] | None = None
) -> list[tuple[Any, ...]]:
    """What an admin reads off the report per activation, names read back through `mapping`."""
    m = mapping or {}

    def steps(a: dict[str, Any]) -> tuple[Any, ...]:
        return (
            a["status"], a["stage"], a["kb"], a["last_milestone"], a["next_expected"], a["started"],
            a["last_progress"], a["completed"], tuple(a["missing_logs"]),
            tuple(sorted((x["milestone"], x["time"], x["service"]) for x in a["milestones"])),
            tuple((e["error"], e["time"], e["kb"]) for e in a["errors"]),
            tuple(c["kb"] for c in a["candidates"]),
        )  # fmt: skip

    rows = [
        (
            back(m, "server", a["server"]),
            back(m, "address", a["email"]),
            back(m, "user_id", a["user_id"]),
            back(m, "display_name", a["display_name"]),
            *steps(a),
            tuple(steps(t) for t in a["attempts"]),
            tuple(sorted(j["kind"] for j in a["joins"])),
        )  # fmt: skip
        for a in report["activations"]
    ]
    return sorted(rows, key=repr)


def same_diagnosis(
    base: dict[str, Any], redacted: dict[str, Any], mapping: dict[str, dict[str, str]]
) -> None:
    assert verdicts(redacted, mapping) == verdicts(base)
    assert redacted["summary"] == base["summary"]
    assert {back(mapping, "server", k): v for k, v in redacted["log_end"].items()} == base["log_end"]
    assert len(unattached_users(redacted)) == len(unattached_users(base))
    refused = [n for n in base["notes"] if "not joining" in n]
    assert len([n for n in redacted["notes"] if "not joining" in n]) == len(refused)
    assert redacted["inputs"]["lines"] == base["inputs"]["lines"]


# ---------------------------------------------------------------------------------------------
# the original tokens, and every text the output holds
# ---------------------------------------------------------------------------------------------

_USER_FIELD = re.compile(
    r"\(\d{1,2}/\d{1,2} [\d:.]+\)\s*:?\s*(?:\{\s*0[x×][0-9A-Fa-f]+\s*\}\s*)?(?!\{\s*0[x×])\{([^{}]+)\}"
)
_BRACKET = re.compile(r"\[([^\[\]:]+):(\d+)\]")
_ADDRESS = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
_USER_ID = re.compile(r"UserId\s*=\s*(\d+)")
_PIN = re.compile(r"PIN=([0-9A-Fa-f]{8})")
_IP = re.compile(r"(?<![\w.])(?<!Version )(?:\d{1,3}\.){3}\d{1,3}(?![\w.])")
"""An IPv4 address; a version number (``Version 4.1.6.23``) is none."""
KEPT = ("blackberry.net",)
"""BlackBerry's relay in ``Queuing DATA from network@...``: public, and the milestone names it."""


def read_text(data: bytes) -> str:
    """A file's text as the scan reads it: UTF-16 by its BOM or NULs, else UTF-8, else cp1252 by line."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", "replace")
    if data[1:400:2].count(0) > 50:
        return data.decode("utf-16-le", "replace")
    if data[0:400:2].count(0) > 50:
        return data.decode("utf-16-be", "replace")
    lines = []
    for raw in data.split(b"\n"):
        try:
            lines.append(raw.decode("utf-8"))
        except UnicodeDecodeError:
            lines.append(raw.decode("cp1252", "replace"))
    return "\n".join(lines)


def texts(folder: Path) -> Iterator[tuple[str, str]]:
    """(name, text) of every file below `folder`, of every zip member, gzip data inflated."""
    for p in sorted(folder.rglob("*")):
        if not p.is_file():
            continue
        if p.suffix == ".zip":
            with zipfile.ZipFile(p) as zf:
                for info in zf.infolist():
                    data = zf.read(info)
                    yield (
                        f"{p}!{info.filename}",
                        read_text(gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data),
                    )
            continue
        data = p.read_bytes()
        yield str(p), read_text(gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data)


def original_tokens(folder: Path) -> dict[str, set[str]]:
    """Every address, display name, user id (as the logs write it), PIN and IP of the originals."""
    found: dict[str, set[str]] = {
        "address": set(),
        "display": set(),
        "user_id": set(),
        "pin": set(),
        "ip": set(),
    }
    for _, text in texts(folder):
        for m in _USER_FIELD.finditer(text):
            user = m.group(1).strip()
            found["address" if "@" in user else "display"].add(user)
        for m in _BRACKET.finditer(text):
            if not m.group(1).strip().isdigit():
                found["display"].add(m.group(1).strip())
                found["user_id"].add(f":{m.group(2)}]")
        found["address"] |= {a for a in _ADDRESS.findall(text) if not a.endswith(KEPT)}
        found["user_id"] |= {f"UserId={u}" for u in _USER_ID.findall(text)}
        found["pin"] |= set(_PIN.findall(text))
        found["ip"] |= {ip for ip in _IP.findall(text) if not ip.startswith("127.")}
    return found


def assert_nothing_left(originals: dict[str, set[str]], out: Path) -> None:
    """No original token in any output text (every file, every zip member, gzip data inflated),
    nor in the output's raw bytes (as UTF-8, UTF-16 and cp1252)."""
    text = "\n".join(t for _, t in texts(out))
    raw = b"\n".join(p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file())
    # A PIN is eight hex digits: wherever one stands, it is inside a run of hex digits.  Every
    # eight-digit window of those runs, once, instead of a pass over the text per PIN.
    windows = {run[i : i + 8] for run in re.findall(r"[0-9A-Fa-f]{8,}", text) for i in range(len(run) - 7)}
    for kind, tokens in originals.items():
        for token in tokens:
            if kind == "pin":
                assert token not in windows, (kind, token)
                continue
            assert token not in text, (kind, token)
            for encoded in {token.encode(c, "ignore") for c in ("utf-8", "utf-16-le", "cp1252")}:
                assert encoded not in raw, (kind, token)


@contextmanager
def tmpdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="bes-redact-") as d:
        yield Path(d)


# ---------------------------------------------------------------------------------------------
# generated worlds
# ---------------------------------------------------------------------------------------------

worlds = st.tuples(st.integers(0, 2**32 - 1), st.integers(1, 6), st.sampled_from([2.0, 8.0, 30.0]))
styles = st.builds(
    lambda m, p, s, nl: Style({"MAGT": m, "POLC": p, "SYNC": s}, nl),
    st.sampled_from(ENCODINGS),
    st.sampled_from(ENCODINGS),
    st.sampled_from(ENCODINGS),
    st.sampled_from(["\r\n", "\n"]),
)


def extras(root: Path, seed: int) -> None:
    """A router and a messaging agent log with device PINs, IMEIs, IP addresses, host names and
    mailbox DNs, as other services of the same server write them."""
    rng = random.Random(seed)
    day = "20240312"
    lines = []
    for n in range(40):
        t = f"03/12 09:{n:02d}:{rng.randrange(60):02d}.{rng.randrange(1000):03d}"
        pin = f"{rng.randrange(0x20000000, 0x30000000):08X}"
        ip = f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        lines.append(
            bes_line(t, f"Router: packet from device PIN={pin}, size={rng.randrange(9999)}, from {ip}")
        )
        lines.append(
            bes_line(t, f"Device IMEI=35{rng.randrange(10**12, 10**13)} on host bes{n}.corp.example")
        )
    write_lines(root / day / f"BES_EU_01_ROUT_01_{day}_0001.txt", lines)


def write_world(root: Path, seed: int, n: int, every: float, style: Style, glue: float, quirks: bool) -> None:
    """One server's day of activations and mail flow, as files in one day folder; ``quirks``:
    pasting damage on a share of the lines (the key lines' threads kept: KEY_ACCEPT needs them)."""
    world = random_world(seed, n, noise_every=every)
    rng = random.Random(seed)
    for rel, lines in plain_layout(world, physical(world.recs, random.Random(seed), glue)).items():
        records = [text_of(x) for x in lines]
        if quirks:
            records = damage(records, rng, key_safe=True)
        service = rel.rsplit("/", 1)[-1].split("_")[-4]
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(
            encode("".join(r + style.newline for r in records), style.encodings[service], "replace")
        )


@PROFILE
@given(w=worlds, style=styles, glue=st.sampled_from([0.0, 0.05]), quirks=st.booleans(), servers=st.booleans())
def test_a_redacted_world_gives_the_same_verdicts_and_holds_no_original(
    w, style, glue, quirks, servers
) -> None:  # type: ignore[no-untyped-def]
    seed, n, every = w
    with tmpdir() as tmp:
        root = tmp / "logs"
        write_world(root, seed, n, every, style, glue, quirks)
        extras(root, seed)
        base = scan(root)
        mapping = redact([root], tmp / "out", tmp / "key", *(["--servers"] if servers else []))
        same_diagnosis(base, scan(tmp / "out"), mapping)
        assert_nothing_left(original_tokens(root), tmp / "out")


# ---------------------------------------------------------------------------------------------
# the sample logs and the busy day
# ---------------------------------------------------------------------------------------------


def test_the_redacted_sample_logs_give_the_sample_verdicts(tmp_path: Path) -> None:
    base = scan(SAMPLE_LOGS)
    mapping = redact([SAMPLE_LOGS], tmp_path / "out", tmp_path / "key", "--servers")
    same_diagnosis(base, scan(tmp_path / "out"), mapping)
    assert_nothing_left(original_tokens(SAMPLE_LOGS), tmp_path / "out")
    assert not any("BBPROD01" in str(p) or "BES_EAST_02" in str(p) for p in (tmp_path / "out").rglob("*"))


def test_the_busy_day_and_its_user_map_redacted_join_and_diagnose_the_same(
    busy_world: BusyDay,
    busy_logs: Path,
    busy_maps: tuple[Path, Path],
    busy_report: tuple[int, dict[str, Any], str],
) -> None:
    with tmpdir() as tmp:
        mapping = redact([busy_logs], tmp / "out", tmp / "key", "--users", busy_maps[0])
        redacted_map = tmp / "out" / busy_maps[0].name
        assert redacted_map.read_bytes()[:2] == busy_maps[0].read_bytes()[:2]  # (UTF-16, its BOM)
        redacted = scan(tmp / "out" / busy_logs.name, "--users", redacted_map)
        same_diagnosis(busy_report[1], redacted, mapping)
        assert (
            sum(j == "map" for row in verdicts(redacted) for j in row[-1])
            == sum(j == "map" for row in verdicts(busy_report[1]) for j in row[-1])
            > 0
        )
        originals = original_tokens(busy_logs)
        originals["address"] |= {u.email for u in busy_world.users}
        originals["display"] |= {u.display for u in busy_world.users}
        assert_nothing_left(originals, tmp / "out")


def test_a_display_name_with_a_bracketed_tag_is_replaced_whole(tmp_path: Path) -> None:
    """``[Dundas, Ian [EXT]:2573]``: the name, tag and all, and the id get pseudonyms (it was left
    in place, the user's real name in the shared logs), and the redacted logs still complete
    his activation."""
    logs = tmp_path / "logs"
    t0 = datetime(2014, 5, 6, 9, 0, 0)
    write_server(
        logs, LON, Activation("ian.dundas@example.com", 2573, "Dundas, Ian [EXT]", t0, site=LON_SITE).parts()
    )
    base = scan(logs)
    assert [a["status"] for a in base["activations"]] == ["complete"]
    mapping = redact([logs], tmp_path / "out", tmp_path / "key")
    same_diagnosis(base, scan(tmp_path / "out"), mapping)
    text = "\n".join(t for _, t in texts(tmp_path / "out"))
    assert "Dundas" not in text and ":2573]" not in text
    assert "Dundas, Ian [EXT]" in mapping["display_name"].values()


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (("ian.dundas@example.com", "Dundas, Ian J. [EXT]"), ("john.smith@example.com", "John Smith Jr.")),
        (("ian.obrien@example.com", "O'Brien, Ian"), ("john.darcy@example.com", "D'Arcy, John")),
    ],
)
def test_names_with_initials_suffixes_and_tags_still_join_by_shape_when_redacted(
    tmp_path: Path, first: tuple[str, str], second: tuple[str, str]
) -> None:
    """Two users in the same minute, joined only by the shape of their addresses against names
    with a middle initial, a suffix, a tag or an apostrophe: the pseudonyms keep that shape, so
    the redacted logs join and diagnose them alike, and hold none of the names."""
    logs = tmp_path / "logs"
    t0 = datetime(2014, 5, 6, 9, 0, 0)
    ian = Activation(first[0], 2573, first[1], t0, site=LON_SITE)
    john = Activation(second[0], 2574, second[1], t0 + timedelta(seconds=2), site=LON_SITE)
    write_server(logs, LON, merge(ian.parts(), john.parts()))
    base = scan(logs)
    assert [a["status"] for a in base["activations"]] == ["complete", "complete"]
    mapping = redact([logs], tmp_path / "out", tmp_path / "key")
    same_diagnosis(base, scan(tmp_path / "out"), mapping)
    text = "\n".join(t for _, t in texts(tmp_path / "out"))
    gone = ("Dundas", "Smith", "Brien", "Arcy", "Ian", "John", ":2573]", "=2574")
    assert [w for w in gone if w in text] == []


def test_two_mailboxes_whose_addresses_fold_alike_stay_two_when_redacted(tmp_path: Path) -> None:
    """``joerg.meier@`` and ``jörg.meier@``, ``siobhan.obrien@`` and ``siobhan.o'brien@``: four
    mailboxes, four activations (one of each pair completes, the other stalls).  The pseudonyms
    made each pair one address, and the redacted scan two activations: the completed ones gone,
    and the map and ``--reverse`` naming one of each pair for both."""
    logs = tmp_path / "logs"
    t0 = datetime(2014, 5, 6, 9, 0, 0)
    users = [  # (the stalled ones first: the later lines end their stage 1 by its threshold)
        ("jörg.meier@example.com", "Meier, Jörg", "etp"),
        ("siobhan.o'brien@example.com", "O'Brien, Siobhan", "etp"),
        ("joerg.meier@example.com", "Meier, Joerg", "complete"),
        ("siobhan.obrien@example.com", "Obrien, Siobhan", "complete"),
    ]
    parts = [
        Activation(email, 3001 + i, name, t0 + timedelta(minutes=20 * i), upto=upto, site=LON_SITE).parts()
        for i, (email, name, upto) in enumerate(users)
    ]
    write_server(logs, LON, merge(*parts))
    base = scan(logs)
    assert sorted(a["status"] for a in base["activations"]) == ["complete", "complete", "stalled", "stalled"]
    mapping = redact([logs], tmp_path / "out", tmp_path / "key")
    same_diagnosis(base, scan(tmp_path / "out"), mapping)
    assert sorted(mapping["address"].values()) == sorted(u[0] for u in users)


def test_the_same_key_gives_the_same_copies_and_another_key_others(tmp_path: Path) -> None:
    logs = SAMPLE_LOGS / "BBPROD01" / "20231231"
    redact([logs], tmp_path / "a", tmp_path / "key")
    redact([logs], tmp_path / "b", tmp_path / "key")
    redact([logs], tmp_path / "c", tmp_path / "other.key")
    for p in (tmp_path / "a").rglob("*.txt"):
        twin = tmp_path / "b" / p.relative_to(tmp_path / "a")
        assert p.read_bytes() == twin.read_bytes()
        other = (tmp_path / "c" / p.relative_to(tmp_path / "a")).read_bytes()
        named = p.read_bytes() != (logs / p.name).read_bytes()  # (the DISP log names nobody)
        assert (p.read_bytes() != other) == named
    key = (tmp_path / "key").read_bytes()
    assert all(key[-40:] not in p.read_bytes() for p in (tmp_path / "a").rglob("*") if p.is_file())


def test_gzip_and_zip_inputs_redact_to_the_same_verdicts(tmp_path: Path) -> None:
    logs = tmp_path / "in"
    shutil.copytree(SAMPLE_LOGS / "BBPROD01", logs / "BBPROD01")
    day = logs / "BBPROD01" / "20231231"
    for p in sorted(day.glob("*.txt")):
        p.with_name(p.name + ".gz").write_bytes(gzip.compress(p.read_bytes()))
        p.unlink()
    other = logs / "BBPROD01" / "20240101"
    with zipfile.ZipFile(logs / "BBPROD01" / "20240101.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(other.glob("*.txt")):
            zf.write(p, f"20240101/{p.name}")
    shutil.rmtree(other)
    base = scan(logs)
    mapping = redact([logs], tmp_path / "out", tmp_path / "key")
    same_diagnosis(base, scan(tmp_path / "out"), mapping)
    assert_nothing_left(original_tokens(logs), tmp_path / "out")


def test_the_leak_check_finds_a_name_left_in_place(tmp_path: Path) -> None:
    """The check above can fail: on a copy where one address was left, it does."""
    day = tmp_path / "logs"
    shutil.copytree(SAMPLE_LOGS / "BBPROD01" / "20231230", day)
    redact([day], tmp_path / "out", tmp_path / "key")
    assert_nothing_left(original_tokens(day), tmp_path / "out")
    copy = next((tmp_path / "out").rglob("*_MAGT_01_*"))
    copy.write_bytes(
        copy.read_bytes() + b"[30085] (12/30 23:59:59.000):{0x1} {carla.costa@example.com} x\r\n"
    )
    with pytest.raises(AssertionError, match="carla.costa@example.com"):
        assert_nothing_left(original_tokens(day), tmp_path / "out")
