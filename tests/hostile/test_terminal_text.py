"""Hostile text on a terminal (STYLE.md point 15): log lines, addresses, display names, server
names taken from file names, a user map, an admin's pattern file and a presence config carry
escape sequences (clear screen and scrollback, OSC 0 window title, OSC 8 link, colours, ESC c),
8-bit C1 controls, a right-to-left override and rich markup.  Every output for people shows
them as escapes and obeys none; the JSON keeps them exactly; and in a real pseudo-terminal the
only escape sequences that arrive are rich's own colours."""

from __future__ import annotations

import dataclasses
import io
import json
import re
import sys
import unicodedata
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from builders import (
    TRUSTED_SETTINGS,
    Activation,
    bes_line,
    dotnet_config,
    host,
    mailbox_error_text,
    merge,
    presence_cli,
    run_cli,
    run_in_terminal,
    swap,
    write_server,
    write_user_map,
)

from bes_logdiag.render.safe import json_safe, terminal

CLEAR = "\x1b[2J\x1b[3J"  # erase the screen and the scrollback
TITLE = "\x1b]0;pwned\x07"  # OSC 0: the window title
LINK = "\x1b]8;;http://evil.example/\x07click\x1b]8;;\x07"  # OSC 8: a hyperlink
COLOUR = "\x1b[31;1m"
RESET = "\x1bc"  # RIS: reset the terminal
RLO = "\u202e"  # right-to-left override
C1 = "\x9b2J"  # the 8-bit CSI: erase the screen
C1_TITLE = "\x9d0;pwned\x07"  # the 8-bit OSC
MARKUP = "[reverse blink]"

RAW = ("\x1b", "\x9b", "\x9d", "\x07", "\u202e")
"""What must never reach a terminal raw."""

SERVER = f"EV{MARKUP}IL{CLEAR}{TITLE}{RLO}{C1}"
"""A server name as its files' names give it (BES-LOGS.md section 1)."""
MALLORY = f"mal{CLEAR}lory{RLO}@ex{MARKUP}ample.com"
DN = f"/o=EU{TITLE}{LINK}{COLOUR}{MARKUP}{C1}"
"""The MailboxDN of Mallory's failed activation: the message of an error line."""
EVE = f"eve{RLO}{MARKUP}@corp.example"
EVE_NAME = f"Eve{MARKUP}{RLO}"
"""Eve's display name, from the user map (which refuses C0 controls, not these)."""
ZED_NAME = f"Zed{RESET}{C1}{C1_TITLE}{RLO}, Bob"
"""Zed's display name, from the GetConfig line (brackets cannot be in it there)."""
ANN = "ann.lee@corp.example"
ADMIN_TITLE = f"Mailbox gone{CLEAR}{TITLE} {MARKUP}{RLO}{C1}"
"""The title of an admin's error pattern: a scan's reason quotes it."""
HOSTILE_FAILURE = f"Hostile failure {COLOUR}{LINK}"
JUNK = f"junk{CLEAR}.txt"
"""Not a log: skipped, with a line on stderr that names it."""
PATTERN_FILE = f"site{TITLE}[blink].toml"

ADMIN_PATTERN = f"""
[[pattern]]
id = "site.hostile-failure"
title = {json.dumps(ADMIN_TITLE)}
service = "MAGT"
stage = 1
error = "mailbox_not_reachable"
kb = "KB02276"
level = "error"
regex = '''Hostile\\s+failure'''
examples = ['''[20000] (05/21 06:40:02.315):{{0x1B44}} {{anna.berg@example.net}} Hostile failure here''']
"""

SGR = re.compile(r"\x1b\[[0-9;]*m")


def assert_inert(text: str) -> None:
    """No control, escape or bidi character of the data arrived raw."""
    for c in RAW:
        assert c not in text, (c, text[max(0, text.find(c) - 80) : text.find(c) + 80])


def flat(text: str) -> str:
    """Runs of white space as one space: wrapped lines read as one."""
    return " ".join(text.split())


def shown(text: str) -> str:
    return flat(terminal(text))


def strings(doc: Any) -> Iterator[str]:
    """Every string in a JSON document."""
    if isinstance(doc, str):
        yield doc
    elif isinstance(doc, dict):
        for v in doc.values():
            yield from strings(v)
    elif isinstance(doc, list):
        for v in doc:
            yield from strings(v)


@dataclasses.dataclass(frozen=True)
class World:
    logs: Path
    users: Path
    patterns: Path
    bad_patterns: Path


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    """One server named SERVER: Mallory fails on a mailbox error quoting DN, Eve (named by the map)
    and Zed (named by his GetConfig line) stall, Ann fails on the admin's pattern; a
    junk file beside them; the admin's pattern file; a pattern file whose counter-example fails."""
    root = tmp_path_factory.mktemp("hostile")
    t0 = datetime(2024, 3, 12, 9, 0)
    e = t0 + timedelta(seconds=20)
    mallory = Activation(MALLORY, 4711, "-", t0, upto="etp").parts()
    mallory["MAGT"].append((e, bes_line(e, mailbox_error_text(DN), tid="21AC", user=MALLORY, eid=20400)))
    eve = Activation(EVE, 5120, "Eve", t0 + timedelta(minutes=5), upto="policy").parts()
    zed = Activation(
        "zed@corp.example", 6060, ZED_NAME, t0 + timedelta(minutes=9), upto="getconfig",
        etp_tid="1AED", key_tid="14D5", books_tid="1AA9", polc_tid="E2C", sync_tid="12A4",
    ).parts()  # fmt: skip
    t1 = t0 + timedelta(minutes=20)
    ann = Activation(ANN, 7070, "-", t1, upto="etp", etp_tid="1AEE").parts()
    f = t1 + timedelta(seconds=30)
    ann["MAGT"].append((f, bes_line(f, HOSTILE_FAILURE, tid="1B44", user=ANN, eid=20000)))
    end = t0 + timedelta(hours=3)
    tail = {
        svc: [(end, bes_line(end, "Total Msgs Pending 0", tid="A2C", eid=30000))]
        for svc in ("MAGT", "POLC", "SYNC")
    }
    logs = root / "logs"
    write_server(logs, SERVER, merge(mallory, eve, zed, ann, tail))
    (logs / JUNK).write_bytes(b"\x00\x01 not a log\n")
    users = write_user_map(root / "users.csv", [(EVE, 5120, EVE_NAME)])
    patterns = root / "patterns"
    patterns.mkdir()
    (patterns / PATTERN_FILE).write_text(ADMIN_PATTERN, encoding="utf-8")
    bad = root / "bad_patterns"
    bad.mkdir()
    counter = json.dumps(
        f"[20000] (05/21 06:40:02.315):{{0x1B44}} {{a@b.example}} Hostile failure {CLEAR}{RLO}"
    )
    (bad / "bad.toml").write_text(ADMIN_PATTERN + f"counter_examples = [{counter}]\n", encoding="utf-8")
    return World(logs, users, patterns, bad)


# --- the helper ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"a{CLEAR}b", "a\\x1b[2J\\x1b[3Jb"),
        (TITLE, "\\x1b]0;pwned\\x07"),
        (C1, "\\x9b2J"),
        (f"moc.{RLO}liame", "moc.\\u202eliame"),
        ("\u2066x\u2069 \u200e\u200f\u061c\u202a", "\\u2066x\\u2069 \\u200e\\u200f\\u061c\\u202a"),
        ("nul\x00 del\x7f", "nul\\x00 del\\x7f"),
        ("two\nlines\r", "two\\nlines\\r"),
        ("tab\there", "tab here"),
        ("bad name \udcff", "bad name \\udcff"),
        ("soft\xadhyphen\u2028", "soft\\xadhyphen\\u2028"),
        # TAG characters spell a hidden ASCII message ("ASCII smuggling"); fillers print as nothing
        ("ceo\U000e0020\U000e0077", "ceo\\U000e0020\\U000e0077"),
        ("a\u3164b\ufe0fc\u034fd\u0600", "a\\u3164b\\ufe0fc\\u034fd\\u0600"),
    ],
)
def test_terminal_shows_what_it_would_obey(text: str, expected: str) -> None:
    assert terminal(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "jane.doe@corp.com",
        "Müller, Jörg",
        "C:\\BES\\Logs\\20240312",
        "EV[reverse blink]IL",
        "no\xa0break",
        "日本",
    ],
)
def test_terminal_leaves_plain_text_alone(text: str) -> None:
    assert terminal(text) == text


def test_terminal_leaves_nothing_raw() -> None:
    dangerous = [
        chr(c) for c in [*range(0x20), *range(0x7F, 0xA0), *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
    ]
    out = terminal("".join(dangerous))
    assert not set(out) & set(dangerous) - {"\t"}
    assert out.isascii() and out.isprintable()
    formats = [chr(c) for c in range(0x110000) if unicodedata.category(chr(c)) == "Cf"]
    assert terminal("".join(formats)).isascii(), "every format character of Unicode is shown"


def test_json_writes_hidden_characters_as_escapes_any_reader_decodes() -> None:
    text = "ceo\U000e0020\U000e0077ire\u202e\u3164"
    escaped = json_safe(json.dumps(text, ensure_ascii=False))
    assert escaped.isascii()
    assert json.loads(escaped) == text


# --- scan ---------------------------------------------------------------------------------------


def test_scan_table_and_details_show_the_data(world: World) -> None:
    result = run_cli("scan", world.logs, "--users", world.users, "--patterns", world.patterns, "--jobs", "1")
    assert result.exit_code == 1, result.stderr
    assert_inert(result.stdout)
    assert_inert(result.stderr)
    out = flat(result.stdout)
    # the details: heads, reasons, the error lines, with markup shown as typed
    assert f"{shown(MALLORY.lower())} on {shown(SERVER)}: failed" in out
    assert f"MailboxDN={shown(DN)}" in out
    assert "EV[reverse blink]IL" in out and "ex[reverse blink]ample.com" in out
    assert f"why: {shown(ADMIN_TITLE)}" in out
    assert shown(HOSTILE_FAILURE) in out
    assert f"{shown(EVE.lower())} on {shown(SERVER)}: stalled" in out
    # display names are only in the table, whose cells fold: their starts
    assert "Eve[reverse blink]\\u202e" in result.stdout and "Zed\\x1bc\\x9b2J" in result.stdout
    # stderr: the skipped file, named with its escape shown
    assert f"{terminal(JUNK)}: skipped: " in result.stderr


def test_scan_markdown_escapes_markup_and_controls(world: World) -> None:
    result = run_cli("scan", world.logs, "--users", world.users, "-f", "markdown", "-q")
    assert result.exit_code == 1, result.stderr
    assert_inert(result.stdout)
    assert "EV\\[reverse blink\\]IL" in result.stdout
    assert "\\\\x1b\\[2J" in result.stdout  # the escape shown, its backslash escaped for markdown


def test_json_keeps_the_text_exactly(world: World) -> None:
    result = run_cli(
        "scan", world.logs, "--users", world.users, "--patterns", world.patterns, "-f", "json", "-q"
    )
    assert result.exit_code == 1, result.stderr
    doc = json.loads(result.stdout)
    acts = doc["activations"]
    assert {a["server"] for a in acts} == {SERVER}
    assert {a["email"] for a in acts} >= {MALLORY.lower(), EVE.lower()}  # addresses are folded
    assert {a["display_name"] for a in acts} >= {EVE_NAME, ZED_NAME}
    texts = list(strings(doc))
    assert any(f"MailboxDN={DN}" in s for s in texts)
    assert any(ADMIN_TITLE in s for s in texts)
    assert any(HOSTILE_FAILURE in s for s in texts)
    # ... while the text itself, which a terminal may show, holds them as escapes: JSON's own for
    # C0 controls, ``\u`` escapes for the bidi override and the C1 controls it would leave raw
    assert not any(c in result.stdout for c in RAW)
    assert "\\u202e" in result.stdout and "\\u009b" in result.stdout

    events = run_cli("events", world.logs, "--format", "ndjson", "-q")
    assert not any(c in events.stdout for c in RAW)
    lines = [json.loads(line) for line in events.stdout.splitlines()]
    assert {r["email"] for r in lines} >= {MALLORY.lower()} and any(DN in r["text"] for r in lines)

    timeline = run_cli("timeline", "6060", world.logs, "-f", "json", "-q")
    assert timeline.exit_code == 0, timeline.stderr
    tl = json.loads(timeline.stdout)
    assert tl["activations"][0]["display_name"] == ZED_NAME
    assert not any(c in timeline.stdout for c in RAW)
    assert all(SERVER in m["file"] for m in tl["milestones"])


class _Terminal(io.StringIO):
    """A StringIO rich takes for a terminal: colours, and the width of COLUMNS."""

    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("columns", ["80", "200"])
def test_on_a_terminal_only_rich_colours_are_escapes(
    world: World, columns: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The renderers write to a terminal (the compact table below 140 columns, the wide one
    above): after rich's colours are taken out, no escape is left."""
    from builders import scan_report

    from bes_logdiag.render import table, timeline

    for name in ("NO_COLOR", "FORCE_COLOR", "COLORTERM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv("COLUMNS", columns)
    report = scan_report(world.logs)
    for write in (
        lambda out: table.write(report, out),
        lambda out: timeline.write_table("6060", [a for a in report.activations if a.user_id == "6060"], out),
        lambda out: timeline.write_table(
            MALLORY, [a for a in report.activations if a.email == MALLORY.lower()], out
        ),
    ):
        out = _Terminal()
        write(out)
        text = out.getvalue()
        assert SGR.search(text), "rich coloured nothing: the test does not test"
        assert_inert(SGR.sub("", text))
        assert "[reverse blink]" in text


# --- timeline -----------------------------------------------------------------------------------


def test_timeline_table_shows_the_data(world: World) -> None:
    zed = run_cli("timeline", "6060", world.logs)
    assert zed.exit_code == 0, zed.stderr
    assert_inert(zed.stdout)
    assert_inert(zed.stderr)
    assert f"{shown(ZED_NAME)} · UserId=6060 on server {shown(SERVER)}" in flat(zed.stdout)

    mallory = run_cli("timeline", MALLORY, world.logs, "-q")
    assert mallory.exit_code == 0, mallory.stderr
    assert_inert(mallory.stdout)
    assert f"MailboxDN={shown(DN)}" in flat(mallory.stdout)


def test_no_activation_warning_shows_the_query(world: World) -> None:
    result = run_cli("timeline", f"nobody{CLEAR}{RLO}", world.logs)
    assert_inert(result.stderr)
    assert "nobody" in result.stderr


# --- the library: kb and patterns ---------------------------------------------------------------


def test_patterns_list_and_check_show_the_admins_text(world: World) -> None:
    listing = run_cli("patterns", "list", "--patterns", world.patterns)
    assert listing.exit_code == 0, listing.stderr
    assert_inert(listing.stdout)
    assert "site.hostile-failure" in listing.stdout
    assert "site\\x1b]0;pwned\\x07[blink]" in listing.stdout.replace("│\n│", "").replace(" ", "")

    check = run_cli("patterns", "check", "--patterns", world.bad_patterns)
    assert check.exit_code == 1
    assert "counter-example matches" in check.stdout
    assert_inert(check.stdout)
    assert_inert(check.stderr)


def test_kb_shows_the_admins_text(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """The articles are TOML an admin may edit; the admin's pattern names one of them."""
    import bes_logdiag.library as library

    lib = library.load_library([world.patterns])
    hostile = dataclasses.replace(
        lib.articles["KB02276"], title=f"Gone{CLEAR}{MARKUP}", device=f"{TITLE}{RLO}", check=f"{LINK}{C1}"
    )
    lib = dataclasses.replace(lib, articles={**lib.articles, "KB02276": hostile})
    monkeypatch.setattr(library, "load_library", lambda *a, **k: lib)

    every = run_cli("kb")
    assert every.exit_code == 0, every.stderr
    assert_inert(every.stdout)
    assert "Gone\\x1b[2J\\x1b[3J[reverse" in every.stdout

    one = run_cli("kb", "KB02276")
    assert one.exit_code == 0, one.stderr
    assert_inert(one.stdout)
    out = flat(one.stdout)
    assert f"KB02276 {shown(hostile.title)}" in out
    assert f"device shows: {shown(hostile.device)}" in out
    assert f"primary when this error is logged: site.hostile-failure ({shown(ADMIN_TITLE)})" in out


# --- presence -----------------------------------------------------------------------------------


def test_presence_check_shows_the_config_text(tmp_path: Path) -> None:
    settings = swap(TRUSTED_SETTINGS, 'value="lyncdir01.corp.example.com"', f'value="lync{RLO}{MARKUP}{C1}"')
    settings = swap(settings, 'value="BEMS Presence 2024"', f'value=" BEMS{RLO} [bold red]Presence "')
    config = host(tmp_path, f"bems{TITLE}[blink]", dotnet_config(settings))

    table = presence_cli("check", config)
    assert table.exit_code == 1, table.stderr
    assert_inert(table.stdout)
    assert_inert(table.stderr)
    out = flat(table.stdout)
    assert shown(str(config)) in out
    assert f"lync\\u202e{MARKUP}\\x9b2J" in out and "[bold red]Presence" in out

    as_json = presence_cli("check", config, "--format", "json")
    findings = json.loads(as_json.stdout)["findings"]
    assert {f["file"] for f in findings} == {str(config)}
    assert any(f"lync{RLO}{MARKUP}{C1}" in f["message"] for f in findings)


# --- a real terminal ----------------------------------------------------------------------------


SGR_BYTES = re.compile(rb"\x1b\[[0-9;]*m")
RAW_BYTES = (b"\x1b", b"\xc2\x9b", b"\xc2\x9d", b"\x07", "\u202e".encode())


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")
def test_a_real_terminal_receives_only_rich_colours(world: World) -> None:
    for args in (
        ("scan", world.logs, "--users", world.users, "--patterns", world.patterns, "-q"),
        ("timeline", "6060", world.logs, "-q"),
        ("timeline", MALLORY, world.logs, "-q"),
    ):
        received = run_in_terminal(*args)
        assert SGR_BYTES.search(received), (args, received[:500])
        rest = SGR_BYTES.sub(b"", received)
        for raw in RAW_BYTES:
            assert raw not in rest, (args, raw, rest[max(0, rest.find(raw) - 100) : rest.find(raw) + 100])
        for sequence in (b"\x1b[2J", b"\x1b[3J", b"\x1b]0;", b"\x1b]8;", b"\x1bc"):
            assert sequence not in received
        assert b"EV[reverse blink]IL" in received


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")
@pytest.mark.parametrize("raw", [(), ("--raw",)])
def test_csv_on_a_real_terminal_shows_the_data(world: World, raw: tuple[str, ...]) -> None:
    """CSV keeps the data as it came for a file or a pipe; on a terminal it is shown, as every
    format is, --raw or not: an escape sequence in an address is printed, never obeyed."""
    for command in ("scan", "events"):
        received = run_in_terminal(command, world.logs, "--format", "csv", "-q", "--jobs", "1", *raw)
        for sequence in RAW_BYTES:
            assert sequence not in received, (command, sequence)
        assert b"mal\\x1b[2" in received, "shown as text"


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")
def test_a_real_terminal_gets_the_warnings_shown(world: World) -> None:
    """Without --quiet stderr is the terminal too: the progress bar may draw (rich's cursor
    codes), and the skipped file's name arrives escaped."""
    received = run_in_terminal("scan", world.logs, "--jobs", "1")
    assert terminal(JUNK).encode() in received
    rest = SGR_BYTES.sub(b"", received)
    rest = re.sub(rb"\x1b\[\?25[lh]|\x1b\[2K|\x1b\[\d*[AG]", b"", rest)  # the progress bar's own
    for raw in RAW_BYTES:
        assert raw not in rest, (raw, rest[max(0, rest.find(raw) - 100) : rest.find(raw) + 100])
