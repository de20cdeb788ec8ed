"""A --user who never activated, but whose lines the logs hold outside any activation (a mailbox the
service account cannot open, KB02276), is told what those lines are in every format for people:
"no activation, but 14 mailbox_not_reachable errors (KB02276) from ... to ...", with the first and
the last line; not a bare "no activation".  The run still exits 0 (no typo, nothing to fail), and
``timeline`` shows them while exiting 1 (no activation of the user)."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from builders import (
    EU1,
    EU2,
    SAMPLE_LOGS,
    activation,
    bes_line,
    mailbox_error_text,
    merge,
    policy_at,
    run_cli,
    unattached_users,
    write_server,
)

IDLE = "idle.user@example.eu"
OTHER = "other.idle@example.eu"
IAN = ("ian.dundas@example.eu", 1002, "Dundas, Ian")
FIRST = datetime(2024, 1, 1, 8, 30)
KB_TITLE = "BES service account cannot open the user's mailbox"
HEADLINE = (
    f"{IDLE} on {EU1}: no activation, but 14 mailbox_not_reachable errors (KB02276) "
    "from 2024-01-01 08:30:00 to 2024-01-01 09:09:00"
)


def mailbox_errors(
    user: str, first: datetime, count: int, dn: str | None = None
) -> list[tuple[datetime, str]]:
    """The Messaging Agent failing to open ``user``'s mailbox every 3 minutes from ``first``."""
    times = [first + timedelta(minutes=3 * i) for i in range(count)]
    text = mailbox_error_text(dn or f"/o=EU/cn={user.split('@')[0]}")
    return [(t, bes_line(t, text, user=user, eid=20400)) for t in times]


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Ian activates; IDLE's mailbox cannot be opened 14 times from 08:30 (and once on another
    server); another idle user's once; an IT policy push to Ian hours after his activation."""
    root = tmp_path_factory.mktemp("outside")
    ian = activation(*IAN, datetime(2024, 1, 1, 6, 50))
    loose = mailbox_errors(IDLE, FIRST, 14) + mailbox_errors(OTHER, datetime(2024, 1, 1, 8, 0), 1)
    write_server(
        root / EU1, EU1, merge(ian, {"MAGT": loose, "POLC": [policy_at(datetime(2024, 1, 1, 11), IAN[1])]})
    )
    write_server(root / EU2, EU2, {"MAGT": mailbox_errors(IDLE, datetime(2024, 1, 1, 10), 2)})
    return root


def magt(logs: Path) -> Path:
    return logs / EU1 / "20240101" / f"{EU1}_MAGT_01_20240101_0001.txt"


def line_of(path: Path, needle: str, nth: int = 1) -> int:
    numbers = [n for n, text in enumerate(path.read_text().splitlines(), 1) if needle in text]
    return numbers[nth - 1]


def test_the_table_says_what_the_lines_are_with_the_first_and_last(logs: Path) -> None:
    result = run_cli("scan", logs, "--user", IDLE, "--server", EU1, "--width", "200", "--jobs", "1")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert HEADLINE in out
    assert f"KB02276  {KB_TITLE}" in out
    first, last = line_of(magt(logs), "cn=idle.user"), line_of(magt(logs), "cn=idle.user", 14)
    assert f"! 2024-01-01 08:30:00 {magt(logs)}:{first}  MAPIMailbox::MAPIMailbox - OpenMsgStore" in out
    assert f"! 2024-01-01 09:09:00 {magt(logs)}:{last} (the last of 14)" in out
    # only the chosen user, on the chosen server
    assert OTHER not in out and EU2 not in out.split("0 failed", 1)[1]
    # (the note counts the user's lines on every server)
    assert "no activation of this user in the logs, only 16 lines outside any activation" in result.stderr


def test_every_server_of_the_user_is_told(logs: Path) -> None:
    out = run_cli("scan", logs, "--user", IDLE, "--width", "200", "--jobs", "1").stdout
    assert HEADLINE in out
    assert (
        f"{IDLE} on {EU2}: no activation, but 2 mailbox_not_reachable errors (KB02276) "
        "from 2024-01-01 10:00:00 to 2024-01-01 10:03:00"
    ) in out


def test_a_user_with_an_activation_is_told_the_lines_besides_it(logs: Path) -> None:
    out = run_cli("scan", logs, "--user", IAN[0], "--width", "200", "--jobs", "1").stdout
    assert re.search(rf"{re.escape(IAN[0])}\W+complete", out)
    assert (
        f"{IAN[0]} on {EU1}: also, outside the activation: 1 itpolicy_queued line at 2024-01-01 11:00:00"
        in out
    )


def test_without_user_the_lines_outside_are_not_listed(logs: Path) -> None:
    for fmt in ("table", "markdown"):
        out = run_cli("scan", logs, "--format", fmt, "--jobs", "1", "-q").stdout
        assert "no activation, but" not in out and "Outside any activation" not in out
    out = run_cli("scan", logs, "--server", EU1, "--jobs", "1", "-q").stdout
    assert "no activation, but" not in out


def test_markdown_is_the_users_case_file(logs: Path) -> None:
    result = run_cli("scan", logs, "--user", IDLE, "--server", EU1, "--format", "markdown", "--jobs", "1")
    assert result.exit_code == 0, result.stderr
    md = result.stdout
    assert md.startswith(f"# Activation case file: {IDLE}\n")
    section = md.split("## Outside any activation\n", 1)[1]
    assert (
        "### idle.user@example.eu on BES\\_EU\\_01: no activation, but 14 mailbox\\_not\\_reachable errors "
        "(KB02276) from 2024-01-01 08:30:00 to 2024-01-01 09:09:00"
    ) in section
    assert f"- **Article:** KB02276 {KB_TITLE}" in section
    assert (
        f"- `{magt(logs)}:{line_of(magt(logs), 'cn=idle.user', 14)}` 2024-01-01 09:09:00 (the last of 14)"
        in section
    )


def test_html_is_the_users_case_file(logs: Path) -> None:
    result = run_cli("scan", logs, "--user", IDLE, "--server", EU1, "--format", "html", "--jobs", "1")
    assert result.exit_code == 0, result.stderr
    page = result.stdout
    assert f"<h1>Activation case file: {IDLE}</h1>" in page
    assert '<a href="#outside">Outside any activation</a>' in page
    section = page.split('<section id="outside"', 1)[1].split("</section>", 1)[0]
    assert f"<p>{HEADLINE.split(': ', 1)[1]}</p>" in section
    assert "BES service account cannot open the user&#x27;s mailbox" in section
    assert "(the last of 14)" in section


def test_timeline_shows_the_lines_and_exits_1(logs: Path) -> None:
    result = run_cli("timeline", IDLE, logs, "--width", "200", "--jobs", "1")
    assert result.exit_code == 1
    out = result.stdout
    assert (
        f"{IDLE} · - · UserId=- on server {EU1}: no activation, but 14 mailbox_not_reachable errors "
        "(KB02276) from 2024-01-01 08:30:00.000 to 2024-01-01 09:09:00.000"
    ) in out
    assert f"on server {EU2}: no activation, but 2 mailbox_not_reachable errors" in out
    rows = [r for r in out.splitlines() if r.startswith("│ 2024-")]
    assert [r.split("│")[1].strip() for r in rows] == [
        "2024-01-01 08:30:00.000", "2024-01-01 09:09:00.000", "2024-01-01 10:00:00.000", "2024-01-01 10:03:00.000",
    ]  # fmt: skip
    assert "ERROR mailbox_not_reachable (KB02276)" in rows[0]
    assert "first of 14" in out and "last of 14" in out
    assert result.stderr == (
        f"bes-logdiag: no activation of {IDLE!r} in these logs, only 16 lines outside any activation (shown)\n"
    )


def test_timeline_json_lists_the_users_groups(logs: Path) -> None:
    result = run_cli("timeline", IDLE, logs, "--format", "json", "--jobs", "1", "-q")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["activations"] == [] and doc["milestones"] == []
    assert [(g["server"], g["email"], g["kb"], g["count"]) for g in unattached_users(doc)] == [
        (EU1, IDLE, "KB02276", 14),
        (EU2, IDLE, "KB02276", 2),
    ]


def test_scan_json_keeps_only_the_chosen_users_groups(logs: Path) -> None:
    result = run_cli("scan", logs, "--user", IDLE, "--format", "json", "--jobs", "1", "-q")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert {(g["server"], g["email"]) for g in unattached_users(doc)} == {(EU1, IDLE), (EU2, IDLE)}
    everyone = json.loads(run_cli("scan", logs, "--format", "json", "--jobs", "1", "-q").stdout)
    assert {g["email"] for g in unattached_users(everyone)} >= {IDLE, OTHER}


def test_the_samples_idle_user(tmp_path: Path) -> None:
    """sample_logs: david.dietz@example.com never activated; the service account cannot open his mailbox."""
    result = run_cli("scan", SAMPLE_LOGS, "--user", "david.dietz@example.com", "--width", "200")
    assert result.exit_code == 0, result.stderr
    assert (
        "david.dietz@example.com on BBPROD01: no activation, but 1 mailbox_not_reachable error (KB02276) "
        "at 2023-12-30 11:30:49"
    ) in result.stdout


def test_log_text_outside_activations_is_shown_not_obeyed(tmp_path: Path) -> None:
    dn = "/o=EU/cn=\x1b[2J<script>alert(1)</script>\u202e"
    write_server(tmp_path, EU1, {"MAGT": mailbox_errors(IDLE, FIRST, 1, dn=dn)})
    table = run_cli("scan", tmp_path, "--user", IDLE, "--jobs", "1", "-q").stdout
    assert "\x1b" not in table and "\u202e" not in table
    assert "cn=\\x1b[2J<script>alert(1)</script>\\u202e" in table
    timeline = run_cli("timeline", IDLE, tmp_path, "--jobs", "1", "-q").stdout
    assert "\x1b" not in timeline and "\\x1b[2J" in timeline
    page = run_cli("scan", tmp_path, "--user", IDLE, "--format", "html", "--jobs", "1", "-q").stdout
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    md = run_cli("scan", tmp_path, "--user", IDLE, "--format", "markdown", "--jobs", "1", "-q").stdout
    assert "\x1b" not in md and "\\<script\\>" in md


def test_a_user_whose_activation_a_filter_left_out_is_not_said_to_have_none(logs: Path) -> None:
    result = run_cli("scan", logs, "--user", IAN[0], "--status", "stalled", "--width", "200", "--jobs", "1")
    assert result.exit_code == 0, result.stderr
    assert "no activation" not in result.stdout and "outside the activation" not in result.stdout


def test_redacted_the_lines_outside_name_the_pseudonym(logs: Path, tmp_path: Path) -> None:
    key = tmp_path / "key"
    result = run_cli(
        "scan",
        logs,
        "--user",
        IDLE,
        "--server",
        EU1,
        "--redact",
        "--key",
        key,
        "--width",
        "200",
        "--jobs",
        "1",
    )
    assert result.exit_code == 0, result.stderr
    assert "no activation, but 14 mailbox_not_reachable errors (KB02276)" in result.stdout
    assert IDLE not in result.stdout and "cn=idle.user" not in result.stdout


def test_timeline_json_of_a_user_named_nowhere_is_still_json(tmp_path: Path) -> None:
    """``timeline nosuch LOGS --format json``: nothing was written (not even the ``-o`` file), and
    ``jq`` read no JSON; a user with lines outside an activation got an object."""
    for output in (None, tmp_path / "tl.json"):
        result = run_cli(
            "timeline", "nosuch", SAMPLE_LOGS, "--format", "json", *(["-o", output] if output else [])
        )
        assert result.exit_code == 1
        text = output.read_text(encoding="utf-8") if output else result.stdout
        assert json.loads(text) == {"user": "nosuch", "activations": [], "milestones": [], "unattached": []}
        assert "no activation of 'nosuch' in these logs" in result.stderr
