"""Selecting activations: the ``--user``, ``--server``, ``--since``, ``--until`` and ``--status`` filters."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bes_logdiag.model import Activation, Report, Status


@dataclass(frozen=True)
class Selection:
    users: tuple[str, ...] = ()
    servers: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    statuses: tuple[Status, ...] = ()


def user_matches(query: str, act: Activation) -> bool:
    """An address, a numeric user id or a display name, in any case and spacing."""
    q = " ".join(query.split()).lower()
    names = {act.email or "", act.user_id or "", " ".join((act.display_name or "").split())}
    return q in {n.lower() for n in names if n}


def selected(act: Activation, sel: Selection) -> bool:
    last = act.last
    if sel.users and not any(user_matches(u, act) for u in sel.users):
        return False
    if sel.servers and (act.server or "").lower() not in {s.lower() for s in sel.servers}:
        return False
    if sel.since is not None and last.last_progress < sel.since:
        return False
    if sel.until is not None and last.started > sel.until:
        return False
    return not sel.statuses or last.status in sel.statuses


def select(report: Report, sel: Selection) -> Report:
    """The report with only the activations the selection keeps (inputs stay as they were read)."""
    keep: Sequence[Activation] = [a for a in report.activations if selected(a, sel)]
    return dataclasses.replace(report, activations=tuple(keep))
