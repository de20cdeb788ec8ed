"""Bad input gets a clear word, nothing is lost, nothing hangs (issue 5)."""

from __future__ import annotations

import gzip
import io
import json
import random
import shutil
import tempfile
import time
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
import regex
from builders import SAMPLE_LOGS, run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bes_logdiag.filescan import scan_source
from bes_logdiag.library import MATCH_TIMEOUT, Pattern, load_library
from bes_logdiag.match import Matcher
from bes_logdiag.read import Source, file_info

GOOD_DAY = SAMPLE_LOGS / "BES_EAST_02" / "20231230"  # peter.novak@example.com completes that day
MAGT = SAMPLE_LOGS / "BBPROD01" / "20231230" / "BBPROD01_MAGT_01_20231230_0001.txt"


@pytest.fixture()
def bad_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "ticket 4711"
    shutil.copytree(GOOD_DAY, folder)
    rnd = random.Random(7)
    (folder / "random.bin").write_bytes(bytes(rnd.randrange(256) for _ in range(4000)))
    (folder / "empty.txt").write_bytes(b"")
    (folder / "nul.txt").write_bytes(b"\0" * 5000)
    (folder / "fake.zip").write_bytes(b"PK\x03\x04 not really a zip archive")
    text = MAGT.read_bytes()
    packed = gzip.compress(text)
    (folder / "BBPROD01_MAGT_01_20231230_0001.txt.gz").write_bytes(packed[: len(packed) // 2])
    (folder / "BBPROD01_SYNC_01_20231230_0001.txt").write_bytes(
        b"\xff\xfe" + text[:4000].decode("utf-8").encode("utf-16-le")
    )
    return folder


def test_a_folder_of_bad_files_still_gives_the_good_verdict(bad_folder: Path) -> None:
    result = run_cli("scan", bad_folder, "-f", "json")
    assert "Traceback" not in result.stderr + result.stdout
    report = json.loads(result.stdout)
    novak = [a for a in report["activations"] if a["email"] == "peter.novak@example.com"]
    assert [(a["status"], a["stage"]) for a in novak] == [("complete", 4)]
    skipped = {Path(s["path"]).name: s["reason"] for s in report["inputs"]["skipped"]}
    assert skipped["random.bin"].startswith("not a BES log")
    assert skipped["nul.txt"].startswith("not a BES log")
    assert skipped["empty.txt"] == "empty file"
    assert skipped["fake.zip"].startswith("not a readable zip archive")
    assert "truncated gzip" in skipped["BBPROD01_MAGT_01_20231230_0001.txt.gz"]
    for name in skipped:
        assert sum(name in ln for ln in result.stderr.splitlines()) >= 1, name
    read = {Path(f["path"]).name: f for f in report["inputs"]["files"]}
    assert read["BBPROD01_SYNC_01_20231230_0001.txt"]["encoding"] == "utf-16-le"
    assert read["BBPROD01_MAGT_01_20231230_0001.txt.gz"]["lines"] > 100, "the readable part is analysed"
    assert any("BBPROD01_MAGT_01_20231230_0001.txt.gz breaks off at" in n for n in report["notes"])


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (b"\0" * 3000, "3,000 NUL bytes from line {n}"),
        (
            b"[40000] (12/30 10:00:00.000):{0x1} \x81\x8d bad \x9d",
            "3 bytes that are neither UTF-8 nor cp1252 from line {n}",
        ),
        (b"x" * (3 * 1024 * 1024), "a line over 1 MiB long at line {n}"),
    ],
    ids=["nul", "undecodable", "megabyte-line"],
)
def test_damage_inside_a_good_file_is_named_with_its_line(tmp_path: Path, damage: bytes, reason: str) -> None:
    lines = MAGT.read_bytes().split(b"\n")
    n = len(lines) // 3
    (tmp_path / MAGT.name).write_bytes(b"\n".join([*lines[:n], damage, *lines[n:]]))
    plain = json.loads(run_cli("scan", MAGT, "-f", "json").stdout)
    result = run_cli("scan", tmp_path / MAGT.name, "-f", "json")
    report = json.loads(result.stdout)
    expected = reason.format(n=n + 1)
    [skip] = report["inputs"]["skipped"]
    assert skip["reason"].startswith(expected) and skip["partial"] is True
    assert f"{MAGT.name}: partly skipped: {expected}" in result.stderr
    assert report["inputs"]["files"][0]["lines"] == len(lines)  # the damage is one line more; split adds one
    verdicts = [(a["email"], a["status"], a["stage"], a["kb"]) for a in report["activations"]]
    assert verdicts == [(a["email"], a["status"], a["stage"], a["kb"]) for a in plain["activations"]]


def test_a_clean_cp1252_file_is_not_damage(tmp_path: Path) -> None:
    text = MAGT.read_text(encoding="utf-8") + "[40000] (12/30 23:59:00.000):{0x1} Müller, Jürgen – café\n"
    (tmp_path / MAGT.name).write_bytes(text.encode("cp1252"))
    report = json.loads(run_cli("scan", tmp_path, "-f", "json").stdout)
    assert report["inputs"]["skipped"] == []


def test_strict_turns_a_skip_into_exit_2(bad_folder: Path) -> None:
    result = run_cli("scan", bad_folder, "--strict", "-q")
    assert result.exit_code == 2
    assert result.stderr.startswith("bes-logdiag: error: --strict:")


def test_nothing_readable_exits_2(tmp_path: Path) -> None:
    (tmp_path / "a.bin").write_bytes(b"\x00\x01\x02" * 100)
    result = run_cli("scan", tmp_path)
    assert result.exit_code == 2
    assert "nothing could be read" in result.stderr and "a.bin" in result.stderr


def test_no_traceback_reaches_the_user(monkeypatch: pytest.MonkeyPatch) -> None:
    import bes_logdiag.scan

    def boom(*a: object, **k: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(bes_logdiag.scan, "run_scan", boom)
    result = run_cli("scan", SAMPLE_LOGS)
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "bes-logdiag: error: internal error: RuntimeError: disk on fire (run with --debug for details)"
    )
    debug = run_cli("scan", SAMPLE_LOGS, "--debug")
    assert "Traceback" in debug.stderr and debug.exit_code == 2


HOSTILE = """
[[pattern]]
id = "site.hostile"
stage = 1
milestone = "etp_received"
prefilter = ["Queuing"]
regex = '''Queuing (a|aa|aaa)+b'''
examples = ['''[40000] (05/21 06:51:39):{0x1} {a@b.c} Queuing aab''']
"""


def test_a_catastrophic_pattern_is_refused_by_id(tmp_path: Path) -> None:
    (tmp_path / "site.toml").write_text(HOSTILE)
    start = time.monotonic()
    result = run_cli("scan", SAMPLE_LOGS, "--patterns", tmp_path)
    assert time.monotonic() - start < 30
    assert result.exit_code == 2
    assert f"{tmp_path / 'site.toml'}: pattern site.hostile: the regex takes over" in result.stderr
    check = run_cli("patterns", "check", "--patterns", tmp_path)
    assert check.exit_code == 1 and "pattern site.hostile" in check.stdout


def test_a_pattern_that_runs_away_mid_scan_is_dropped() -> None:
    p = Pattern(id="site.slow", regex=regex.compile(r"(a|aa|aaa)+b"), source="x.toml", prefilter=(b"aaa",))
    matcher = Matcher(load_library())
    dropped: dict[str, str] = {}
    start = time.monotonic()
    assert matcher.search(p, "a" * 60, dropped) is None
    first = time.monotonic() - start
    assert first >= MATCH_TIMEOUT * 0.9
    start = time.monotonic()
    assert matcher.search(p, "a" * 60) is None
    assert time.monotonic() - start < 0.01, "dropped after the first timeout"
    assert "site.slow" in matcher.runaway and "site.slow" in dropped
    assert Matcher(load_library()).runaway == {}, "a new scan's matcher starts with none dropped"


SNEAKY = """
[[pattern]]
id = "site.sneaky"
milestone = "slowsync_progress"
opens_attempt = false
prefilter = ["Count="]
regex = '''Count=(\\d|\\d\\d)+Z'''
examples = ['''[40000] (05/21 06:51:39):{0x1} {a@b.c} Count=12Z''']
"""


def test_a_pattern_that_slips_past_the_load_check_is_named_and_the_scan_goes_on(tmp_path: Path) -> None:
    (tmp_path / "site.toml").write_text(SNEAKY)
    logs = tmp_path / "logs"
    shutil.copytree(GOOD_DAY, logs)
    hostile_line = "[40000] (12/30 23:59:00):{0x1} Count=" + "1" * 60 + "!Z\n"
    with (logs / "BES_EAST_02_MAGT_01_20231230_0001.txt").open("a", encoding="utf-8") as f:
        f.write(hostile_line * 50)
    start = time.monotonic()
    result = run_cli("scan", logs, "--patterns", tmp_path, "-f", "json", "--jobs", "1")
    assert time.monotonic() - start < 30, "dropped after one timeout, not paid on all 50 lines"
    report = json.loads(result.stdout)
    novak = [a["status"] for a in report["activations"] if a["email"] == "peter.novak@example.com"]
    assert novak == ["complete"]
    assert any("pattern site.sneaky ran longer than" in n for n in report["notes"])
    assert "pattern site.sneaky ran longer than" in result.stderr


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[pattern]\n", "invalid TOML"),
        ("[[pattern]]\nid = 'site.x'\nregex = '''(open'''\n", "pattern site.x: invalid regex"),
    ],
)
def test_broken_custom_patterns_exit_2_naming_file_and_id(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "site.toml").write_text(text)
    result = run_cli("scan", SAMPLE_LOGS, "--patterns", tmp_path)
    assert result.exit_code == 2
    line = result.stderr.strip()
    assert "\n" not in line and str(tmp_path / "site.toml") in line and message in line


def _milestones(stdout: str) -> list[tuple[str, str, str]]:
    return sorted(
        (a["email"], m["milestone"], m["time"])
        for a in json.loads(stdout)["activations"]
        for at in [a, *a["attempts"]]
        for m in at["milestones"]
    )


def test_the_same_logs_twice_give_no_duplicates(tmp_path: Path) -> None:
    once = run_cli("scan", GOOD_DAY, "-q", "-f", "json").stdout
    shutil.copytree(GOOD_DAY, tmp_path / "copy" / "20231230")
    with zipfile.ZipFile(tmp_path / "ticket.zip", "w") as zf:
        for f in GOOD_DAY.iterdir():
            zf.write(f, f"20231230/{f.name}")
    for f in GOOD_DAY.iterdir():
        shutil.copy(f, tmp_path / f"{f.name}")
    result = run_cli("scan", GOOD_DAY, GOOD_DAY, tmp_path, "-q", "-f", "json")
    assert _milestones(result.stdout) == _milestones(once)


def test_lines_out_of_order_within_a_file(tmp_path: Path) -> None:
    lines = MAGT.read_text(encoding="utf-8").splitlines()
    random.Random(3).shuffle(lines)
    (tmp_path / MAGT.name).write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    result = run_cli("timeline", "anna.berg@example.com", tmp_path, "-q", "-f", "json")
    steps = json.loads(result.stdout)["milestones"]
    assert [s["time"] for s in steps] == sorted(s["time"] for s in steps)
    assert all(s["since_previous_seconds"] is None or s["since_previous_seconds"] >= 0 for s in steps)


def test_spaces_and_non_ascii_in_paths(tmp_path: Path) -> None:
    folder = tmp_path / "Jürgen's logs" / "BES 2023" / "20231230"
    shutil.copytree(GOOD_DAY, folder)
    result = run_cli("scan", tmp_path / "Jürgen's logs", "-q", "-f", "json")
    assert result.exit_code == 0
    acts = json.loads(result.stdout)["activations"]
    assert [a["email"] for a in acts] == ["peter.novak@example.com"]
    assert "Jürgen's logs" in acts[0]["milestones"][0]["file"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=5000))
def test_arbitrary_bytes_never_make_the_reader_raise(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "BB01_MAGT_01_20100521_0001.txt"
    path.write_bytes(data)
    src = Source(name=str(path), path=str(path), info=file_info(str(path)))
    result = scan_source(
        src, Matcher(load_library()), year=None, default_year=2010, thread_window=timedelta(minutes=5)
    )
    assert result.stats.skipped is not None or result.stats.lines >= 0


_bes_ish = st.lists(
    st.one_of(
        st.binary(max_size=200),
        st.sampled_from(
            [
                b"[40000] (05/21 06:51:39):{0x14D4} {a.b@c.d} Generating 3DES key\r\n",
                b"[40000] (05/21 06:51:39):{0x14D4} *** OTAKEYGEN *** sending KEY_ACCEPT transID = 1\r\n",
                b"(13/99 99:99:99):{0xZZ} Queuing DATA from network@\r\n",
                b'[46046] (05/21 06:52:24):{0x1294} [SYNC-DSession] Received "GetConfig" command from device. [:]\r\n',
            ]
        ),
    ),
    max_size=30,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(files=st.lists(_bes_ish, min_size=1, max_size=4))
def test_random_files_in_a_folder_never_crash_a_scan(tmp_path: Path, files: list[list[bytes]]) -> None:
    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    for i, parts in enumerate(files):
        (folder / f"BB01_MAGT_01_20100521_{i:04d}.txt").write_bytes(b"".join(parts))
    result = run_cli("scan", folder, "-q", "-f", "json", "-j", "1")
    assert result.exit_code in (0, 1, 2), result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr


def test_a_broken_utf16_character_is_named(tmp_path: Path) -> None:
    text = MAGT.read_text(encoding="utf-8")
    body = text.encode("utf-16-le")
    cut = len(body) // 2 // 2 * 2
    (tmp_path / MAGT.name).write_bytes(
        b"\xff\xfe" + body[:cut] + b"\x00\xd8" + body[cut:]
    )  # a lone surrogate
    result = run_cli("scan", tmp_path, "-f", "json")
    [skip] = json.loads(result.stdout)["inputs"]["skipped"]
    assert skip["reason"] == "invalid UTF-16-LE in 1 place(s), read as U+FFFD" and skip["partial"]


def _zip_with_damage(folder: Path, damage: str) -> Path:
    """A zip of the good day whose MAGT member is damaged as a real archive can be."""
    archive = folder / "ticket.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(GOOD_DAY.iterdir()):
            zf.write(f, f"20231230/{f.name}")
    data = bytearray(archive.read_bytes())
    with zipfile.ZipFile(archive) as zf:
        info = next(i for i in zf.infolist() if "_MAGT_" in i.filename)
    central = data.index(b"PK\x01\x02")  # the central directory entry of that member
    while data[central + 46 : central + 46 + len(info.filename)] != info.filename.encode():
        central = data.index(b"PK\x01\x02", central + 4)
    local = info.header_offset
    if damage == "encrypted":  # flag bit 0: a password is needed
        data[central + 8] |= 1
        data[local + 6] |= 1
    elif damage == "deflate64":  # method 9, which Windows Explorer writes for big files
        data[central + 10 : central + 12] = (9).to_bytes(2, "little")
        data[local + 8 : local + 10] = (9).to_bytes(2, "little")
    elif damage == "crc":
        data[central + 16 : central + 20] = (info.CRC ^ 0xFFFF).to_bytes(4, "little")
        data[local + 14 : local + 18] = (info.CRC ^ 0xFFFF).to_bytes(4, "little")
    elif damage == "deflate":  # garbage in the middle of the compressed stream
        start = local + 30 + len(info.filename) + len(info.extra)
        middle = start + info.compress_size // 2
        data[middle : middle + 64] = bytes(range(64))
    archive.write_bytes(bytes(data))
    return archive


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        ("encrypted", "is encrypted"),
        ("deflate64", "compression method is not supported"),
        ("crc", "bad crc-32"),
        ("deflate", ("while decompressing data", "bad crc-32")),  # whichever zlib notices first
    ],
)
def test_a_damaged_zip_member_is_named_and_the_rest_of_the_archive_analysed(
    tmp_path: Path, damage: str, reason: str | tuple[str, ...]
) -> None:
    archive = _zip_with_damage(tmp_path, damage)
    result = run_cli("scan", archive, "-f", "json")
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    report = json.loads(result.stdout)
    [skip] = [s for s in report["inputs"]["skipped"] if "_MAGT_" in s["path"]]
    reasons = (reason,) if isinstance(reason, str) else reason
    assert skip["path"].startswith(f"{archive}!") and any(r in skip["reason"].lower() for r in reasons)
    assert f"{skip['path']}: " in result.stderr
    read = [Path(f["path"]).name for f in report["inputs"]["files"]]
    assert any("_SYNC_" in n for n in read) and any("_POLC_" in n for n in read)
    assert result.exit_code in (0, 1)
    if damage == "crc":  # every byte is there, only its checksum is wrong: every line is read
        assert skip["partial"] is True
        [member] = [f for f in report["inputs"]["files"] if f["path"] == skip["path"]]
        name = skip["path"].rsplit("/", 1)[-1]
        assert member["lines"] == (GOOD_DAY / name).read_bytes().count(b"\n")


def test_a_gzip_with_a_bad_checksum_keeps_all_it_could_read(tmp_path: Path) -> None:
    packed = bytearray(gzip.compress(MAGT.read_bytes()))
    packed[-8] ^= 0xFF  # the CRC-32 in the trailer: every data byte is intact
    path = tmp_path / f"{MAGT.name}.gz"
    path.write_bytes(bytes(packed))
    result = run_cli("scan", path, "-f", "json")
    report = json.loads(result.stdout)
    [skip] = report["inputs"]["skipped"]
    assert skip["partial"] is True and "incorrect data check" in skip["reason"]
    assert report["inputs"]["files"][0]["lines"] == MAGT.read_bytes().count(b"\n")


def test_a_folder_that_cannot_be_listed_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    shutil.copytree(GOOD_DAY, tmp_path / "good")
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / MAGT.name).write_bytes(MAGT.read_bytes())
    real_scandir = os.scandir

    def scandir(path: object = ".") -> object:
        if Path(str(path)) == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "scandir", scandir)
    result = run_cli("scan", tmp_path, "-f", "json")
    report = json.loads(result.stdout)
    assert {
        "path": str(locked),
        "reason": "cannot list this folder: permission denied",
        "partial": False,
    } in (report["inputs"]["skipped"])
    assert f"{locked}: skipped: cannot list this folder: permission denied" in result.stderr
    alone = run_cli("scan", locked)
    assert (
        alone.exit_code == 2 and "permission denied" in alone.stderr and "holds no files" not in alone.stderr
    )


def test_strict_still_writes_the_report(bad_folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.xml"
    result = run_cli("scan", bad_folder, "--strict", "-q", "-f", "junit", "-o", out)
    assert result.exit_code == 2
    assert "peter.novak@example.com" in out.read_text(encoding="utf-8")
    assert result.stderr.startswith("bes-logdiag: error: --strict: ")


def test_gzip_data_is_read_whatever_its_name_and_from_stdin(tmp_path: Path) -> None:
    packed = gzip.compress(MAGT.read_bytes())

    def verdicts(result: object) -> list[tuple[str, str, int, str]]:
        acts = json.loads(result.stdout)["activations"]  # type: ignore[attr-defined]
        return [(a["email"], a["status"], a["stage"], a["started"]) for a in acts]

    plain = verdicts(run_cli("scan", MAGT, "-f", "json"))
    renamed = tmp_path / "20231230" / "BBPROD01_MAGT_01_20231230_0001.txt"  # a .gz saved as .txt
    renamed.parent.mkdir()
    renamed.write_bytes(packed)
    assert plain and verdicts(run_cli("scan", renamed, "-f", "json")) == plain
    assert verdicts(run_cli("scan", "-", "--year", "2023", "-f", "json", input=packed)) == plain


def test_a_zip_inside_a_zip_is_named_not_guessed_at(tmp_path: Path) -> None:
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as zf:
        zf.write(MAGT, MAGT.name)
    outer = tmp_path / "ticket.zip"
    with zipfile.ZipFile(outer, "w") as zf:
        zf.writestr("logs.zip", inner.getvalue())
        zf.write(MAGT, MAGT.name)
    result = run_cli("scan", outer, "-f", "json")
    [skip] = json.loads(result.stdout)["inputs"]["skipped"]
    assert skip["path"] == f"{outer}!logs.zip" and "unpack it first" in skip["reason"]


@pytest.mark.parametrize("fragment", [b"[40000] (01/01 23:5", b"abc"])
def test_a_cut_off_last_line_does_not_move_the_end_of_the_logs(tmp_path: Path, fragment: bytes) -> None:
    # A copy taken while BES writes ends in half a line: the verdicts are those of the whole lines.
    copy = tmp_path / "logs"
    shutil.copytree(SAMPLE_LOGS, copy)
    for f in copy.rglob("*_20240101_*.txt"):
        f.write_bytes(f.read_bytes() + fragment)
    whole = json.loads(run_cli("scan", SAMPLE_LOGS, "-f", "json", "-q").stdout)
    cut = json.loads(run_cli("scan", copy, "-f", "json", "-q").stdout)
    assert cut["log_end"] == whole["log_end"]
    assert [(a["email"], a["status"], a["kb"]) for a in cut["activations"]] == [
        (a["email"], a["status"], a["kb"]) for a in whole["activations"]
    ]
    assert all(f["last_time"] is not None for f in cut["inputs"]["files"])
