"""Excerpts as admins really paste them into stdin: out of e-mails, tickets, Outlook and PowerShell.

Every case is built from the seed's own log lines (tests/data/seed_excerpt.txt, the activation of
ian.dundas@example.net / UserId=2573 / ``Last, First``) or from lines of BES-LOGS.md.  The seed's lines
exactly as printed are tested in tests/cli/test_scan.py and test_pipeline.py; here they arrive damaged
the way mail, Outlook, blogs and Windows shells damage them.  Milestones are checked with
``events --format json``, verdicts with ``scan --format json``.
"""

from __future__ import annotations

import codecs
import html
import json
import re
import textwrap
from datetime import datetime
from pathlib import Path

import pytest
from builders import JOERG, activation, data_file, rows, run_cli, unattached_users

SEED = data_file("seed_excerpt.txt").read_text(encoding="utf-8").splitlines()
EMAIL, UID, DISPLAY = "ian.dundas@example.net", 2573, "Last, First"
ALL = [
    "etp_received",
    "key_generated",
    "key_accept_sent",
    "service_books_requested",
    "itpolicy_queued",
    "slowsync_started",
    "slowsync_complete",
]
STAGES = [1, 2, 2, 3, 3, 4, 4]


def text(lines: list[str], nl: str = "\n") -> str:
    return nl.join(lines) + nl


def events(data: str | bytes, *extra: str) -> list[dict]:  # type: ignore[type-arg]
    result = run_cli("events", "-", "--year", "2010", "--format", "json", *extra, input=data)
    assert result.exit_code == 0, result.stderr
    assert "Traceback" not in result.stderr
    return json.loads(result.stdout)["events"]  # type: ignore[no-any-return]


def scan(data: str | bytes, *extra: str) -> dict:  # type: ignore[type-arg]
    result = run_cli("scan", "-", "--year", "2010", "--format", "json", *extra, input=data)
    assert result.exit_code in (0, 1), result.stderr
    assert "Traceback" not in result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def assert_whole_seed_activation(data: str | bytes) -> dict:  # type: ignore[type-arg]
    """All seven seed milestones, all of Ian's, and one complete activation under all three names."""
    evs = events(data)
    assert [e["milestone"] for e in evs] == ALL
    assert [e["stage"] for e in evs] == STAGES
    assert {(e["email"], e["user_id"]) for e in evs} == {(EMAIL, UID)}
    rep = scan(data)
    (act,) = rep["activations"]
    assert (act["email"], act["user_id"], act["display_name"]) == (EMAIL, UID, DISPLAY)
    assert (act["status"], act["stage"], act["kb"]) == ("complete", 4, None)
    assert [m["milestone"] for m in act["milestones"]] == ALL
    assert act["started"][:19] == "2010-03-10T10:27:28"
    assert act["completed"] == "2010-05-21T07:05:36.000"
    return rep


# --- e-mail quoting and Outlook indentation ------------------------------------------------------


@pytest.mark.parametrize(
    "prefix",
    ["> ", ">> ", "> > ", ">", "> >> "],
    ids=["quoted", "quoted-twice", "quoted-twice-spaced", "no-space", "mixed-levels"],
)
def test_email_quoting_prefixes(prefix: str) -> None:
    assert_whole_seed_activation(text([prefix + line for line in SEED]))


def test_quoting_depth_varies_from_line_to_line() -> None:
    """A reply that re-quotes part of an earlier reply: ``> `` and ``>> `` in one excerpt."""
    prefixes = ["> ", ">> ", ">> ", "> ", ">>> ", "> ", ">> "]
    assert_whole_seed_activation(text([p + line for p, line in zip(prefixes, SEED)]))


@pytest.mark.parametrize("indent", ["    ", "\t", "\t\t", " \t ", "        "])
def test_outlook_leading_spaces_and_tabs(indent: str) -> None:
    assert_whole_seed_activation(text([indent + line for line in SEED], "\r\n"))


def test_the_reply_that_quotes_the_excerpt_again_counts_it_once() -> None:
    """The excerpt in the first mail and again, quoted, in the reply below it."""
    mail = [
        *SEED,
        "",
        "On Fri, 21 May 2010 at 07:10, Bob <helpdesk@example.net> wrote:",
        *("> " + line for line in SEED),
    ]
    rep = assert_whole_seed_activation(text(mail))
    assert rep["activations"][0]["attempts"] == []
    assert any("7 matched lines in <stdin> repeat" in n for n in rep["notes"])
    assert len(events(text(mail))) == 7


# --- mail clients that wrap long lines -------------------------------------------------------------


def wrap(lines: list[str], width: int) -> list[str]:
    """What a mail client does at `width` columns: break at spaces, continuation without a header."""
    out: list[str] = []
    for line in lines:
        out += textwrap.wrap(line, width, break_long_words=False, break_on_hyphens=False)
    return out


@pytest.mark.parametrize("width", [72, 76])
@pytest.mark.parametrize("ids", [True, False], ids=["event-ids", "event-ids-dropped"])
def test_wrapped_seed_lines_are_read_joined_again(width: int, ids: bool) -> None:
    """Wrapped at 72 or 76 columns, every seed line loses part of its key text (or the
    ``[Last, First:N]`` that names the user) to a continuation line with no header.  The
    continuations were not read at all, and the paste gave no activation, with no word of why
    (0 matched).  Joined back onto their records, they give the whole activation, each milestone
    at the line its record begins on, and a note says how many lines were joined."""
    lines = SEED if ids else [re.sub(r"^\[\d+\] ", "", line) for line in SEED]
    wrapped = wrap(lines, width)
    assert len(wrapped) > len(SEED)
    rep = assert_whole_seed_activation(text(wrapped))
    assert all(
        re.match(r"(\[\d+\] )?\(", wrapped[m["line"] - 1]) for m in rep["activations"][0]["milestones"]
    )
    assert rep["inputs"]["lines"] == len(wrapped)
    assert rep["notes"] == [
        f"<stdin>: {len(wrapped) - len(SEED)} lines without a BES header continue the record before, "
        "as a mail client wraps long lines: read joined to it"
    ]


# --- characters that mail, blogs and word processors substitute -----------------------------------


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda t: t.replace('"GetConfig"', "\u201cGetConfig\u201d"), id="curly-double-quotes"),
        pytest.param(lambda t: t.replace('"GetConfig"', "\u201eGetConfig\u201c"), id="german-quotes"),
        pytest.param(lambda t: t.replace("\u2013", "\u2014"), id="em-dash"),
        pytest.param(lambda t: t.replace("\u2013", "-"), id="plain-dash"),
        pytest.param(lambda t: t.replace("Tag=-", "Tag=\u2013"), id="en-dash-minus"),
        pytest.param(lambda t: t.replace("{0x", "{0\u00d7"), id="times-sign-every-thread"),
        pytest.param(lambda t: t.replace("{0\u00d7", "{0x"), id="no-times-sign"),
        pytest.param(lambda t: t.replace("} {", "}{"), id="no-space-between-braces"),
        pytest.param(lambda t: re.sub(r"(?m)^\[\d+\] ", "", t), id="every-event-id-dropped"),
        pytest.param(lambda t: re.sub(r"\.\d{3}\)", ")", t), id="no-milliseconds"),
    ],
)
def test_substituted_characters(damage) -> None:  # type: ignore[no-untyped-def]
    assert_whole_seed_activation(damage(text(SEED)))


def test_all_listed_damage_at_once_on_every_line() -> None:
    """BES-LOGS.md section 2's damage, all of it on every line, quoted and indented as well."""
    damaged = []
    for line in SEED:
        line = (
            re.sub(r"^\[\d+\] ", "", line)
            .replace("{0x", "{0\u00d7")
            .replace('"GetConfig"', "\u201cGetConfig\u201d")
        )
        damaged.append("> \t" + line.replace(" - ", " \u2013 "))
    assert_whole_seed_activation(text(damaged, "\r\n"))


def test_html_entities_leave_the_other_lines_alone() -> None:
    """Text copied out of a web ticket or an HTML mail's source: ``&quot;GetConfig&quot;``, ``&lt;``.
    BES-LOGS.md does not list entities as damage the tool undoes (so ``&quot;GetConfig&quot;`` need
    not be the slow-sync start), but they must not harm anything else."""
    page = [
        "Subject: RE: &lt;BES&gt; activation of Ian &amp; his new device",
        *html.escape(text(SEED)).splitlines(),
    ]
    assert "Received &quot;GetConfig&quot; command" in page[6]
    evs = events(text(page))
    assert {e["milestone"] for e in evs} >= set(ALL) - {"slowsync_started"}
    assert {(e["email"], e["user_id"]) for e in evs} == {(EMAIL, UID)}
    (act,) = scan(text(page))["activations"]
    assert (act["email"], act["user_id"], act["status"], act["stage"]) == (EMAIL, UID, "complete", 4)


@pytest.mark.parametrize(
    "space",
    ["\u00a0", "\u200b ", " \u200b", "\u202f"],
    ids=["nbsp", "zwsp-before", "zwsp-after", "narrow-nbsp"],
)
def test_unusual_spaces_never_crash_and_are_named_if_refused(space: str) -> None:
    """No-break and zero-width spaces in place of (or beside) every space.  The reference does not
    promise to read them (see the report: a nice-to-have); what it does promise is no traceback and,
    for input it cannot read, one line on stderr naming it."""
    data = text(SEED).replace(" ", space)
    result = run_cli("scan", "-", "--year", "2010", "--format", "json", input=data)
    assert "Traceback" not in result.stderr + result.stdout
    if result.exit_code == 2:
        assert result.stderr.startswith("bes-logdiag: ") and "<stdin>" in result.stderr
    else:
        for act in json.loads(result.stdout)["activations"]:
            assert act["email"] in (EMAIL, None)


# --- bytes as Windows hands them over ------------------------------------------------------------


def test_windows_1252_bytes_piped_in() -> None:
    """A ticket saved in the ANSI code page: en dash 0x96, times sign 0xD7, curly quotes 0x93/0x94,
    and a ``{Müller, Jürgen}``-style name in cp1252."""
    lines = [line.replace('"GetConfig"', "\u201cGetConfig\u201d") for line in SEED]
    data = text(lines, "\r\n").encode("cp1252")
    assert b"\x96" in data and b"\xd7" in data and b"\x93GetConfig\x94" in data
    rep = assert_whole_seed_activation(data)
    assert rep["inputs"]["files"][0]["encoding"] == "cp1252"
    named = text([line.replace("Last, First", "M\u00fcller, J\u00fcrgen") for line in lines], "\r\n").encode(
        "cp1252"
    )
    (act,) = scan(named)["activations"]
    assert (act["user_id"], act["display_name"], act["status"]) == (
        UID,
        "M\u00fcller, J\u00fcrgen",
        "complete",
    )


def test_utf8_and_cp1252_lines_mixed_in_one_paste() -> None:
    head = text(SEED[:4], "\r\n").encode("utf-8")
    tail = text([line.replace('"GetConfig"', "\u201cGetConfig\u201d") for line in SEED[4:]], "\r\n").encode(
        "cp1252"
    )
    rep = assert_whole_seed_activation(head + tail)
    assert rep["inputs"]["files"][0]["encoding"] == "cp1252"


@pytest.mark.parametrize(
    ("how", "encode", "label"),
    [
        # Windows PowerShell 5.1: `Get-Content t.txt | bes-logdiag scan -` pipes $OutputEncoding,
        # US-ASCII by default: every non-ASCII character (the seed's en dash and times sign) is "?".
        ("ps5-pipe-ascii", lambda t: t.encode("ascii", "replace"), "utf-8"),
        # PowerShell 7: UTF-8 without a BOM.
        ("ps7-pipe-utf8", lambda t: t.encode("utf-8"), "utf-8"),
        # PowerShell 5.1 `Get-Content t.txt > x.txt` (Out-File: UTF-16 LE with BOM), then `type x.txt |`.
        ("ps5-out-file-utf16le-bom", lambda t: codecs.BOM_UTF16_LE + t.encode("utf-16-le"), "utf-16-le"),
        ("utf16be-bom", lambda t: codecs.BOM_UTF16_BE + t.encode("utf-16-be"), "utf-16-be"),
        ("utf16le-no-bom", lambda t: t.encode("utf-16-le"), "utf-16-le"),
        # PowerShell 5.1 `Set-Content -Encoding UTF8`: UTF-8 with a BOM.
        ("ps5-set-content-utf8-bom", lambda t: codecs.BOM_UTF8 + t.encode("utf-8"), "utf-8-sig"),
    ],
)
def test_powershell_and_other_windows_encodings(how: str, encode, label: str) -> None:  # type: ignore[no-untyped-def]
    data = encode(text(SEED, "\r\n"))
    rep = assert_whole_seed_activation(data)
    assert rep["inputs"]["files"][0]["encoding"] == label, how
    assert rep["inputs"]["lines"] == len(SEED)


def test_powershell_5_question_marks_keep_the_user_of_the_getconfig_line() -> None:
    """``{0×1294}`` arrives as ``{0?1294}``: the line's user is still ``Last, First:2573``."""
    data = text(SEED, "\r\n").encode("ascii", "replace")
    assert b"{0?1294}" in data and b"CheckITPolicyInGroup ? Queuing" in data
    start = next(e for e in events(data) if e["milestone"] == "slowsync_started")
    assert (start["display_name"], start["user_id"], start["email"]) == (DISPLAY, UID, EMAIL)


# --- line ends and end-of-file marks ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("how", "data", "lines"),
    [
        ("crlf", text(SEED, "\r\n"), [1, 2, 3, 4, 5, 6, 7]),
        ("crlf-no-final", "\r\n".join(SEED), [1, 2, 3, 4, 5, 6, 7]),
        ("ctrl-z-after-lf", text(SEED) + "\x1a", [1, 2, 3, 4, 5, 6, 7]),
        ("ctrl-z-after-crlf", text(SEED, "\r\n") + "\x1a", [1, 2, 3, 4, 5, 6, 7]),
        ("ctrl-z-on-last-line", "\r\n".join(SEED) + "\x1a", [1, 2, 3, 4, 5, 6, 7]),
        ("blank-between-lf", text(SEED, "\n\n"), [1, 3, 5, 7, 9, 11, 13]),
        ("blank-between-crlf", text(SEED, "\r\n\r\n"), [1, 3, 5, 7, 9, 11, 13]),
        ("blank-with-spaces", text(SEED, "\r\n \r\n"), [1, 3, 5, 7, 9, 11, 13]),
    ],
)
def test_line_ends(how: str, data: str, lines: list[int]) -> None:
    assert_whole_seed_activation(data)
    assert [e["line"] for e in events(data)] == lines, how


def test_ctrl_z_in_utf16_from_powershell() -> None:
    data = codecs.BOM_UTF16_LE + (text(SEED, "\r\n") + "\x1a").encode("utf-16-le")
    assert_whole_seed_activation(data)


def test_lone_cr_line_ends_of_an_old_mac() -> None:
    """CR alone ends no line the tool knows (BES-LOGS.md: CRLF or LF), so the paste is one physical
    line; its records still carry their event ids, which is how two records on one line are told
    apart, so every milestone is found."""
    data = text(SEED, "\r")
    assert "\n" not in data
    assert_whole_seed_activation(data)


def test_two_records_on_one_line_the_second_without_event_id() -> None:
    """The seed's KEY_ACCEPT line and, glued behind it as in the seed's table rows, its service-book
    line with the event id dropped (the damage the seed's own stage-1 line shows)."""
    glued = SEED[2] + " " + re.sub(r"^\[\d+\] ", "", SEED[3])
    assert glued.count("(05/21") == 2
    evs = events(text([SEED[0], SEED[1], glued, *SEED[4:]]))
    assert [e["milestone"] for e in evs] == ALL


# --- a ticket: two users, three services, one stream, no file names ----------------------------------

JANE = [
    "[40000] (05/21 06:51:30):{0x1B00} {jane.roe@example.net} Queuing DATA from network@etp1006.etp.na.blackberry.net, Tag=-903057657, EntryId=2604426",
    "[40000] (05/21 06:51:38):{0x1B00} {jane.roe@example.net} Generating 3DES key (this is based on server setting)",
    "[40000] (05/21 06:51:39):{0x1B00} *** OTAKEYGEN *** sending KEY_ACCEPT transID = 2077103733",
    "[40000] (05/21 06:52:10):{0x1B04}{jane.roe@example.net} *** OTAKEYGEN *** Queuing service book data to Policy Server",
    "[40000] (05/21 06:52:14):{0xE1C} SCS::CheckITPolicyInGroup \u2013 Queuing SET_ITPOLICY_REQUEST request for UserId=2574",
    '[46046] (05/21 06:52:24):{0\u00d71298} [SYNC-DSession] Received "GetConfig" command from device. [Roe, Jane:2574]',
]
IAN = [SEED[0].replace("(03/10 10:27:28.014)", "[40000] (05/21 06:51:28.014)"), *SEED[1:]]
# Ian's ETP, Jane's ETP and key, Ian's key, Jane's KEY_ACCEPT (thread 0x1B00) right before Ian's
# (thread 0x14D4), Ian's service books and policy, Jane's, then both slow syncs; Jane's never ends.
TICKET = [
    IAN[0],
    JANE[0],
    JANE[1],
    IAN[1],
    JANE[2],
    IAN[2],
    IAN[3],
    IAN[4],
    JANE[3],
    JANE[4],
    IAN[5],
    JANE[5],
    IAN[6],
]
PROSE = [
    "From: Helpdesk <helpdesk@example.net>",
    "Subject: RE: Jane stuck at 0% - never a *** SLOWSYNC COMPLETE *** [Roe, Jane:2574]",
    "",
    "Hi, Jane's device shows 0%. Ian's is fine. We see Received \"GetConfig\" command from device. [Roe, Jane:2574]",
    "but nothing after it. The lines from MAGT, POLC and SYNC, merged by time:",
    "",
]


def ticket() -> str:
    return text([*PROSE, *TICKET, "", "Thanks,", "Bob"], "\r\n")


def test_ticket_two_users_interleaved_milestones_and_services_from_content() -> None:
    evs = events(ticket())
    off = len(PROSE)
    by_user: dict[str, list[tuple[str, str, int]]] = {}
    for e in evs:
        by_user.setdefault(e["email"], []).append((e["milestone"], e["service"], e["line"] - off))
    assert by_user[EMAIL] == [
        ("etp_received", "MAGT", 1),
        ("key_generated", "MAGT", 4),
        ("key_accept_sent", "MAGT", 6),
        ("service_books_requested", "MAGT", 7),
        ("itpolicy_queued", "POLC", 8),
        ("slowsync_started", "SYNC", 11),
        ("slowsync_complete", "SYNC", 13),
    ]
    assert by_user["jane.roe@example.net"] == [
        ("etp_received", "MAGT", 2),
        ("key_generated", "MAGT", 3),
        ("key_accept_sent", "MAGT", 5),
        ("service_books_requested", "MAGT", 9),
        ("itpolicy_queued", "POLC", 10),
        ("slowsync_started", "SYNC", 12),
    ]
    assert {(e["email"], e["user_id"], e["display_name"]) for e in evs} == {
        (EMAIL, UID, DISPLAY),
        ("jane.roe@example.net", 2574, "Roe, Jane"),
    }
    assert all(e["server"] is None for e in evs)


def test_ticket_two_users_verdicts_and_joins() -> None:
    rep = scan(ticket())
    assert rep["summary"]["activations"] == 2
    acts = {a["email"]: a for a in rep["activations"]}
    ian, jane = acts[EMAIL], acts["jane.roe@example.net"]
    assert (ian["server"], ian["user_id"], ian["display_name"], ian["status"], ian["stage"]) == (
        None, UID, DISPLAY, "complete", 4)  # fmt: skip
    # 13 minutes after Jane's GetConfig the excerpt ends: less than stage 4's hour, so still running.
    assert (jane["user_id"], jane["display_name"], jane["status"], jane["stage"]) == (
        2574,
        "Roe, Jane",
        "in_progress",
        4,
    )
    assert jane["last_milestone"] == "slowsync_started"
    assert rep["log_end"] == {"": "2010-05-21T07:05:36.000"}
    # KEY_ACCEPT names no user: each goes to the user last named on its own thread.
    for who, tid_line in ((ian, len(PROSE) + 6), (jane, len(PROSE) + 5)):
        (accept,) = [m for m in who["milestones"] if m["milestone"] == "key_accept_sent"]
        assert (accept["identity_from"], accept["line"]) == ("thread", tid_line)
    # Ian: "Last, First" has no shape of ian.dundas, so only the order in time joins MAGT to POLC;
    # Jane: jane.roe@ has the shape of "Roe, Jane".
    assert "time" in {j["kind"] for j in ian["joins"]}
    assert "name" in {j["kind"] for j in jane["joins"]}
    assert rep["unattached"] == []
    # the prose lines that quote milestone text have no header: they are not records
    assert rep["inputs"]["unparsed"] == 2
    assert rep["inputs"]["matched"] == len(TICKET)


# --- the year ---------------------------------------------------------------------------------------

NEW_YEAR = [
    "[40000] (12/31 23:58:28.014):{0x1AEC}{ian.dundas@example.net} Queuing DATA fromnetwork@etp1006.etp.na.blackberry.net, Tag=-903057656, EntryId=2604425",
    SEED[1].replace("05/21 06:51:39", "12/31 23:58:39"),
    SEED[2].replace("05/21 06:51:39", "12/31 23:58:39"),
    SEED[3].replace("05/21 06:51:45", "12/31 23:59:45"),
    SEED[4].replace("05/21 06:51:49", "12/31 23:59:49"),
    SEED[5].replace("05/21 06:52:24", "01/01 00:00:24"),
    SEED[6].replace("05/21 07:05:36", "01/01 00:13:36"),
]


def test_without_year_a_note_on_stderr_names_the_year_used() -> None:
    for cmd in (
        ["scan", "-", "-f", "json"],
        ["events", "-", "-f", "json"],
        ["timeline", EMAIL, "-", "-f", "json"],
    ):
        result = run_cli(*cmd, input=text(SEED))
        assert result.exit_code == 0, (cmd, result.stderr)
        m = re.search(r"<stdin>: .*read as (\d{4})\b", result.stderr)
        assert m, (cmd, result.stderr)
        doc = json.loads(result.stdout)
        times = (
            [e["time"] for e in doc["events"]]
            if "events" in doc
            else [a["started"] for a in doc["activations"]]
        )
        assert times and all(t.startswith(m[1] + "-") for t in times), cmd
    rep = json.loads(run_cli("scan", "-", "-f", "json", input=text(SEED)).stdout)
    assert any("<stdin>" in n and "--year" in n for n in rep["notes"])


def test_with_year_no_note_about_the_year() -> None:
    result = run_cli("scan", "-", "--year", "2010", "-f", "json", input=text(SEED))
    assert "read as" not in result.stderr
    assert not any("--year" in n for n in json.loads(result.stdout)["notes"])


def test_year_2009_rolls_over_into_2010_inside_the_excerpt() -> None:
    data = text(NEW_YEAR, "\r\n")
    result = run_cli("scan", "-", "--year", "2009", "-f", "json", input=data)
    assert result.exit_code == 0, result.stderr
    rep = json.loads(result.stdout)
    (act,) = rep["activations"]
    assert (act["status"], act["user_id"]) == ("complete", UID)
    assert act["started"] == "2009-12-31T23:58:28.014"
    assert act["completed"] == "2010-01-01T00:13:36.000"
    assert [m["time"][:10] for m in act["milestones"]] == ["2009-12-31"] * 5 + ["2010-01-01"] * 2
    assert rep["log_end"] == {"": "2010-01-01T00:13:36.000"}
    evs = events(data, "--year", "2009")
    assert [e["time"] for e in evs] == [m["time"] for m in act["milestones"]]
    tl = json.loads(run_cli("timeline", "2573", "-", "--year", "2009", "-f", "json", input=data).stdout)
    gaps = [m["since_previous_seconds"] for m in tl["milestones"]]
    assert gaps[5] == 35.0 and gaps[6] == 792.0  # 23:59:49 -> 00:00:24 -> 00:13:36, across midnight


# --- timeline, events and scan on the same stdin agree ------------------------------------------------


@pytest.mark.parametrize("case", ["ticket", "new-year", "quoted-cp1252", "utf16"])
def test_timeline_events_and_scan_agree_on_stdin(case: str) -> None:
    year = "2009" if case == "new-year" else "2010"
    data: str | bytes = {
        "ticket": ticket(),
        "new-year": text(NEW_YEAR),
        "quoted-cp1252": text(["> " + line for line in SEED], "\r\n").encode("cp1252"),
        "utf16": codecs.BOM_UTF16_LE + ticket().encode("utf-16-le"),
    }[case]
    rep = json.loads(run_cli("scan", "-", "--year", year, "-f", "json", input=data).stdout)
    evs = json.loads(run_cli("events", "-", "--year", year, "-f", "json", input=data).stdout)["events"]
    in_scan = sorted(
        (m["time"], m["line"], m["milestone"]) for a in rep["activations"] for m in a["milestones"]
    )
    joined = [e for e in evs if e["activation"] is not None]
    assert sorted((e["time"], e["line"], e["milestone"]) for e in joined) == in_scan
    # unattached lines are grouped in the scan's report (schema 2), one by one in events
    assert len(evs) - len(joined) == sum(u["count"] for u in unattached_users(rep))
    assert rep["activations"]
    for act in rep["activations"]:
        for who in (act["email"], str(act["user_id"]), act["display_name"]):
            result = run_cli("timeline", who, "-", "--year", year, "-f", "json", input=data)
            assert result.exit_code == 0, (who, result.stderr)
            tl = json.loads(result.stdout)
            (same,) = tl["activations"]
            assert {k: same[k] for k in ("email", "user_id", "status", "stage", "kb", "started")} == {
                k: act[k] for k in ("email", "user_id", "status", "stage", "kb", "started")
            }
            assert [(m["line"], m["milestone"]) for m in tl["milestones"]] == [
                (m["line"], m["milestone"]) for m in act["milestones"]
            ]
        mine = [(e["line"], e["milestone"]) for e in evs if e["email"] == act["email"]]
        assert mine == [(m["line"], m["milestone"]) for m in act["milestones"]]


def test_timeline_of_someone_not_in_the_paste() -> None:
    result = run_cli("timeline", "nobody@example.net", "-", "--year", "2010", input=ticket())
    assert result.exit_code == 1
    assert "no activation of 'nobody@example.net'" in result.stderr


# --- a paste of one line that belongs to no activation -----------------------------------------------


def test_a_pasted_policy_push_is_unattached_with_all_three_names() -> None:
    rep = scan(text([SEED[4]]))
    assert rep["activations"] == []
    (loose,) = unattached_users(rep)
    assert (loose["milestone"], loose["pattern"], loose["user_id"]) == (
        "itpolicy_queued",
        "polc.itpolicy-queued",
        UID,
    )
    assert {"email", "user_id", "display_name"} <= set(loose)
    assert loose["count"] == 1 and loose["first"] == loose["last"] and len(loose["evidence"]) == 1


# --- a BES-LOGS.md activation piped in, dated by --year ------------------------------------------


def test_stdin_with_year(tmp_path: Path) -> None:
    parts = activation(*JOERG, datetime(2019, 6, 14, 9, 30), upto="books")
    text = "\r\n".join(line for _, line in sorted(x for items in parts.values() for x in items))
    result = run_cli("scan", "-", "--year", "2019", "--format", "json", input=text)
    assert result.exit_code == 0, result.stderr
    rep = json.loads(result.stdout)
    assert rows(rep) == [(None, JOERG[0], None, None, "in_progress", 3, None)]
    assert rep["activations"][0]["started"].startswith("2019-06-14T09:30")
