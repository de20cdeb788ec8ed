"""Baselines: the problems a site has accepted, and which activations fail a run (``--baseline``).

A CI job that scans the same captured logs, or a site with one abandoned activation, would fail on
every run forever.  ``scan --write-baseline FILE`` writes the stalled and failed activations of a
run; ``scan --baseline FILE`` accepts them, so that only a problem that is new, or has changed
(another status, another KB article), fails the run, as ruff, mypy and pip-audit users live with
findings they have accepted.

The file is JSON, and a contract (README, "Baselines"): ``{"bes-logdiag": "baseline", "version":
1, "accepted": [...]}``, one entry a line, sorted, so that a change to it reads well in a diff.
Each entry holds ``server``, ``email``, ``user_id``, ``display_name`` (``null`` where unknown),
``status`` and ``kb``.  An entry accepts an activation on the same server (compared
case-insensitively) with the same status and KB article, whose strongest name both know is the
same: the address (in any case), else the user id, else the display name.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from bes_logdiag.errors import UsageError
from bes_logdiag.model import Activation, Status
from bes_logdiag.names import fold_name
from bes_logdiag.render.json import dumps, user_id_value

FORMAT = "baseline"
VERSION = 1
PROBLEMS = frozenset({Status.STALLED, Status.FAILED})
"""The verdicts a baseline holds, whatever ``--fail-on`` says."""


@dataclass(frozen=True)
class Entry:
    """One accepted problem: who, where, and the verdict that was accepted."""

    server: str | None
    email: str | None
    user_id: str | None
    display_name: str | None
    status: Status
    kb: str | None

    @property
    def described(self) -> str:
        """``tom.reed@example.com on BBPROD01 (stalled KB13840)``."""
        who = self.email or self.display_name or f"UserId={self.user_id}"
        verdict = f"{self.status.value} {self.kb}" if self.kb else self.status.value
        return f"{who} on {self.server or '-'} ({verdict})"

    def accepts(self, act: Activation) -> bool:
        last = act.last
        if (self.server or "").lower() != (act.server or "").lower():
            return False
        if (self.status, self.kb) != (last.status, last.diagnosis.kb):
            return False
        # The strongest name both sides know decides: a display name can be two people's.
        if self.email and act.email:
            return self.email.lower() == act.email.lower()
        if self.user_id and act.user_id:
            return self.user_id == act.user_id
        if self.display_name and act.display_name:
            return fold_name(self.display_name) == fold_name(act.display_name)
        return False


@dataclass(frozen=True)
class Baseline:
    """The entries of one baseline file."""

    path: str
    entries: tuple[Entry, ...]

    def accepts(self, act: Activation) -> bool:
        return any(e.accepts(act) for e in self.entries)

    def unused(self, acts: Sequence[Activation]) -> list[Entry]:
        """Entries that accept none of ``acts``: fixed, or changed (then they fail the run)."""
        return [e for e in self.entries if not any(e.accepts(a) for a in acts)]


@dataclass(frozen=True)
class Gate:
    """Which activations fail a run: those whose status ``--fail-on`` names, less those the
    baseline accepts; and whether finding none fails it (``--fail-if-none``)."""

    failing: frozenset[Status] = PROBLEMS
    baseline: Baseline | None = None
    fail_if_none: bool = False

    def accepted(self, act: Activation) -> bool:
        """A problem the baseline accepts (whether or not ``--fail-on`` names its status)."""
        return self.baseline is not None and act.last.status in PROBLEMS and self.baseline.accepts(act)

    def fails(self, act: Activation) -> bool:
        return act.last.status in self.failing and not self.accepted(act)

    def count_accepted(self, acts: Iterable[Activation]) -> int:
        return sum(self.accepted(a) for a in acts)


def entry_of(act: Activation) -> Entry:
    last = act.last
    return Entry(act.server, act.email, act.user_id, act.display_name, last.status, last.diagnosis.kb)


def entries_of(acts: Iterable[Activation]) -> list[Entry]:
    """The stalled and failed activations as entries, sorted by server, user and verdict."""
    entries = {entry_of(a) for a in acts if a.last.status in PROBLEMS}
    return sorted(entries, key=_order)


def _order(e: Entry) -> tuple[str, ...]:
    return (e.server or "", e.email or "", e.display_name or "", e.user_id or "", e.status.value, e.kb or "")


def write_baseline(entries: Sequence[Entry], out: TextIO) -> None:
    """The baseline file: one entry a line, so that a change reads well in a diff."""
    items = [
        dumps(
            {
                "server": e.server,
                "email": e.email,
                "user_id": user_id_value(e.user_id),  # (a number, as in the JSON report)
                "display_name": e.display_name,
                "status": e.status.value,
                "kb": e.kb,
            }
        )
        for e in entries
    ]
    body = ",\n".join(f"    {i}" for i in items)
    out.write(
        f'{{\n  "bes-logdiag": "{FORMAT}",\n  "version": {VERSION},\n  "accepted": ['
        + (f"\n{body}\n  " if items else "")
        + "]\n}\n"
    )


def read_baseline(path: Path) -> Baseline:
    """A baseline file; a file that is missing, unreadable or not a baseline is a `UsageError`
    naming it (exit code 2: a CI job must not pass for want of its baseline)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as e:
        raise UsageError(f"--baseline {path}: cannot read it: {e.strerror or e}") from e
    except (UnicodeDecodeError, ValueError) as e:
        raise UsageError(f"--baseline {path}: not a bes-logdiag baseline (not JSON: {e})") from e
    if (
        not isinstance(doc, dict)
        or doc.get("bes-logdiag") != FORMAT
        or not isinstance(doc.get("accepted"), list)
    ):
        raise UsageError(
            f"--baseline {path}: not a bes-logdiag baseline (write one with scan --write-baseline {path})"
        )
    if doc.get("version") != VERSION:
        raise UsageError(
            f"--baseline {path}: version {doc.get('version')!r} is not one this tool reads ({VERSION})"
        )
    return Baseline(str(path), tuple(_entry(path, n, item) for n, item in enumerate(doc["accepted"], 1)))


def _entry(path: Path, n: int, item: Any) -> Entry:
    where = f"--baseline {path}: entry {n}"
    if not isinstance(item, dict):
        raise UsageError(f"{where}: not an object")
    try:
        status = Status(item.get("status"))
    except ValueError:
        raise UsageError(f"{where}: status {item.get('status')!r} is not one of stalled, failed") from None

    def text(key: str) -> str | None:
        value = item.get(key)
        if value is None or isinstance(value, str):
            return value or None
        if key == "user_id" and isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        raise UsageError(f"{where}: {key} must be a string or null")

    entry = Entry(text("server"), text("email"), text("user_id"), text("display_name"), status, text("kb"))
    if not (entry.email or entry.user_id or entry.display_name):
        raise UsageError(f"{where}: names no user (email, user_id or display_name)")
    return entry
