"""The lines around an evidence line (the report's ``context``) are read again where the scan saw
the line begin, not from the file's start: every matched line knows its place in the file, and
the lines read from there are the file's own lines, whatever the line ends, BOM, over-long lines
or 8-bit text of the file."""

from __future__ import annotations

import codecs
import gzip
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from builders import bes_line, key_text, mailbox_error_text
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bes_logdiag.decode import LONG_LINE
from bes_logdiag.evidence_context import LINE_LIMIT, lines_around
from bes_logdiag.filescan import scan_source
from bes_logdiag.match import Matcher
from bes_logdiag.pattern_check import load_checked_library
from bes_logdiag.read import discover

T0 = datetime(2024, 3, 12, 9, 0)
MATCHER = Matcher(load_checked_library(()))


def _log_lines() -> list[str]:
    """A MAGT log: key lines (events) among a mailbox error logged for three users on every
    poll (held as runs), and lines that match nothing."""
    out = []
    for i in range(120):
        t = T0 + timedelta(seconds=7 * i)
        if i % 10 == 3:
            out.append(bes_line(t, key_text(), tid="E1C", user=f"user{i}@corp.com"))
        elif i % 3 == 0:
            out.append(bes_line(t, mailbox_error_text(dn=f"/o=EU/cn=idle{i % 9}")))
        else:
            out.append(bes_line(t, f"[CMIME] polling mailbox {i} ñ"))
    return out


def _file_bytes(layout: str) -> bytes:
    lines = _log_lines()
    end = "\r\n" if layout == "crlf" else "\n"
    if layout == "over-long line":  # passed over by the reader, and counted: the places after it still hold
        lines.insert(40, "x" * (LONG_LINE + 300 * 1024))
    text = end.join(lines) + end
    if layout == "utf-16":
        return codecs.BOM_UTF16_LE + text.encode("utf-16-le")
    data = text.encode("cp1252" if layout == "cp1252" else "utf-8")
    return codecs.BOM_UTF8 + data if layout == "bom" else data


def _scan(path: Path, compact: bool):  # type: ignore[no-untyped-def]
    (src,) = discover([str(path)])[0]
    kw = {"year": None, "default_year": 2024, "thread_window": timedelta(minutes=5)}
    return src, scan_source(src, MATCHER, **kw, compact=compact)


@pytest.mark.parametrize("layout", ["lf", "crlf", "bom", "cp1252", "over-long line", "gzip"])
@pytest.mark.parametrize("compact", [True, False], ids=["runs", "events"])
def test_every_matched_line_knows_where_it_begins(tmp_path: Path, layout: str, compact: bool) -> None:
    data = _file_bytes("lf" if layout == "gzip" else layout)
    path = tmp_path / "BBPROD01_MAGT_01_20240312_0001.txt"
    path.write_bytes(gzip.compress(data) if layout == "gzip" else data)
    _, result = _scan(path, compact)
    places = [(e.line, e.offset) for e in result.events]
    for run in result.runs:
        places += [(run.first.line, run.first.offset)] + [
            (line, offset) for _, line, offset, _, _ in run.raw()
        ]
    assert len(places) == 120 // 10 + 120 // 3 - 4  # (every key line, every mailbox error)
    numbered = data.split(b"\n")
    for line, offset in places:
        assert offset is not None
        assert data[offset:].split(b"\n", 1)[0] == numbered[line - 1].removeprefix(codecs.BOM_UTF8)


def test_utf16_lines_have_no_place_and_their_context_is_read_from_the_start(tmp_path: Path) -> None:
    path = tmp_path / "BBPROD01_MAGT_01_20240312_0001.txt"
    path.write_bytes(_file_bytes("utf-16"))
    src, result = _scan(path, compact=False)
    assert result.events and all(e.offset is None for e in result.events)
    e = result.events[len(result.events) // 2]
    lines = lines_around(src, {e.line: e.offset}, 2)
    assert lines[e.line] == _log_lines()[e.line - 1]
    assert sorted(lines) == list(range(e.line - 2, e.line + 3))


LINE = st.one_of(
    st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\r\n"), max_size=80),
    # past the windows; told from a piece of itself by its start
    st.builds(lambda n, c: f"<{n}>" + c * n, st.integers(300, 70_000), st.sampled_from("ab")),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lines=st.lists(LINE, min_size=1, max_size=40),
    crlf=st.booleans(),
    bom=st.booleans(),
    last_end=st.booleans(),
    data=st.data(),
)
def test_the_lines_read_around_a_place_are_the_files_lines(
    tmp_path: Path, lines: list[str], crlf: bool, bom: bool, last_end: bool, data: st.DataObject
) -> None:
    """Read from each evidence line's place, or from the file's start where no place is known,
    the lines from two before to two after are the file's own, cut at `LINE_LIMIT`, and none past
    its start or end."""
    assume(last_end or lines[-1])  # (else the file's last line is the one before: no line after a line end)
    end = b"\r\n" if crlf else b"\n"
    raw = [line.encode() for line in lines]
    body = end.join(raw) + (end if last_end else b"")
    path = tmp_path / "log.txt"
    path.write_bytes((codecs.BOM_UTF8 if bom else b"") + body)
    starts, at = [], len(codecs.BOM_UTF8) if bom else 0
    for r in raw:
        starts.append(at)
        at += len(r) + len(end)
    picked = data.draw(st.sets(st.integers(1, len(lines)), min_size=1, max_size=5))
    known = data.draw(st.lists(st.booleans(), min_size=len(picked), max_size=len(picked)))
    evidence = {n: starts[n - 1] if k else None for n, k in zip(sorted(picked), known)}
    (src,) = discover([str(path)])[0]

    got = lines_around(src, evidence, 2)

    wanted = {m for n in evidence for m in range(max(1, n - 2), min(len(lines), n + 2) + 1)}
    assert set(got) == wanted
    for m in wanted:
        text = lines[m - 1]
        assert got[m] == (text if len(text) <= LINE_LIMIT else text[: LINE_LIMIT - 1] + "…")
