"""What changed in the activations between two reports of the same logs: a live watch's events.

Between two reports the logs only grew, but an activation may be known by more of its names in the
second (the Synchronization Service's line ties its display name and user id to the address), so
an activation of the second report is the one of the first on the same server that shares a name
with it.  Its lines are told apart by what they say and when (`_key`), not by where they stand.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from bes_logdiag.model import Activation, Attempt, Event, Report, Status
from bes_logdiag.names import fold_name


class ChangeKind(str, enum.Enum):
    """What happened to an activation."""

    STARTED = "started"
    """A new activation, or a new attempt of one (its first line)."""
    MILESTONE = "milestone"
    STALLED = "stalled"
    FAILED = "failed"
    COMPLETED = "completed"
    RESUMED = "resumed"
    """A stalled or failed attempt moved again."""


_RANK = {
    ChangeKind.STARTED: 0,
    ChangeKind.RESUMED: 0,
    ChangeKind.MILESTONE: 1,
    ChangeKind.COMPLETED: 2,
    ChangeKind.STALLED: 2,
    ChangeKind.FAILED: 2,
}
"""Of changes at the same log time, the order they are told in."""


@dataclass(frozen=True)
class Change:
    """One change of one activation, with the activation as it now stands."""

    kind: ChangeKind
    activation: Activation
    attempt: int
    """Which attempt of the activation changed (1 = the first)."""
    event: Event | None
    """The line that made the change (a milestone; the error line of a failure); None for a stall,
    which no line makes."""

    @property
    def time(self) -> datetime:
        """The log time of the change: its line's, or for a stall the moment its stage's threshold
        passed."""
        if self.event is not None:
            return self.event.time
        last = self.activation.attempts[self.attempt - 1]
        return last.last_progress + last.stall_after


def diff_reports(before: Report | None, after: Report) -> list[Change]:
    """The changes from `before` to `after`, in log time order (every activation is new when
    `before` is None)."""
    index = _Index(before.activations if before is not None else ())
    out: list[tuple[datetime, int, int, Change]] = []
    for n, act in enumerate(after.activations):
        for c in _changes(index.find(act), act):
            out.append((c.time, _RANK[c.kind], n, c))
    out.sort(key=lambda x: x[:3])
    return [c for *_, c in out]


def _key(e: Event) -> tuple[str | None, str, datetime, str]:
    """A line, as a change knows it was told: what it says and when it was written, not where
    it stands.  A log emptied and written again holds new lines at the old places; a copy of a
    log still written (gzipped or zipped into the folder, the original kept) holds the same lines
    at another place, and the copy's may be the one a report keeps: told again, they were."""
    return (e.service, e.pattern_id, e.time, e.text)


def _changes(prev: Activation | None, act: Activation) -> list[Change]:
    seen = {_key(e) for a in prev.attempts for e in a.events} if prev is not None else set()
    known = len(prev.attempts) if prev is not None else 0
    was = prev.last.status if prev is not None else None
    out: list[Change] = []
    last = len(act.attempts) - 1
    for i, attempt in enumerate(act.attempts):
        number = i + 1
        new_attempt = i >= known
        fresh = [e for e in attempt.events if e.milestone and _key(e) not in seen]
        if new_attempt and attempt.events and _key(attempt.events[0]) not in seen:
            first = attempt.events[0]
            out.append(Change(ChangeKind.STARTED, act, number, first))
            fresh = [e for e in fresh if e is not first]
        moved = (
            i == last
            and not new_attempt
            and was in (Status.STALLED, Status.FAILED)
            and attempt.status in (Status.IN_PROGRESS, Status.COMPLETE)
        )
        if moved:
            out.append(Change(ChangeKind.RESUMED, act, number, fresh[0] if fresh else None))
        completing = _completing(attempt)
        for e in fresh:
            kind = ChangeKind.COMPLETED if e is completing else ChangeKind.MILESTONE
            out.append(Change(kind, act, number, e))
        if i != last or not (new_attempt or attempt.status != was):
            continue
        if attempt.status is Status.STALLED:
            out.append(Change(ChangeKind.STALLED, act, number, None))
        elif attempt.status is Status.FAILED:
            errors = [e for e in attempt.events if e.error]
            out.append(Change(ChangeKind.FAILED, act, number, errors[-1] if errors else None))
        elif attempt.status is Status.COMPLETE and completing is not None and completing not in fresh:
            out.append(Change(ChangeKind.COMPLETED, act, number, completing))
    return out


def _completing(attempt: Attempt) -> Event | None:
    """The line that completed a complete attempt: the one its verdict rests on."""
    if attempt.status is not Status.COMPLETE:
        return None
    where = set(attempt.diagnosis.evidence)
    return next((e for e in attempt.events if e.milestone and e.where in where), None)


class _Index:
    """The activations of a report, found by any of their names on their server."""

    def __init__(self, acts: Iterable[Activation]) -> None:
        self._by: dict[tuple[str | None, str, str], list[int]] = {}
        self._acts: list[Activation] = []
        for n, a in enumerate(acts):
            self._acts.append(a)
            for k in names_of(a):
                self._by.setdefault(k, []).append(n)

    def find(self, act: Activation) -> Activation | None:
        """The activation sharing the most names with `act` on its server, if any."""
        counts: dict[int, int] = {}
        for k in names_of(act):
            for n in self._by.get(k, ()):
                counts[n] = counts.get(n, 0) + 1
        if not counts:
            return None
        return self._acts[max(counts, key=lambda n: (counts[n], -n))]


def names_of(a: Activation) -> Sequence[tuple[str | None, str, str]]:
    """Each name of an activation as a key on its server: (server, kind, name folded)."""
    out = []
    if a.email:
        out.append((a.server, "email", a.email.lower()))
    if a.user_id:
        out.append((a.server, "id", a.user_id))
    if a.display_name:
        out.append((a.server, "name", fold_name(a.display_name)))
    return out
