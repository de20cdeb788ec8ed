"""A report of every user says, under its summary, which errors were logged for users with no
activation under way: on dense logs a mailbox the service account cannot open is logged on every
poll for thousands who never activated, and the table of activations alone would not show it
(README "Reports").  The most lines first, five of them, the rest counted; a few users are named,
more counted.  A report of chosen users (``--user``) tells their own lines instead.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from builders import activation, bes_line, bes_name, mailbox_error_text, run_cli, write_lines

DAY = datetime(2024, 5, 21)
T0 = DAY.replace(hour=8)


def mailbox_errors(users: list[str], polls: int, t0: datetime = T0) -> list[str]:
    """Each user's mailbox refused on every poll, a minute apart."""
    return [
        bes_line(t0 + timedelta(minutes=p, seconds=i), mailbox_error_text(f"/o=EU/cn={u}"), user=u, eid=20400)
        for p in range(polls)
        for i, u in enumerate(users)
    ]


def write_server(root: Path, server: str, lines: list[str], *, with_activation: bool = True) -> None:
    """One MAGT log of the day (the given lines, then one user's whole activation: the report has
    an activation besides the errors), and that activation's POLC and SYNC logs."""
    parts = {
        s: [x for _, x in pairs]
        for s, pairs in activation(
            "anna.berg@example.eu", 1003, "Berg, Anna", T0 + timedelta(hours=1)
        ).items()
    }
    services = {"MAGT": lines + (parts["MAGT"] if with_activation else [])}
    if with_activation:
        services |= {s: parts[s] for s in ("POLC", "SYNC")}
    for service, service_lines in services.items():
        write_lines(root / f"{DAY:%Y%m%d}" / bes_name(server, service, DAY), service_lines)


def scan(*args: object) -> str:
    result = run_cli("scan", *args, "--jobs", "1")
    assert result.exit_code in (0, 1), result.stderr
    return result.stdout


def block(stdout: str) -> list[str]:
    """The lines under "Errors outside any activation", up to the next blank line."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Errors outside any activation"))
    rest = lines[start + 1 :]
    return [line.strip() for line in rest[: rest.index("") if "" in rest else len(rest)]]


def test_idle_users_mailbox_errors_are_one_line_under_the_summary(tmp_path: Path) -> None:
    users = [f"idle{n:04d}@example.eu" for n in range(40)]
    write_server(tmp_path, "BB01", mailbox_errors(users, polls=3))
    out = scan(tmp_path)
    summary = next(
        i for i, line in enumerate(out.splitlines()) if "activations:" in line or "activation:" in line
    )
    assert out.splitlines()[summary + 1] == (
        "Errors outside any activation (scan --user USER tells one user's; events lists every line):"
    )
    assert block(out) == [
        "120 mailbox_not_reachable errors (KB02276) of 40 users on BB01, from 2024-05-21 08:00:00 to 2024-05-21 08:02:39"
    ]


def test_a_few_users_are_named(tmp_path: Path) -> None:
    write_server(tmp_path, "BB01", mailbox_errors(["kdoe@example.eu", "jroe@example.eu"], polls=1))
    assert block(scan(tmp_path)) == [
        "2 mailbox_not_reachable errors (KB02276) of kdoe@example.eu, jroe@example.eu on BB01, "
        "from 2024-05-21 08:00:00 to 2024-05-21 08:00:01"
    ]


def test_four_users_are_counted(tmp_path: Path) -> None:
    users = ["a@example.eu", "b@example.eu", "c@example.eu", "d@example.eu"]
    write_server(tmp_path, "BB01", mailbox_errors(users, polls=1))
    assert block(scan(tmp_path)) == [
        "4 mailbox_not_reachable errors (KB02276) of 4 users on BB01, from 2024-05-21 08:00:00 to 2024-05-21 08:00:03"
    ]


def test_one_error_logged_by_two_patterns_is_one_line(tmp_path: Path) -> None:
    """``User not started`` and ``OpenDatabase() failed`` are both user_not_started (KB10321); lines
    without a user belong to no activation."""
    lines = [
        bes_line(T0, "MAPIMailbox::OpenDatabase() failed, error=0x80040111", eid=20000),
        bes_line(T0 + timedelta(seconds=5), "User not started", eid=20000),
    ]
    write_server(tmp_path, "BB01", lines)
    assert block(scan(tmp_path)) == [
        "2 user_not_started errors (KB10321) naming no user on BB01, from 2024-05-21 08:00:00 to 2024-05-21 08:00:05"
    ]


def test_five_are_shown_the_most_lines_first_and_the_rest_counted(tmp_path: Path) -> None:
    for n in range(6):
        write_server(
            tmp_path, f"BB0{n}", mailbox_errors([f"u{n}{i}@example.eu" for i in range(n + 1)], polls=2)
        )
    lines = block(scan(tmp_path))
    assert [
        line.split(" (KB02276) of ")[0] + " " + line.split(" on ")[1].split(",")[0] for line in lines[:5]
    ] == [
        "12 mailbox_not_reachable errors BB05",
        "10 mailbox_not_reachable errors BB04",
        "8 mailbox_not_reachable errors BB03",
        "6 mailbox_not_reachable errors BB02",
        "4 mailbox_not_reachable errors BB01",
    ]
    assert lines[5:] == ["and 1 more (2 lines)"]


def test_no_error_outside_an_activation_no_block(tmp_path: Path) -> None:
    write_server(tmp_path, "BB01", [])
    assert "Errors outside any activation" not in scan(tmp_path)


def test_a_report_of_one_user_tells_their_own_lines_instead(tmp_path: Path) -> None:
    users = [f"idle{n:04d}@example.eu" for n in range(4)]
    write_server(tmp_path, "BB01", mailbox_errors(users, polls=3))
    out = scan(tmp_path, "--user", "idle0002@example.eu")
    assert "Errors outside any activation" not in out
    assert "idle0002@example.eu on BB01: no activation, but 3 mailbox_not_reachable errors (KB02276)" in out


def test_a_report_of_one_user_whose_activation_is_left_out_tells_nothing_outside(tmp_path: Path) -> None:
    """README: a user whose activation ``--status`` leaves out gets none of this, nor everyone's."""
    lines = mailbox_errors(["anna.berg@example.eu", "idle@example.eu"], polls=3)
    write_server(tmp_path, "BB01", lines)
    out = scan(tmp_path, "--user", "anna.berg@example.eu", "--status", "failed")
    assert "Errors outside any activation" not in out
    assert "mailbox_not_reachable" not in out


def test_the_html_report_escapes_the_names_in_its_section(tmp_path: Path) -> None:
    write_server(tmp_path, "BB01", mailbox_errors(["<img src=x onerror=alert(1)>@example.eu"], polls=1))
    page = scan(tmp_path, "--format", "html")
    section = page.split('<section id="errors-outside"')[1].split("</section>")[0]
    assert "&lt;img src=x onerror=alert(1)&gt;@example.eu" in section
    assert "<img" not in section


def test_a_report_drawn_from_an_edited_json_leaves_out_an_unreadable_item(tmp_path: Path) -> None:
    users = [f"idle{n:04d}@example.eu" for n in range(4)]
    write_server(tmp_path / "logs", "BB01", mailbox_errors(users, polls=3))
    saved = tmp_path / "report.json"
    assert run_cli("scan", tmp_path / "logs", "--format", "json", "-o", saved, "--jobs", "1").exit_code == 0
    doc = json.loads(saved.read_text(encoding="utf-8"))
    item = dict(doc["unattached"][0])
    del item["first"]
    doc["unattached"].append(item)
    saved.write_text(json.dumps(doc), encoding="utf-8")
    result = run_cli("report", saved, "-o", tmp_path / "page.html")
    assert result.exit_code == 0, result.stderr
    page = (tmp_path / "page.html").read_text(encoding="utf-8")
    assert page.count("<td><code>mailbox_not_reachable</code></td>") == 1
    assert '<td class="num">12</td>' in page  # (the item left out added none of its lines)


def test_markdown_has_the_section(tmp_path: Path) -> None:
    users = [f"idle{n:04d}@example.eu" for n in range(40)]
    write_server(tmp_path, "BB01", mailbox_errors(users, polls=3))
    out = scan(tmp_path, "--format", "markdown")
    assert "\n## Errors outside any activation\n" in out
    assert "- 120 mailbox\\_not\\_reachable errors (KB02276) of 40 users on BB01, from " in out


@pytest.mark.parametrize("fmt", ["table", "markdown"])
def test_log_text_in_a_user_name_is_shown_as_text(tmp_path: Path, fmt: str) -> None:
    """The user names come from the log: an escape sequence in one is shown, not obeyed."""
    write_server(tmp_path, "BB01", mailbox_errors(["evil\x1b]0;pwned\x07@example.eu"], polls=1))
    out = scan(tmp_path, "--format", fmt)
    assert "\x1b" not in out and "\x07" not in out
    assert "x1b" in out.split("Errors outside any activation")[1].split("pwned")[0]
