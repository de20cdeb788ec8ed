"""``watch --user U --until-done``: the helpdesk follows one user while a writer thread plays the
BES, a line at a time with short pauses.  Exit code 0 when the activation completes, 1 when it
stalls or fails (with the KB), 3 when --timeout passes with nothing happening."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from builders import run_cli
from test_watch_support import (
    ANNA,
    DAY,
    ETP_TO_COMPLETE,
    FAST,
    IAN,
    T0,
    Bes,
    refuse_reading,
    started_watch,
    user,
    writer,
)


def records(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines()]


def steps_of(
    bes: Bes, names: tuple[str, int, str], upto: str = "complete", **kw: Any
) -> list[Callable[[], object]]:
    return bes.steps(user(names, T0, upto=upto, **kw))


def test_a_user_going_from_etp_to_slowsync_complete_exits_0(
    bes: Bes, monkeypatch: pytest.MonkeyPatch
) -> None:
    ready = started_watch(monkeypatch)
    anna = steps_of(bes, ANNA, upto="key", etp_tid="2AEC", key_tid="24D4")
    ian = steps_of(bes, IAN)
    writer(ready, [anna[0], *ian[:3], anna[1], *ian[3:]])
    result = run_cli("watch", bes.root, "--user", IAN[0], "--until-done", "--timeout", "10s", *FAST)
    assert result.exit_code == 0, result.stderr
    told = records(result.stdout)
    assert [(r["change"], r["event"]["milestone"]) for r in told] == ETP_TO_COMPLETE
    assert {r["email"] for r in told} == {IAN[0]}  # Anna's activation is not told
    last = told[-1]
    assert (last["status"], last["user_id"], last["display_name"], last["kb"]) == (
        "complete",
        1002,
        IAN[2],
        None,
    )


def test_a_user_who_stalls_exits_1_with_the_verdict_and_kb(bes: Bes, monkeypatch: pytest.MonkeyPatch) -> None:
    ready = started_watch(monkeypatch)
    writer(ready, steps_of(bes, IAN, upto="key"))
    result = run_cli(
        "watch", bes.root, "-u", IAN[0], "--until-done", "--stall-after", "1s", "--timeout", "10s",
        "--format", "lines", *FAST,
    )  # fmt: skip
    assert result.exit_code == 1, result.stderr
    *moving, verdict = result.stdout.splitlines()
    assert [line.split(": ", 1)[1] for line in moving] == [
        "started etp_received (stage 1)",
        "milestone key_generated (stage 2)",
    ]
    assert verdict.startswith("2024-03-11 09:00:03.000 BES_EU_01 ian.dundas@example.eu: stalled at stage 2 "
                              "(Verifying encryption) KB13843 Activation error: Contact Service Administrator; "
                              "why: the encryption key was generated but no KEY_ACCEPT followed on its thread")  # fmt: skip


def test_a_failure_exits_1_with_its_kb(bes: Bes, monkeypatch: pytest.MonkeyPatch) -> None:
    from builders import bes_line

    ready = started_watch(monkeypatch)
    fail = bes_line(T0 + timedelta(seconds=20), "User not started - the OpenDatabase() failed", tid="1B44",
                    user=IAN[0], eid=10000)  # fmt: skip
    writer(ready, [*steps_of(bes, IAN, upto="etp"), lambda: bes.write("MAGT", fail)])
    result = run_cli("watch", bes.root, "-u", "1002", "-u", IAN[0], "--until-done", "--timeout", "10s", *FAST)
    assert result.exit_code == 1, result.stderr
    *_, failed = records(result.stdout)
    assert (failed["change"], failed["status"], failed["kb"], failed["event"]["error"]) == (
        "failed", "failed", "KB10321", "user_not_started",
    )  # fmt: skip


def test_timeout_exits_3_when_nothing_happens(bes: Bes) -> None:
    result = run_cli(
        "watch", bes.root, "--user", IAN[0], "--until-done", "--timeout", "0.3s", "--interval", "0.05s"
    )
    assert result.exit_code == 3
    assert result.stdout == ""
    assert result.stderr == (
        f"bes-logdiag: --user {IAN[0]!r}: no activation of this user in the logs yet; waiting for one\n"
        "bes-logdiag: nothing changed for 0.3s: stopping (exit code 3)\n"
    )


def test_timeout_counts_from_the_last_change(bes: Bes, monkeypatch: pytest.MonkeyPatch) -> None:
    ready = started_watch(monkeypatch)
    writer(ready, steps_of(bes, IAN, upto="books"), pause=0.2)
    result = run_cli("watch", bes.root, "--timeout", "0.5s", *FAST)
    assert result.exit_code == 3
    assert [r["event"]["milestone"] for r in records(result.stdout)] == [
        "etp_received", "key_generated", "key_accept_sent", "service_books_requested",
    ]  # fmt: skip


def test_an_activation_under_way_at_the_start_is_shown_and_followed(
    bes: Bes, monkeypatch: pytest.MonkeyPatch
) -> None:
    ian = steps_of(bes, IAN)
    for step in ian[:5]:
        step()
    ready = started_watch(monkeypatch)
    writer(ready, ian[5:])
    result = run_cli(
        "watch", bes.root, "-u", IAN[0], "--until-done", "--timeout", "10s", "-f", "lines", *FAST
    )
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "2024-03-11 09:00:13.000 BES_EU_01 ian.dundas@example.eu: under way at stage 3 (Receiving services), "
        "last itpolicy_queued, next slowsync_started"
    )
    assert [line.split(": ", 1)[1] for line in lines[1:]] == [
        "milestone slowsync_started (stage 4)",
        "milestone calendar_sync (stage 4)",
        "milestone slowsync_progress (stage 4)",
        "completed slowsync_complete (stage 4)",
    ]


def test_an_unreadable_new_file_is_named_once(bes: Bes, monkeypatch: pytest.MonkeyPatch) -> None:
    from builders import bes_line

    locked = bes.path("CMNG", DAY)
    refuse_reading(monkeypatch, locked)
    ready = started_watch(monkeypatch)
    writer(ready, [lambda: bes.write("CMNG", bes_line(T0, "Total Msgs Pending 0", tid="9C4", eid=30000))])
    result = run_cli("watch", bes.root, "--timeout", "0.6s", "--interval", "0.05s")
    assert result.exit_code == 3
    assert result.stderr.count(f"{locked}: skipped: permission denied\n") == 1, result.stderr
