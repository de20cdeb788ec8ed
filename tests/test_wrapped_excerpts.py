"""An excerpt pasted through mail, its long lines wrapped at a space near 72-80 characters
(BES-LOGS.md section 2): the parts after each break are read joined back onto their records, every
record at its own line number, with a note saying so.  Before, the parts matched nothing: a wrapped
excerpt read as no activation at all (0 matched, no note), or a SLOWSYNC COMPLETE cut after
``[Dundas,`` named no user and the activation was stalled.  A day's log, or an excerpt whose lines
were not wrapped, is read as it is.
"""

from __future__ import annotations

import textwrap
from datetime import datetime
from pathlib import Path

from builders import activation, bes_line, rows, scan_json, write_lines
from hypothesis import given, settings
from hypothesis import strategies as st

from bes_logdiag.unwrap import unwrap

T0 = datetime(2024, 5, 21, 6, 51, 38)


def excerpt_lines() -> list[str]:
    """One complete activation's lines, as an admin copies them from three logs."""
    parts = activation("ian.dundas@example.net", 2573, "Dundas, Ian", T0)
    return [x for _, x in sorted(t for items in parts.values() for t in items)]


def wrapped(lines: list[str], width: int, quote: str = "") -> list[str]:
    """``lines`` as a mail client wraps them: at a space, no line longer than ``width``."""
    out = []
    for line in lines:
        pieces = textwrap.wrap(line, width, break_long_words=False, break_on_hyphens=False)
        out += [quote + p for p in pieces]
    return out


def test_a_wrapped_excerpt_reads_as_the_excerpt(tmp_path: Path) -> None:
    lines = excerpt_lines()
    write_lines(tmp_path / "plain" / "ticket.txt", lines)
    write_lines(tmp_path / "mail" / "ticket.txt", wrapped(lines, 76))
    _, plain, _ = scan_json(tmp_path / "plain", "--year", "2024")
    _, mail, _ = scan_json(tmp_path / "mail", "--year", "2024")
    assert (
        rows(mail)
        == rows(plain)
        == [(None, "ian.dundas@example.net", 2573, "Dundas, Ian", "complete", 4, None)]
    )
    joined = len(wrapped(lines, 76)) - len(lines)
    assert mail["notes"] == [
        f"{tmp_path / 'mail' / 'ticket.txt'}: {joined} lines without a BES header continue the record before, "
        "as a mail client wraps long lines: read joined to it"
    ]
    # each milestone at the line where its record begins in the pasted text
    starts = [n for n, x in enumerate(wrapped(lines, 76), 1) if x.startswith("[")]
    (act,) = mail["activations"]
    assert [m["line"] for m in act["milestones"]] == starts
    assert [m["text"] for m in act["milestones"]] == [
        m["text"] for m in plain["activations"][0]["milestones"]
    ]


def test_a_quoted_reply_is_unwrapped_too(tmp_path: Path) -> None:
    write_lines(tmp_path / "reply.txt", wrapped(excerpt_lines(), 72, quote="> "))
    _, doc, _ = scan_json(tmp_path, "--year", "2024")
    assert [a["status"] for a in doc["activations"]] == ["complete"]


def test_a_days_log_and_an_unwrapped_excerpt_are_read_as_they_are(tmp_path: Path) -> None:
    """A stack trace under a record is no wrap: its lines are longer than any wrap leaves."""
    lines = excerpt_lines()
    trace = "   at Rim.Bes.Dispatcher.Dispatch(Message m) in C:\\build\\agent\\Dispatcher.cs:line 412 " * 2
    write_lines(tmp_path / "ticket.txt", [*lines[:3], trace.strip(), *lines[3:]])
    _, doc, _ = scan_json(tmp_path, "--year", "2024")
    assert doc["notes"] == []
    assert [a["status"] for a in doc["activations"]] == ["complete"]


words = st.text(alphabet="abcdefghij:[],=.@-*0123456789", min_size=1, max_size=30)
lines_of_words = st.lists(words.filter(lambda w: not w.endswith("-")), min_size=1, max_size=30).map(" ".join)
"""(A word that ends in a hyphen is read as one a mail client broke after its hyphen.)"""


@settings(max_examples=200, deadline=None)
@given(
    st.lists(lines_of_words, min_size=1, max_size=8),
    st.integers(60, 100),
    st.sampled_from([b"\n", b"\r\n"]),
)
def test_unwrapping_a_mail_clients_wrap_gives_the_records_back(
    records: list[str], width: int, end: bytes
) -> None:
    """Records with BES headers, wrapped at a space: unwrapped, each is whole again at its first
    line, and an empty line stands where each of its continuations stood."""
    heads = [f"[40000] (05/21 06:51:{n % 60:02d}.000):{{0x1A2B}} {r}" for n, r in enumerate(records)]
    pieces = [textwrap.wrap(h, width, break_long_words=False, break_on_hyphens=False) for h in heads]
    data = end.join(p.encode() for ps in pieces for p in ps) + end
    out, joined = unwrap(data)
    expected = [
        line.encode() for h, ps in zip(heads, pieces) for line in [" ".join(h.split()), *[""] * (len(ps) - 1)]
    ]
    if not joined:  # (too wide, or too few lines filling a width, to be told from a paste as is)
        assert out == data
        return
    assert out.split(end)[:-1] == expected
    assert joined == sum(len(ps) - 1 for ps in pieces)


def test_a_hyphenated_word_broken_after_its_hyphen_is_joined_without_a_space() -> None:
    """A mail client breaks ``christopher.oneill-macdonald@`` after its hyphen, and no space was
    lost there."""
    head = bes_line("05/21 06:51:38.000", "Notice to christopher.oneill-", user="x@example.net")
    other = bes_line("05/21 06:51:39.000", "Generating 3DES key (this is based", user="x@example.net")
    data = f"{head}\r\nmacdonald@contoso.com about quota\r\n{other}\r\non server setting)\r\n"
    out, joined = unwrap(data.encode())
    assert joined == 2
    assert (
        out == f"{head}macdonald@contoso.com about quota\r\n\r\n{other} on server setting)\r\n\r\n".encode()
    )


def test_mail_text_under_the_longest_line_of_a_paste_as_is_is_no_continuation() -> None:
    """A paste that was not wrapped, its widest line followed by the mail's own text: one line
    that long is no wrap's width, and nothing is joined (``Thanks, Ian`` was read onto it)."""
    lines = [
        bes_line("05/21 06:51:38.000", "Generating 3DES key", user="ian@x.net"),
        bes_line("05/21 06:51:39.000", "*** OTAKEYGEN *** sending KEY_ACCEPT transID = 2077103732"),
        "Thanks, Ian",
    ]
    data = "\r\n".join(lines).encode() + b"\r\n"
    assert unwrap(data) == (data, 0)
