"""``bes-logdiag timeline`` for a user who activated on two servers: one timeline per server, gaps
only inside an attempt, one time format, and time and file:line whole on an 80-column terminal."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from builders import SAMPLE_LOGS, run_cli, write_activation, write_lines

from bes_logdiag.render import timeline as render

USER = "jane.doe@corp.com"


@pytest.fixture()
def logs(tmp_path: Path) -> Path:
    """Jane on MYBES (complete, 09:50-09:59) and on MYBES2 in the same minutes (stalled at stage 3),
    so the two servers' lines interleave in time."""
    folder = tmp_path / "logs"
    write_activation(folder, "MYBES", "20100521", USER, 2001, "Doe, Jane", hour=9)
    write_activation(
        folder, "MYBES2", "20100521", USER, 3001, "Doe, Jane", hour=9, upto="service_books_requested"
    )
    # MYBES2's ETP.DAT line a moment after MYBES's: a gap across servers would read +0.0s.
    path = folder / "MYBES2_MAGT_01_20100521_0001.txt"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[0] = lines[0].replace("09:50:00.100", "09:50:00.120")
    write_lines(folder / path.name, lines)
    return folder


def test_json_keeps_time_order_and_names_the_server(logs: Path) -> None:
    result = run_cli("timeline", USER, logs, "-f", "json", "-q")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["user"] == USER
    assert [a["server"] for a in doc["activations"]] == ["MYBES", "MYBES2"]
    steps = doc["milestones"]
    assert [m["time"] for m in steps] == sorted(m["time"] for m in steps)
    assert {m["server"] for m in steps} == {"MYBES", "MYBES2"}
    for m in steps:
        assert doc["activations"][m["activation"]]["server"] == m["server"]
        assert m["file"].rsplit("/", 1)[-1].startswith(f"{m['server']}_")
    # The first step on each server has no gap, although the two servers' lines interleave.
    firsts = [m for m in steps if m["milestone"] == "etp_received"]
    assert [(m["server"], m["since_previous_seconds"]) for m in firsts] == [("MYBES", None), ("MYBES2", None)]
    # Every other gap is measured from the step before on the same server.
    for server in ("MYBES", "MYBES2"):
        own = [m for m in steps if m["server"] == server]
        for before, m in zip(own, own[1:]):
            expected = (_t(m["time"]) - _t(before["time"])).total_seconds()
            assert m["since_previous_seconds"] == pytest.approx(expected)
    key = next(m for m in steps if m["server"] == "MYBES2" and m["milestone"] == "key_generated")
    assert key["since_previous_seconds"] == pytest.approx(98.88)


def _t(iso: str):  # type: ignore[no-untyped-def]
    from datetime import datetime

    return datetime.fromisoformat(iso)


def test_gap_restarts_with_each_attempt(tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    write_activation(folder, "MYBES", "20100521", USER, 2001, "Doe, Jane", hour=6, upto="etp_received")
    write_activation(folder, "MYBES", "20100521", USER, 2001, "Doe, Jane", hour=9)
    doc = json.loads(run_cli("timeline", USER, folder, "-f", "json", "-q").stdout)
    starts = [
        (m["attempt"], m["since_previous_seconds"])
        for m in doc["milestones"]
        if m["milestone"] == "etp_received"
    ]
    assert starts == [(1, None), (2, None)]


def test_table_has_one_timeline_per_server(logs: Path) -> None:
    result = run_cli("timeline", USER, logs, "-q")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    first, second = out.index("on server MYBES:"), out.index("on server MYBES2:")
    assert first < second
    mybes, mybes2 = out[first:second], out[second:]
    assert "MYBES_MAGT_01" in mybes and "MYBES2_" not in mybes
    assert "MYBES2_MAGT_01" in mybes2 and "MYBES_MAGT" not in mybes2
    assert "slowsync_complete" in mybes and "slowsync_complete" not in mybes2
    # No gap across servers: MYBES2's first line, 20 ms after MYBES's, shows none.
    assert "+0.0s" not in out
    assert _cells(mybes2, "etp_received")[1] == ""
    assert _cells(mybes2, "key_generated")[1] == "+1m38s"


def _cells(table: str, step: str) -> list[str]:
    row = next(r for r in table.splitlines() if f" {step} " in r)
    return [c.strip() for c in row.split("│")[1:-1]]


def test_one_time_format_with_milliseconds(logs: Path) -> None:
    out = run_cli("timeline", USER, logs, "-q").stdout
    times = re.findall(r"^│ (\S+ \S+) +│", out, flags=re.M)
    # 11 steps, and the stalled timeline's closing row at the end of its server's logs
    assert len(times) == 12
    assert "nothing until the logs end" in out
    assert all(re.fullmatch(r"2010-05-21 \d\d:\d\d:\d\d\.\d{3}", t) for t in times), times
    assert "2010-05-21 09:50:00.100" in times and "2010-05-21 09:51:39.000" in times


def test_the_same_format_when_the_rows_span_years(tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    write_activation(
        folder, "MYBES", "20091231", USER, 2001, "Doe, Jane", hour=22, upto="etp_received", end=None
    )
    write_activation(folder, "MYBES", "20100102", USER, 2001, "Doe, Jane", hour=9)
    out = run_cli("timeline", USER, folder, "-q").stdout
    times = re.findall(r"^│ (\S+ \S+) +│", out, flags=re.M)
    assert times[0] == "2009-12-31 22:50:00.100"
    assert all(re.fullmatch(r"20\d\d-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}", t) for t in times), times


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _render_on_terminal(monkeypatch: pytest.MonkeyPatch, paths: Path, user: str, columns: int) -> str:
    """What ``write_table`` draws on a terminal of ``columns`` columns (the CLI's stdout is a pipe)."""
    monkeypatch.setenv("COLUMNS", str(columns))
    monkeypatch.setenv("NO_COLOR", "1")
    drawn = _Terminal()
    real = render.write_table
    monkeypatch.setattr(render, "write_table", lambda q, acts, out, **kw: real(q, acts, drawn, **kw))
    assert run_cli("timeline", user, paths, "-q").exit_code == 0
    return re.sub(r"\x1b\[[0-9;]*m", "", drawn.getvalue())


@pytest.mark.parametrize(("user", "columns"), [(USER, 80), (USER, 120), ("ian.dundas@example.com", 80)])
def test_time_and_file_line_never_wrap(
    monkeypatch: pytest.MonkeyPatch, logs: Path, user: str, columns: int
) -> None:
    paths = logs if user == USER else SAMPLE_LOGS
    out = _render_on_terminal(monkeypatch, paths, user, columns)
    rows = out.splitlines()
    assert rows and all(len(r) <= columns for r in rows)
    times = re.findall(r"^│ (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) │", out, flags=re.M)
    assert times, out
    # Every time cell is whole, and every file:line is on one line of the screen.
    assert not re.search(r"^│ \d{4}-\d\d-\d\d(?! \d\d:\d\d:\d\d\.\d{3} │)", out, flags=re.M)
    wheres = re.findall(r"([A-Z0-9_]+_(?:MAGT|POLC|SYNC)_\d\d_\d{8}_\d{4}\.txt:\d+)", out)
    closing = out.count("nothing until the logs end")  # (a stalled timeline's last row)
    assert len(wheres) == len(times) - closing, out
    json_doc = json.loads(run_cli("timeline", user, paths, "-f", "json", "-q").stdout)
    expected = {f"{m['file'].rsplit('/', 1)[-1]}:{m['line']}" for m in json_doc["milestones"]}
    assert set(wheres) == expected


def test_narrow_terminal_puts_the_line_under_the_step(monkeypatch: pytest.MonkeyPatch, logs: Path) -> None:
    out = _render_on_terminal(monkeypatch, logs, USER, 80)
    assert "on server MYBES:" in out and "on server MYBES2:" in out
    assert "files in " in out
    assert re.search(r"etp_received\s+try 1, stage 1", out)


def test_wide_output_keeps_one_line_per_step(logs: Path) -> None:
    out = run_cli("timeline", USER, logs, "-q").stdout
    assert "Where" in out and "Line" in out
    assert _cells(out, "key_generated")[4:6] == ["key_generated", "MYBES_MAGT_01_20100521_0001.txt:2"]
