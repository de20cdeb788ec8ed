"""`presence check` lists findings by file (in the order given) and by line, whichever check found them."""

from __future__ import annotations

from pathlib import Path

from builders import host, presence_check, presence_cli, swap
from guide_keys import host_text


def _two_hosts(tmp_path: Path) -> tuple[Path, Path]:
    """bems02 differs in pool (a host finding, early in the file), has a bad limit (a file finding,
    further down) and shares bems01's second endpoint (a host finding at the end)."""
    two = host_text(2, pool="otherpool.corp.example.com")
    two = swap(two, 'value="2000"', 'value="0"')
    two = swap(two, "presence_bems02-01.corp", "presence_bems01-01.corp")
    return host(tmp_path, "bems01", host_text(1)), host(tmp_path, "bems02", two)


def test_json_findings_are_by_file_then_line(tmp_path: Path) -> None:
    one, two = _two_hosts(tmp_path)
    result, doc = presence_check(one, two)
    assert result.exit_code == 1
    files = [f["file"] for f in doc["findings"]]
    assert files == sorted(files, key=[str(one), str(two)].index)
    second = [f for f in doc["findings"] if f["file"] == str(two)]
    lines = [f["line"] for f in second]
    assert lines == sorted(lines)
    rules = [f["rule"] for f in second]
    assert rules.index("hosts-pool-differs") < rules.index("max-subscriptions-invalid")
    assert rules.index("max-subscriptions-invalid") < rules.index("hosts-endpoint-shared")


def test_the_table_lists_them_by_line_too(tmp_path: Path) -> None:
    one, two = _two_hosts(tmp_path)
    table = presence_cli("check", one, two).stdout
    section = table[table.index(str(two)) : table.index("Subscription capacity")]
    rows = [line.split("│") for line in section.splitlines() if line.startswith("│")]
    lines = [int(cells[1]) for cells in rows if cells[1].strip()]
    assert len(lines) >= 4
    assert lines == sorted(lines)
    flat = " ".join(section.split())
    assert flat.index("hosts-pool-differs") < flat.index("max-subscriptions-invalid")


def test_files_keep_the_command_line_order(tmp_path: Path) -> None:
    one, two = _two_hosts(tmp_path)
    _, doc = presence_check(two, one)
    files = [f["file"] for f in doc["findings"]]
    assert files.index(str(two)) < files.index(str(one))
    assert files == sorted(files, key=[str(two), str(one)].index)
