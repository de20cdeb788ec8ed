"""A line whose header is exactly as a server writes it, and whose body an earlier line of the file
had, is read from its header alone (`filescan.FileScanner._again`).  It must say what the parser
says of the same line: the same times (New Year, impossible hours), threads, users, owners of the
thread, runs, counts and verdicts.  The control is the same log with the event ids dropped
(``[40000] `` gone), which no line can be read that way and the parser reads whole."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import astuple
from datetime import datetime, timedelta
from pathlib import Path

from builders import EU1, JOERG, activation, bes_line, mailbox_error_text, merge, q_no_event_id, write_server
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bes_logdiag.model import Event
from bes_logdiag.scan import run_scan
from bes_logdiag.settings import ScanConfig

T0 = datetime(2023, 12, 31, 23, 50)
BODIES = [
    mailbox_error_text(),
    mailbox_error_text("/o=EU/cn=other"),
    "MAPIMailbox::MAPIMailbox - OpenMsgStore succeeded",  # a candidate that matches nothing
    "[CICAL] Meeting request delivered",
]
USERS = [None, "kim@example.eu", "lee@example.eu", JOERG[0], "  spaced@example.eu "]

_line = st.tuples(
    st.integers(0, 3600),  # seconds after T0: across New Year
    st.sampled_from(BODIES),
    st.sampled_from(USERS),
    st.sampled_from(["1AEC", "14d4", "E1C"]),
    st.booleans(),  # an impossible hour (25:00) in place of the time
)


def _report(lines: list[str], root: Path) -> tuple[object, ...]:
    write_server(root, EU1, merge(activation(*JOERG, T0, upto="key"), {"MAGT": [(T0, x) for x in lines]}))
    report = run_scan(ScanConfig(paths=(str(root),), jobs=1))
    stats = [(f.lines, f.matched, f.unparsed, f.first_time, f.last_time) for f in report.inputs.files]
    unattached = sorted(
        (u.email, u.pattern_id, u.count, u.first.time, u.first.line, u.last.time, u.last.line, u.first.thread)
        for u in report.unattached
        if u.email is not None
    ) + sorted((u.count, u.first.line, u.last.line) for u in report.unattached if u.email is None)
    return [_placeless(astuple(a)) for a in report.activations], unattached, stats, report.notes


def _placeless(value: object) -> object:
    """``value`` with no event's place in its file (`Event.offset`): the lines without event ids
    are shorter, so their lines begin elsewhere."""
    if isinstance(value, Event):
        return value._replace(offset=None)
    if type(value) in (tuple, list):
        return type(value)(map(_placeless, value))  # type: ignore[call-arg]
    return value


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_line, min_size=1, max_size=60))
def test_a_line_read_from_its_header_reads_as_the_parser_reads_it(
    spec: list[tuple[int, str, str | None, str, bool]],
) -> None:
    lines = []
    for sec, body, user, tid, bad in spec:
        t = T0 + timedelta(seconds=sec, milliseconds=sec % 7)
        line = bes_line(t, body, tid=tid, user=user)
        lines.append(line.replace(f"{t:%H}:", "25:", 1) if bad else line)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "logs"
        plain = _report(lines, root)
        shutil.rmtree(root)  # (the same paths, so that the reports compare whole)
        parsed = _report([q_no_event_id(x) for x in lines], root)
    assert plain == parsed
