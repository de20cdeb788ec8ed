"""Many overlapping activations: a captured day of three busy servers (builders.busy_day) gives every
user's verdict, one activation each, nothing split or invented, and filters and events that pick
the right users.
"""

from __future__ import annotations

from pathlib import Path

from builders import (
    BUSY_END,
    BUSY_SERVERS,
    REACHES_SYNC,
    STAGE,
    BusyDay,
    address_fold,
    by_email,
    run_json,
    unattached_users,
)


def test_busy_day_every_user_status_stage_kb_and_names(
    busy_world: BusyDay, busy_report: tuple[int, dict, str]
) -> None:  # type: ignore[type-arg]
    code, rep, _ = busy_report
    assert code == 1
    got = by_email(rep)
    wrong = []
    for u in busy_world.users:
        if u.kind == "amb":
            continue
        acts = got.get(u.email, [])
        row = (
            {k: acts[0][k] for k in u.expect}
            if len(acts) == 1
            else [(a["status"], a["user_id"]) for a in acts]
        )
        if row != u.expect:
            wrong.append((u.email, u.kind, u.outcome, row, u.expect))
    assert not wrong, "\n".join(map(str, wrong))
    assert rep["log_end"] == {s: BUSY_END.isoformat(timespec="milliseconds") for s in BUSY_SERVERS}


def test_busy_day_one_activation_per_user_except_the_refused_pair(
    busy_world: BusyDay, busy_report: tuple[int, dict, str]
) -> None:  # type: ignore[type-arg]
    """61 users: 61 activations, plus one extra for each half of the pair the tool refused to join."""
    _, rep, _ = busy_report
    acts = rep["activations"]
    amb = [u for u in busy_world.users if u.kind == "amb"]
    assert len(acts) == len(busy_world.users) + len(amb)
    assert rep["summary"]["activations"] == len(acts)
    known_emails = {u.email for u in busy_world.users}
    known_ids = {u.uid for u in busy_world.users}
    for a in acts:  # nothing invented: no idle user, no stray id
        assert a["email"] in known_emails or (a["email"] is None and a["user_id"] in {u.uid for u in amb}), a
        assert a["user_id"] is None or a["user_id"] in known_ids, a
    # the refused pair (README "Identities"): said in notes, each address alone, each id alone
    notes = " ".join(rep["notes"])
    assert all(u.email in notes for u in amb), rep["notes"]
    for u in amb:
        email_half = [a for a in acts if a["email"] == u.email]
        id_half = [a for a in acts if a["user_id"] == u.uid]
        assert len(email_half) == 1 and email_half[0]["user_id"] is None
        assert len(id_half) == 1 and id_half[0]["email"] is None
        assert (id_half[0]["status"], id_half[0]["display_name"]) == ("complete", u.display)
    # the idle users' pushes, device syncs and mailbox errors are unattached, not activations
    idle_ids = {uid for s in BUSY_SERVERS for _, uid, _ in busy_world.idle[s]}
    assert any(x.get("user_id") in idle_ids for x in unattached_users(rep))
    assert {x["email"] for x in unattached_users(rep) if x.get("error") == "mailbox_not_reachable"} == {
        e for s in BUSY_SERVERS for e, _, _ in busy_world.idle[s][:2]
    }


def test_busy_day_filters_pick_the_right_users(
    busy_world: BusyDay, busy_logs: Path, busy_maps: tuple[Path, Path]
) -> None:
    """--user as "First Last" without accents, --server with an underscore, --status."""
    u = next(
        x
        for x in busy_world.users
        if not x.first.isascii() and x.kind == "shape" and x.outcome in REACHES_SYNC
    )
    plain_name = f"{address_fold(u.first)} {address_fold(u.last)}".title()
    _, rep, _ = run_json("scan", busy_logs, "--users", busy_maps[0], "--user", plain_name)
    assert [(a["email"], a["display_name"]) for a in rep["activations"]] == [(u.email, u.display)]
    _, rep, _ = run_json(
        "scan", busy_logs, "--users", busy_maps[0], "--server", BUSY_SERVERS[1], "--status", "failed"
    )
    want = sorted(
        x.email for x in busy_world.users if x.server == BUSY_SERVERS[1] and x.expect["status"] == "failed"
    )
    assert sorted(a["email"] for a in rep["activations"]) == want


def test_events_for_one_user_in_time_order_with_stages(
    busy_world: BusyDay, busy_logs: Path, busy_maps: tuple[Path, Path]
) -> None:
    u = next(
        x
        for x in busy_world.users
        if x.kind == "shape" and x.outcome == "complete" and x.server == BUSY_SERVERS[2]
    )
    _, rep, _ = run_json("events", busy_logs, "--users", busy_maps[0])
    mine = [e for e in rep["events"] if e["email"] == u.email]
    names = [e["milestone"] for e in mine]
    assert names[:7] == [
        "etp_received",
        "key_generated",
        "key_accept_sent",
        "service_books_requested",
        "itpolicy_queued",
        "slowsync_started",
        "calendar_sync",
    ], names
    assert names[-1] == "slowsync_complete" and set(names[7:-1]) == {"slowsync_progress"}
    assert [e["time"] for e in mine] == sorted(e["time"] for e in mine)
    assert all(e["stage"] == STAGE[e["milestone"]] for e in mine)
    assert {e["service"] for e in mine} == {"MAGT", "POLC", "SYNC"}
    assert all((e["user_id"], e["display_name"], e["server"]) == (u.uid, u.display, u.server) for e in mine)
    # the routine syncs after completion are events too, but they carry the user and start nothing
    assert len([e for e in rep["events"] if e["user_id"] == u.uid]) >= len(mine)
