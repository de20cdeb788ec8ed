"""Fleet statistics: per server and overall, how many activations ended each way, how long each stage
took (median and 90th percentile), and when in the day activations start.

Computed from the facts of each activation (`ActivationFacts`), which come either from the scan's
values (`facts_of`) or from a saved JSON report (`facts_of_dict`): ``scan`` and ``merge`` give the
same numbers for the same activations.  Durations are measured between the times the logs wrote
(as the JSON carries them), so that a merged report's numbers are those of its parts.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from bes_logdiag.model import Activation, Attempt, Status

STAGES = (1, 2, 3, 4)
HOURS = 24


@dataclass(frozen=True)
class AttemptFacts:
    """What one attempt says about time: when it entered each stage, and when it completed."""

    milestones: tuple[tuple[int, datetime], ...]
    """(stage, time) of each milestone."""
    completed: datetime | None

    @cached_property
    def seconds(self) -> list[tuple[int, float]]:
        """(stage, seconds) for each stage the attempt left (`stage_spans`), worked out once: the
        fleet's and the server's statistics both count it."""
        entered: dict[int, datetime] = {}
        for stage, t in self.milestones:
            if stage not in entered or t < entered[stage]:
                entered[stage] = t
        return [
            (stage, (end - start).total_seconds())
            for stage, start, end in stage_spans(entered, self.completed)
        ]


@dataclass(frozen=True)
class ActivationFacts:
    """What the statistics need of one activation."""

    server: str | None
    status: Status
    stage: int
    """The stage the last attempt reached."""
    started: datetime
    """When the last attempt began: the hour-of-day chart counts it there."""
    unconfirmed: bool
    attempts: tuple[AttemptFacts, ...]


@dataclass(frozen=True)
class StageTime:
    """The time spent in one stage, over the attempts that left it."""

    stage: int
    count: int
    median: float | None
    """Seconds; None when no attempt left the stage."""
    p90: float | None


@dataclass(frozen=True)
class GroupStats:
    """The numbers of one server (``server``), or of every server together (``server`` None in
    `FleetStats.overall`)."""

    server: str | None
    activations: int
    attempts: int
    statuses: Mapping[Status, int]
    unconfirmed: int
    """Stalls whose article rests on missing logs (``missing_logs``)."""
    stalled_by_stage: tuple[int, ...]
    """Stalled activations per stage, stage 1 first."""
    failed_by_stage: tuple[int, ...]
    stages: tuple[StageTime, ...]
    by_hour: Mapping[Status, tuple[int, ...]]
    """Activations per hour of the day their last attempt began (0-23), per status."""


@dataclass(frozen=True)
class FleetStats:
    overall: GroupStats
    servers: tuple[GroupStats, ...]
    """One per server, by name; activations with no server name last."""


def stage_spans(
    entered: Mapping[int, datetime], completed: datetime | None
) -> list[tuple[int, datetime, datetime]]:
    """(stage, entered, left) for each stage an attempt left, from the time it first reached each
    stage (`entered`) and its completion: from its first milestone in stage N to its first in
    stage N+1, and for stage 4 to the completion.  A stage it never left (still in it, stalled,
    failed) or skipped in the logs has none; nor has a negative span (a clock an admin turned
    back).  The history's stage times (`history.durations`) are measured the same way."""
    ends: dict[int, datetime | None] = {s: entered.get(s + 1) for s in STAGES[:-1]}
    ends[STAGES[-1]] = completed
    out = []
    for stage in STAGES:
        start, end = entered.get(stage), ends[stage]
        if start is not None and end is not None and end >= start:
            out.append((stage, start, end))
    return out


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q`` quantile (0-1) of ``values``, interpolating linearly between the two nearest ranks
    (as numpy's and Excel's PERCENTILE.INC do); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = q * (len(ordered) - 1)
    low, high = math.floor(rank), math.ceil(rank)
    value = ordered[low] + (ordered[high] - ordered[low]) * (rank - low)
    return round(value, 3)


def _group(server: str | None, facts: Sequence[ActivationFacts]) -> GroupStats:
    statuses = dict.fromkeys(Status, 0)
    by_stage = {Status.STALLED: [0] * len(STAGES), Status.FAILED: [0] * len(STAGES)}
    hours = {s: [0] * HOURS for s in Status}
    durations: dict[int, list[float]] = {s: [] for s in STAGES}
    for f in facts:
        statuses[f.status] += 1
        if f.status in by_stage and f.stage in STAGES:
            by_stage[f.status][f.stage - 1] += 1
        hours[f.status][f.started.hour] += 1
        for attempt in f.attempts:
            for stage, seconds in attempt.seconds:
                durations[stage].append(seconds)
    return GroupStats(
        server=server,
        activations=len(facts),
        attempts=sum(len(f.attempts) for f in facts),
        statuses=statuses,
        unconfirmed=sum(f.unconfirmed for f in facts),
        stalled_by_stage=tuple(by_stage[Status.STALLED]),
        failed_by_stage=tuple(by_stage[Status.FAILED]),
        stages=tuple(
            StageTime(s, len(d), percentile(d, 0.5), percentile(d, 0.9)) for s, d in durations.items()
        ),
        by_hour={s: tuple(h) for s, h in hours.items()},
    )


def fleet_stats(facts: Iterable[ActivationFacts]) -> FleetStats:
    """The statistics of every server and of all of them."""
    every = list(facts)
    per_server: dict[str | None, list[ActivationFacts]] = {}
    for f in every:
        per_server.setdefault(f.server, []).append(f)
    order = sorted(per_server, key=lambda s: (s is None, s or ""))
    return FleetStats(_group(None, every), tuple(_group(s, per_server[s]) for s in order))


def facts_of(act: Activation) -> ActivationFacts:
    """The facts of an activation as the scan found it."""
    last = act.last
    return ActivationFacts(
        server=act.server,
        status=last.status,
        stage=last.stage,
        started=last.started,
        unconfirmed=last.unconfirmed,
        # In moments, as the verdicts measure: a stage that ran through the night a clock stepped
        # back or forward takes the time that passed, not the difference of the clock's readings.
        attempts=tuple(
            AttemptFacts(
                tuple([(e.stage, e.moment) for e in a.events if e.milestone and e.stage is not None]),
                _completed_moment(a),
            )
            for a in act.attempts
        ),
    )


def _completed_moment(attempt: Attempt) -> datetime | None:
    if attempt.completed is None:
        return None
    done = (e.moment for e in attempt.events if e.milestone and e.time == attempt.completed)
    return next(done, attempt.completed)


def _when(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _attempt_of_dict(a: Mapping[str, Any]) -> AttemptFacts:
    return AttemptFacts(
        tuple(
            (int(m["stage"]), datetime.fromisoformat(m["time"]))
            for m in a.get("milestones") or ()
            if m.get("stage") is not None and m.get("time")
        ),
        _when(a.get("completed")),
    )


def facts_of_dict(act: Mapping[str, Any]) -> ActivationFacts:
    """The facts of an activation as a JSON report holds it (README, "JSON"): its earlier
    attempts under ``attempts``, the last one's fields at the top."""
    status = Status(act["status"])
    started = _when(act.get("started"))
    return ActivationFacts(
        server=act.get("server"),
        status=status,
        stage=int(act.get("stage") or 0),
        started=started if started is not None else datetime.min,
        unconfirmed=status is Status.STALLED and bool(act.get("missing_logs")),
        attempts=(*(_attempt_of_dict(a) for a in act.get("attempts") or ()), _attempt_of_dict(act)),
    )
