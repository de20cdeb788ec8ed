"""The line grammar of BES-LOGS.md section 2 and every tolerance issue 2 names."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bes_logdiag.parse import YearClock, parse_line, plain_header_time, split_at_records, split_records


def clock(year: int = 2010) -> YearClock:
    return YearClock(datetime(year, 1, 1), year)


def test_full_line() -> None:
    ln = parse_line(
        "[30085] (01/23 12:58:37.785):{0x1B44} {cat@example.com} New mail has arrived, EntryId=280645",
        clock(),
    )
    assert ln is not None
    assert ln.time == datetime(2010, 1, 23, 12, 58, 37, 785000)
    assert (ln.event_id, ln.thread, ln.user) == (30085, "1B44", "cat@example.com")
    assert ln.body == "New mail has arrived, EntryId=280645"
    assert ln.level == "info"


@pytest.mark.parametrize(
    ("text", "field", "expected"),
    [
        # no event id
        ("(03/10 10:27:28.014):{0x1AEC}{a@b.net} Queuing DATA", "event_id", None),
        # legacy one-digit id
        ("[3] (03/10 10:27:28):{0x1AEC} {a@b.net} hello", "event_id", 3),
        # no milliseconds
        (
            "[40000] (05/21 06:51:39):{0x14D4} {a@b.net} Generating 3DES key",
            "time",
            datetime(2010, 5, 21, 6, 51, 39),
        ),
        # no thread id
        ("[40000] (02/25 01:10:00): {a@b.net} hello", "thread", None),
        ("[40000] (02/25 01:10:00): {a@b.net} hello", "user", "a@b.net"),
        # no space between } and {
        ("[40000] (05/21 06:51:45):{0x1AA8}{ian@example.net} *** OTAKEYGEN ***", "user", "ian@example.net"),
        # 0× for 0x
        ("[46046] (05/21 06:52:24):{0×1294} [SYNC-DSession] Received", "thread", "1294"),
        # en dash and curly quotes become plain
        (
            "[40000] (05/21 06:51:49):{0xE1C} SCS::CheckITPolicyInGroup – Queuing",
            "body",
            "SCS::CheckITPolicyInGroup - Queuing",
        ),
        (
            "[46046] (05/21 06:52:24):{0x1294} [SYNC-DSession] Received “GetConfig” command",
            "body",
            '[SYNC-DSession] Received "GetConfig" command',
        ),
        # "fromnetwork" stays as written: the pattern tolerates it
        (
            "(03/10 10:27:28.014):{0x1AEC}{a@b.net} Queuing DATA fromnetwork@etp",
            "body",
            "Queuing DATA fromnetwork@etp",
        ),
        # a component tag
        ("[46046] (05/21 06:52:24):{0x1294} [SYNC-DSession] Received", "tag", "SYNC-DSession"),
        # no user: a system line
        ("[30000] (02/12 23:36:52.203):{0xA2C} Total Msgs Pending 1", "user", None),
        # lower-case hex thread
        ("[30000] (02/12 23:36:52.203):{0xa2c} Total Msgs Pending 1", "thread", "A2C"),
        # text pasted in front of the line
        ("Stage 1 - the log shows (03/10 10:27:28.014):{0x1AEC}{a@b.net} Queuing", "user", "a@b.net"),
        # CRLF
        ("[30000] (02/12 23:36:52.203):{0xA2C} Total Msgs Pending 1\r\n", "body", "Total Msgs Pending 1"),
        # a display name as user (SYNC/CMNG family)
        ("[40089] (06/01 08:04:23.942):{0xC4} {Test User1} CheckResponseReceived", "user", "Test User1"),
    ],
)
def test_tolerances(text: str, field: str, expected: object) -> None:
    ln = parse_line(text, clock())
    assert ln is not None, text
    assert getattr(ln, field) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "just some words",
        "[40000] (13/45 06:51:39):{0x14D4} month 13",
        "[40000] (05/21 25:51:39):{0x14D4} hour 25",
        "[40000] 05/21 06:51:39 no parentheses",
    ],
)
def test_not_bes_lines(text: str) -> None:
    assert parse_line(text, clock()) is None


def test_year_rolls_over_inside_one_file() -> None:
    c = YearClock(datetime(2009, 12, 31), 2009)
    times = [
        parse_line(f"[30000] ({stamp}):{{0x1}} x", c).time  # type: ignore[union-attr]
        for stamp in ("12/31 23:59:58.000", "01/01 00:00:01.000", "01/01 00:05:00.000")
    ]
    assert [t.year for t in times] == [2009, 2010, 2010]
    assert times == sorted(times)


def test_first_line_after_new_year_in_a_file_dated_december() -> None:
    c = YearClock(datetime(2009, 12, 31), 2009)
    ln = parse_line("[30000] (01/01 00:00:03.000):{0x1} x", c)
    assert ln is not None and ln.time == datetime(2010, 1, 1, 0, 0, 3)


def test_year_without_anchor_uses_given_year_and_still_rolls() -> None:
    c = YearClock(None, 2010)
    a = parse_line("[30000] (12/31 23:00:00):{0x1} x", c)
    b = parse_line("[30000] (01/01 01:00:00):{0x1} x", c)
    assert a is not None and b is not None
    assert (a.time.year, b.time.year) == (2010, 2011)


def test_leap_day_in_a_leap_year() -> None:
    ln = parse_line("[30000] (02/29 10:00:00):{0x1} x", YearClock(datetime(2012, 2, 28), 2012))
    assert ln is not None and ln.time == datetime(2012, 2, 29, 10)


def test_two_records_on_one_physical_line_are_split() -> None:
    text = (
        "[40000] (05/21 06:51:39):{0x14D4} {ian@example.net} Generating 3DES key (this is based on server setting) "
        "[40000] (05/21 06:51:39):{0x14D4} *** OTAKEYGEN *** sending KEY_ACCEPT transID = 2077103732"
    )
    parts = split_records(text)
    assert len(parts) == 2
    assert parts[1].startswith("[40000] (05/21 06:51:39):{0x14D4} *** OTAKEYGEN")


@given(st.text(max_size=300))
def test_parser_never_raises(text: str) -> None:
    parse_line(text, clock())


_users = st.one_of(st.none(), st.from_regex(r"[a-z]{1,8}\.[a-z]{1,8}@[a-z]{2,8}\.(com|net)", fullmatch=True))


@given(
    event=st.one_of(st.none(), st.integers(1, 59999)),
    month=st.integers(1, 12),
    day=st.integers(1, 28),
    hour=st.integers(0, 23),
    minute=st.integers(0, 59),
    second=st.integers(0, 59),
    millis=st.one_of(st.none(), st.integers(0, 999)),
    thread=st.one_of(st.none(), st.integers(1, 0xFFFF)),
    user=_users,
    message=st.from_regex(r"[A-Za-z][A-Za-z0-9 ,=.:*_-]{0,60}", fullmatch=True),
)
def test_valid_lines_round_trip(
    event: int | None,
    month: int,
    day: int,
    hour: int,
    minute: int,
    second: int,
    millis: int | None,
    thread: int | None,
    user: str | None,
    message: str,
) -> None:
    stamp = f"{month:02d}/{day:02d} {hour:02d}:{minute:02d}:{second:02d}"
    if millis is not None:
        stamp += f".{millis:03d}"
    text = (f"[{event}] " if event is not None else "") + f"({stamp}):"
    text += f"{{0x{thread:X}}} " if thread is not None else " "
    text += f"{{{user}}} " if user else ""
    text += message
    ln = parse_line(text, YearClock(None, 2011))
    assert ln is not None
    assert ln.event_id == event
    assert ln.time == datetime(2011, month, day, hour, minute, second, (millis or 0) * 1000)
    assert ln.thread == (f"{thread:X}" if thread is not None else None)
    assert ln.user == user
    assert ln.body == message.strip()


_stamps = st.tuples(
    st.integers(0, 13), st.integers(0, 32), st.integers(0, 25), st.integers(0, 61), st.integers(0, 61)
)


@given(
    stamps=st.lists(_stamps, min_size=1, max_size=8),
    millis=st.integers(0, 999),
    prefix=st.sampled_from(["[40000] ", "[5] ", "", "> [40000] ", "\ufeff[40000] "]),
    thread=st.sampled_from(["{0x1AEC} ", "{0x1aec}", "", "{0xZZ} "]),
    user=st.sampled_from(["", "{kim@example.eu} ", "{ spaced } "]),
    body=st.sampled_from(["OpenMsgStore failed", "", "(01/02 03:04:05.678) glued", "x\r"]),
    year=st.sampled_from([2011, 2012]),
)
def test_a_plain_headers_time_is_the_time_the_parser_reads(
    stamps: list[tuple[int, int, int, int, int]],
    millis: int,
    prefix: str,
    thread: str,
    user: str,
    body: str,
    year: int,
) -> None:
    """Where a file's log starts and ends is read from a plain header's bytes alone
    (`plain_header_time`): the same time as the parser's, and the same year carried on to the
    next line, over lines in any order, impossible dates and hours, and headers the fast reading
    does not take (which the parser then reads)."""
    fast, slow = YearClock(datetime(year, 12, 30), year), YearClock(datetime(year, 12, 30), year)
    for month, day, hour, minute, second in stamps:
        text = f"{prefix}({month:02d}/{day:02d} {hour:02d}:{minute:02d}:{second:02d}.{millis:03d}):"
        text += f"{thread}{user}{body}"
        raw = text.encode("utf-8")
        parsed = parse_line(text, slow)
        when = plain_header_time(raw, fast)
        if when is None:
            # not taken: the parser reads it, from the same clock
            line = parse_line(text, fast)
            assert (line.time if line else None) == (parsed.time if parsed else None)
        else:
            assert parsed is not None and when == parsed.time
        assert (fast.year, fast._ref) == (slow.year, slow._ref)


_record = st.builds(
    lambda event, pad, month, day, body: f"{event}({pad}{month}/{day} 10:11:12.130):{{0x1A}} {body}",
    st.sampled_from(["[40000] ", "[3] ", "", "> "]),
    st.sampled_from(["", " ", "  "]),
    st.integers(1, 12),
    st.integers(1, 28),
    st.text(alphabet="ab ():/0123456789[]{}", max_size=30),
)


@given(st.lists(_record, min_size=1, max_size=3), st.sampled_from(["", " ", "x "]))
def test_a_line_parses_to_the_same_records_however_it_is_split(records: list[str], before: str) -> None:
    """A physical line is read into the same records whether it is first checked for a second
    timestamp or not (the check only spares the search for a glued record)."""
    text = before + " ".join(records)
    c1, c2 = clock(), clock()
    got = [parse_line(r, c1) for r in split_records(text)]
    expected = [parse_line(r, c2) for r in split_at_records(text)]
    assert [r for r in got if r is not None] == [r for r in expected if r is not None]


_full_record = st.builds(
    lambda event, month, day, tid, user, body: (
        f"[{event:05d}] ({month:02d}/{day:02d} 10:11:12.130):{{0x{tid:X}}} {{{user}}} {body}"
    ),
    st.integers(10000, 99999),
    st.integers(1, 12),
    st.integers(1, 28),
    st.integers(1, 0xFFFF),
    st.sampled_from(["ann@example.com", "Smith, Alice:1001", "x"]),
    st.text(alphabet="abc ():/0123456789{}=,.", max_size=40).map(str.strip).filter(bool),
)


@given(st.lists(_full_record, min_size=2, max_size=4), st.sampled_from(["", " ", "\t"]))
def test_records_run_together_are_read_apart(records: list[str], sep: str) -> None:
    """Two threads' writes that run together on one line, with or without a space between them
    (``...EntryId=280001[40000] (05/01 06:40:00.100):{0x1AEC} {...} ...``): each whole record is read
    with its own time, thread and user."""
    text = sep.join(records)
    got = [parse_line(r, clock()) for r in split_records(text)]
    expected = [parse_line(r, clock()) for r in records]
    assert got == expected
