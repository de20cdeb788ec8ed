"""The lnav format reads a BES line as the scan does: its regexes (PCRE, compiled here with the
`regex` module, which reads the same syntax) against `parse.parse_line`, on generated lines in
every spelling the scan accepts; and `bes-logdiag lnav-format` writes the file shipped in
contrib/lnav/.  Real lnav runs in test_lnav_format_with_lnav.py."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import regex
from builders import ROOT, run_cli
from hypothesis import given, settings
from hypothesis import strategies as st

from bes_logdiag.library import Library
from bes_logdiag.lnav import FORMAT_NAME, REGEXES, lnav_format_json
from bes_logdiag.parse import YearClock, normalise, parse_line

SHIPPED = ROOT / "contrib" / "lnav" / "bes_log.json"
COMPILED = {name: regex.compile(pattern) for name, pattern in REGEXES.items()}
# The scan's own readings of the two user spellings inside a message (patterns/activation.toml).
SCAN_NAMED = regex.compile(r"\[(?P<display_name>[^\[\]]+?):(?P<user_id>\d+)\]")
SCAN_USER_ID = regex.compile(r"\bUserId\s*=\s*(?P<user_id>\d+)")


def lnav_reading(line: str) -> tuple[str, dict[str, Any]]:
    """The one regex of the format that matches ``line``, and its captures."""
    found = [(name, m.groupdict()) for name, r in COMPILED.items() if (m := r.match(line))]
    assert len(found) == 1, (line, [name for name, _ in found])
    return found[0]


def assert_read_alike(line: str) -> str:
    """The format's columns for ``line`` are what the scan reads in it; returns the regex's name."""
    parsed = parse_line(line, YearClock(datetime(2024, 6, 1), 2024))
    assert parsed is not None, line
    name, got = lnav_reading(line)
    assert (int(got["event_id"]) if got["event_id"] else None) == parsed.event_id
    assert got["level"] == (str(parsed.event_id)[0] if parsed.event_id is not None else None)
    stamp = regex.match(r"(\d+)/(\d+)\s+(\d+):(\d+):(\d+)", got["timestamp"])
    assert stamp is not None
    t = parsed.time
    assert tuple(map(int, stamp.groups())) == (t.month, t.day, t.hour, t.minute, t.second)
    assert (got["thread"].upper() if got["thread"] else None) == parsed.thread
    assert got["tag"] == parsed.tag
    assert normalise(got["body"]).strip() == parsed.body
    assert got["email"] == (parsed.user if parsed.user and "@" in parsed.user else None)
    named = SCAN_NAMED.search(parsed.body)
    by_id = SCAN_USER_ID.search(parsed.body)
    if named:
        assert name == "named"
        assert (got["display_name"], got["user_id"]) == (named["display_name"], named["user_id"])
    else:
        display = parsed.user if parsed.user and "@" not in parsed.user else None
        assert got["display_name"] == display
        assert name == ("user_id" if by_id else "line")
        assert got.get("user_id") == (by_id["user_id"] if by_id else None)
    return name


MESSAGES = [
    "Queuing DATA from network@etp1006.etp.na.blackberry.net, Tag=-903057656, EntryId=2604425",
    "Queuing DATA fromnetwork@etp1006.etp.na.blackberry.net",
    "Generating 3DES key (this is based on server setting)",
    "*** OTAKEYGEN *** sending KEY_ACCEPT transID = 2077103732",
    "*** OTAKEYGEN *** Queuing service book data to Policy Server",
    "SCS::CheckITPolicyInGroup – Queuing SET_ITPOLICY_REQUEST request for UserId=2573",
    "SCS::ProcessUserConfig - configuration refreshed for UserId = 17",
    "[SYNC-DSession] Received “GetConfig” command from device. [Last, First:2573]",
    '[SYNC-DSession] Received "SyncData" command from device. [Müller, Jürgen:88]',
    "[SYNC-DSession] *** SLOWSYNC COMPLETE *** [Dundas, Ian:1002]",
    "[SYNC-DSession] Session closed, 0 records [Adams, Alice:1101]",
    "[CICAL] Starting calendar slow sync, items=152",
    "[ENV] Current Date: 2007/01/20",
    "Total Msgs Pending 1",
    "MAPIMailbox::MAPIMailbox - OpenMsgStore (0x8004011d) failed, MailboxDN=/o=CGP/ou=Exchange",
    "CheckResponseReceived - no changes detected.",
    "Agent 4: Missed 1 heartbeats",
    "",
]


@st.composite
def bes_lines(draw: st.DrawFn) -> str:
    """One BES record in any spelling the scan reads (BES-LOGS.md section 2, README "Input")."""
    prefix = draw(st.sampled_from(["", "\ufeff", "> ", "\t", "log: "]))
    event = draw(st.sampled_from(["", "[3] ", "[40000] ", "[46046]", "[10000] ", "[20400] ", "[50000] "]))
    month, day = draw(st.integers(1, 12)), draw(st.integers(1, 28))
    hour, minute, second = draw(st.integers(0, 23)), draw(st.integers(0, 59)), draw(st.integers(0, 59))
    fraction = draw(st.sampled_from(["", ".014", ",120", ".123456", ".5"]))
    date = f"{month:02d}/{day:02d}" if draw(st.booleans()) else f"{month}/{day}"
    gap = draw(st.sampled_from([" ", "  "]))
    stamp = f"({date}{gap}{hour:02d}:{minute:02d}:{second:02d}{fraction}):"
    tid = draw(st.one_of(st.none(), st.from_regex(r"[0-9A-Fa-f]{1,4}", fullmatch=True)))
    x = draw(st.sampled_from(["x", "X", "×"]))
    thread = f"{{0{x}{tid}}}" if tid is not None else ""
    user = draw(
        st.sampled_from(
            [None, "ian.dundas@example.net", " cat@example.com ", "Test User1", "Müller, Jürgen", ""]
        )
    )
    who = "" if user is None else (" " if draw(st.booleans()) else "") + "{" + user + "}"
    message = draw(st.sampled_from(MESSAGES))
    tail = draw(st.text(alphabet="abcXYZ019 ,.=-_:;/#*", max_size=12))
    end = draw(st.sampled_from(["", "\r"]))
    return f"{prefix}{event}{stamp}{thread}{who} {message}{tail}{end}"


@settings(max_examples=400, deadline=None)
@given(bes_lines())
def test_every_spelling_is_read_as_the_scan_reads_it(line: str) -> None:
    assert_read_alike(line)


@pytest.mark.parametrize(
    ("line", "regex_name"),
    [
        (
            "[46046] (05/21 06:52:24):{0×1294} [SYNC-DSession] Received “GetConfig” command from device. [Last, First:2573]",
            "named",
        ),
        (
            "[40000] (05/21 06:51:49.311):{0xE1C} SCS::CheckITPolicyInGroup - Queuing SET_ITPOLICY_REQUEST request for UserId=17",
            "user_id",
        ),
        (
            "(03/10 10:27:28.014):{0x1AEC}{ian.dundas@example.net} Queuing DATA fromnetwork@etp1006.etp.na.blackberry.net",
            "line",
        ),
        (
            "[40000] (05/21 06:51:39):{0x14D4} *** OTAKEYGEN *** sending KEY_ACCEPT transID = 2077103732\r",
            "line",
        ),
        (
            "\ufeff[40089] (06/01 08:04:23.942):{0xC4} {Test User1} CheckResponseReceived - no changes detected.",
            "line",
        ),
        ("> [30000] (02/12 23:36:52.203): Total Msgs Pending 1", "line"),
    ],
)
def test_each_user_spelling_has_its_regex(line: str, regex_name: str) -> None:
    assert assert_read_alike(line) == regex_name


def test_the_samples_are_the_pattern_librarys_example_lines(library: Library) -> None:
    doc = json.loads(lnav_format_json(library))
    samples = [s["line"] for s in doc[FORMAT_NAME]["sample"]]
    lines = {x for p in library.patterns for x in (*p.examples, *p.counter_examples)}
    assert set(samples) == lines and len(samples) == len(lines)
    used = {assert_read_alike(line) for line in samples}
    assert used == set(REGEXES), "every regex of the format has a sample lnav checks it against"


def test_the_shipped_file_is_what_the_command_writes(library: Library) -> None:
    result = run_cli("lnav-format")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == lnav_format_json(library)
    assert SHIPPED.read_text(encoding="utf-8") == result.stdout, (
        "contrib/lnav/bes_log.json is out of date: bes-logdiag lnav-format -o contrib/lnav/bes_log.json"
    )


def test_lnav_format_writes_a_file_with_o(tmp_path: Path, library: Library) -> None:
    target = tmp_path / "bes_log.json"
    result = run_cli("lnav-format", "-o", target)
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")
    assert target.read_text(encoding="utf-8") == lnav_format_json(library)
    doc = json.loads(target.read_text(encoding="utf-8"))
    assert set(doc[FORMAT_NAME]["value"]) >= {"event_id", "thread", "email", "display_name", "user_id"}


def test_lnav_format_into_a_missing_folder_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = run_cli("lnav-format", "-o", tmp_path / "no" / "bes_log.json")
    assert result.exit_code == 2
    assert result.stderr.startswith("bes-logdiag: error: -o ") and result.stderr.count("\n") == 1


def test_lnav_format_has_help_with_an_example() -> None:
    result = run_cli("lnav-format", "--help")
    assert result.exit_code == 0
    assert "Example: bes-logdiag lnav-format" in result.stdout
