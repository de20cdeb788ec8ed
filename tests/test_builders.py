"""Guards on tests/builders.py: the damage functions really damage, the busy day really is busy."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from builders import (
    BUSY_BURSTS,
    BUSY_SERVERS,
    JOERG,
    OUTCOMES,
    QUIRKS,
    BusyDay,
    activation,
    address_fold,
    q_no_ms,
    q_no_thread,
    q_one_digit_id,
)


def test_quirk_functions_change_lines() -> None:
    """Guard against the damage builders doing nothing."""
    t = datetime(2019, 6, 14, 9, 30, 0, 125000)
    base = activation(*JOERG, t)
    lines = [line for items in base.values() for _, line in items]
    for q in QUIRKS:
        assert any(q(x) != x for x in lines), q.__name__
    assert q_no_ms("[40000] (06/14 09:30:00.125):{0x1AEC} x") == "[40000] (06/14 09:30:00):{0x1AEC} x"
    assert q_one_digit_id("[40000] (06/14 09:30:00.125):{0x1AEC} x") == "[4] (06/14 09:30:00.125):{0x1AEC} x"
    assert (
        q_no_thread("[40000] (06/14 09:30:00.125):{0x1AEC} {a@b.c} x")
        == "[40000] (06/14 09:30:00.125): {a@b.c} x"
    )


def test_generator_is_a_busy_realistic_day(busy_world: BusyDay, busy_logs: Path) -> None:
    """Guard the busy day: scale, overlap, every outcome and join kind, isolation of time joins."""
    assert len(busy_world.users) == 61
    lines = sum(len(v) for v in busy_world.files.values())
    assert lines > 25000, lines
    codes = {k[1] for k in busy_world.files}
    assert codes == {"MAGT", "POLC", "SYNC", "CTRL", "DISP", "ROUT", "MDSS"}
    assert {k[3] for k in busy_world.files if k[1] == "MAGT" and k[2] == 1} == {1, 2}
    for s in BUSY_SERVERS:
        mine = [u for u in busy_world.users if u.server == s]
        assert {u.outcome for u in mine} == set(OUTCOMES), s
        assert {u.kind for u in mine} >= {"shape", "map", "time"}
        for b in BUSY_BURSTS:  # several users in the same minute, on both agents
            same_minute = [u for u in mine if abs((u.t0 - b).total_seconds()) < 60]
            assert len(same_minute) >= 3 and {u.agent for u in same_minute} == {1, 2}, (s, b)
    assert sum(u.kind == "amb" for u in busy_world.users) == 2
    # every service-book request and every policy line of a time-only join has no other request or
    # policy line within 3 minutes on its server (a strict reading of "nothing else in between")
    marks: dict[str, list[tuple[datetime, str]]] = {}
    for (srv, _, _, _), items in busy_world.files.items():
        for t, text in items:
            if "Queuing service book data" in text or "SET_ITPOLICY_REQUEST" in text:
                marks.setdefault(srv, []).append((t, text))
    for u in busy_world.users:
        if u.needs_time_join and u.kind != "amb":
            near = [x for x in marks[u.server] if abs((x[0] - u.t0).total_seconds()) < 200]
            assert len(near) == 2, (u.email, near)
    # names: the non-first.last addresses really have another shape
    for u in busy_world.users:
        local = u.email.split("@")[0]
        assert (local == f"{address_fold(u.first)}.{address_fold(u.last)}") == (u.kind == "shape"), u.email
