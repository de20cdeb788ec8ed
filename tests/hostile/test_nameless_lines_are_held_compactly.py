"""Memory bounded by activations, not by matched lines (issue 15): a line that names nobody and can
neither open an attempt nor take its owner from its thread (a mailbox error without its user, on
every poll) belongs to no activation, so a file's run of them is held compactly (`runs.Run`), not
as an event per line.  The report says the same as if every line were held; ``events``, which
lists every line, still gets them all.  (tests/test_lines_outside_activations.py: lines that name
a user.)"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

from builders import (
    EU1,
    JOERG,
    activation,
    bes_line,
    merge,
    run_cli,
    scan_json,
    unattached_users,
    write_server,
)

T0 = datetime(2024, 3, 12, 9, 0)
ERROR = "MAPIMailbox::MAPIMailbox - OpenMsgStore (0x8004011d) failed, MailboxDN=/o=EU/ou=Exchange/cn=x"
PATTERN = "magt.mailbox-open-failed"
NAMELESS = 3000


def _logs(root: Path) -> Path:
    noise = [
        (T0 + timedelta(seconds=2 * i), bes_line(T0 + timedelta(seconds=2 * i), ERROR))
        for i in range(NAMELESS)
    ]
    # one line written late but stamped earliest (threads write a little out of order)
    early = T0 - timedelta(seconds=1)
    noise.append((T0 + timedelta(seconds=11), bes_line(early, ERROR)))  # (12 s late: no clock step)
    named = [
        (T0 + timedelta(minutes=m), bes_line(T0 + timedelta(minutes=m), ERROR, user="kim@example.eu"))
        for m in range(5)
    ]
    write_server(root, EU1, merge(activation(*JOERG, T0 + timedelta(minutes=30)), {"MAGT": noise + named}))
    return root


def test_the_report_counts_every_nameless_line_and_keeps_the_first_and_last(tmp_path: Path) -> None:
    logs = _logs(tmp_path / "logs")
    _, report, _ = scan_json(logs)
    groups = {(u["email"], u["pattern"]): u for u in unattached_users(report)}
    nameless = groups[(None, PATTERN)]
    assert nameless["count"] == NAMELESS + 1
    assert nameless["first"].startswith("2024-03-12T08:59:59")  # the line stamped earliest
    assert nameless["last"].startswith((T0 + timedelta(seconds=2 * (NAMELESS - 1))).isoformat())
    assert groups[("kim@example.eu", PATTERN)]["count"] == 5
    assert [(a["email"], a["status"]) for a in report["activations"]] == [(JOERG[0], "complete")]
    assert (
        report["inputs"]["matched"]
        == NAMELESS + 1 + 5 + sum(1 for a in report["activations"] for _ in a["milestones"])
        or report["inputs"]["matched"] >= NAMELESS + 6
    )


def test_events_still_lists_every_line(tmp_path: Path) -> None:
    logs = _logs(tmp_path / "logs")
    result = run_cli("events", logs, "--format", "ndjson", "-q")
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert sum(1 for r in records if r["pattern"] == PATTERN and not r.get("email")) == NAMELESS + 1
