"""Selecting activations: the ``--user``, ``--server``, ``--since``, ``--until`` and ``--status`` filters."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bes_logdiag.model import Activation, Report, Status
from bes_logdiag.names import fold


@dataclass(frozen=True)
class Selection:
    users: tuple[str, ...] = ()
    servers: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    statuses: tuple[Status, ...] = ()


def _name_forms(text: str) -> set[str]:
    """``Müller, Jürgen`` as ``mueller, juergen`` and ``juergen mueller`` (accents folded)."""
    name = " ".join(fold(text).split())
    last, comma, first = name.partition(",")
    return {name, f"{first.strip()} {last.strip()}"} if comma else {name}


def user_matches(query: str, act: Activation) -> bool:
    """An address, a numeric user id or a display name (``Last, First`` or ``First Last``), in
    any case and spacing, accents folded as the identity join folds them."""
    q = " ".join(fold(query).split())
    names = {(act.email or "").lower(), act.user_id or ""}
    if act.display_name:
        names |= _name_forms(act.display_name)
    return q in names - {""}


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


def unmatched(report: Report, sel: Selection) -> list[str]:
    """A word for each --user and --server value that no activation in the logs has: a typo
    should not pass for a clean run in CI."""
    acts = report.activations
    notes = [
        f"--user {u!r}: no activation of this user in the logs"
        for u in sel.users
        if not any(user_matches(u, a) for a in acts)
    ]
    servers = sorted({a.server for a in acts if a.server})
    notes += [
        f"--server {s!r}: no activation on this server (servers with activations: "
        f"{', '.join(servers) or 'none'})"
        for s in sel.servers
        if s.lower() not in {x.lower() for x in servers}
    ]
    return notes


def select(report: Report, sel: Selection) -> Report:
    """The report with only the activations the selection keeps (inputs stay as they were read)."""
    keep: Sequence[Activation] = [a for a in report.activations if selected(a, sel)]
    return dataclasses.replace(report, activations=tuple(keep))
