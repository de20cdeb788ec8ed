"""Cutting one person's events into attempts, by stage, retry and the time between lines."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bes_logdiag.library import Library, MilestoneDef
from bes_logdiag.model import Event


def split_attempts(
    events: Sequence[Event], lib: Library, attach_window: timedelta
) -> tuple[list[list[Event]], list[Event]]:
    """Cut one person's events (sorted) into attempts; also return events that fit no attempt.

    A new attempt begins with a retry's first milestone (``starts_attempt``), with an earlier
    stage than the attempt has reached, or after an attempt ended.  Lines that also occur outside
    activations (``opens_attempt = false``) only join an attempt that is under way.
    """
    attempts: list[list[Event]] = []
    loose: list[Event] = []
    current: list[Event] | None = None
    state = _AttemptState()
    for e in events:
        ms = lib.milestones.get(e.milestone) if e.milestone else None
        if current is not None and _continues(current, state, e, ms, lib, attach_window):
            current.append(e)
            state.add(e, ms)
            continue
        if not can_open(e):
            loose.append(e)
            continue
        current = [e]
        attempts.append(current)
        state = _AttemptState()
        state.add(e, ms)
    return attempts, loose


def can_open(e: Event) -> bool:
    """Whether a line may begin an attempt.  A line whose user came from its thread (the
    KEY_ACCEPT) only adds to an attempt the user has under way: on its own it would invent an
    activation for a guess."""
    return e.opens_attempt and e.identity_from != "thread"


@dataclass
class _AttemptState:
    top_rank: int = -1
    top_stage: int = 0
    complete: bool = False
    failed: bool = False
    last_time: datetime | None = None
    etp_only: bool = True

    def add(self, e: Event, ms: MilestoneDef | None) -> None:
        self.last_time = e.moment
        if ms is not None:
            self.top_rank = max(self.top_rank, ms.rank)
            self.top_stage = max(self.top_stage, ms.stage)
            self.complete = self.complete or ms.completes
            self.failed = False
            if not ms.starts_attempt:
                self.etp_only = False
        elif e.error:
            self.failed = True
            self.etp_only = False


def _continues(
    current: list[Event],
    state: _AttemptState,
    e: Event,
    ms: MilestoneDef | None,
    lib: Library,
    attach_window: timedelta,
) -> bool:
    gap = e.moment - current[-1].moment
    if not e.opens_attempt:
        if e.resumes and ms is not None and not state.failed and ms.stage == state.top_stage:
            return not state.complete
        return not state.complete and gap <= attach_window
    if ms is not None:
        if ms.starts_attempt:
            # The device re-sends ETP.DAT while it waits: the same attempt, unless it had moved
            # on, ended, or sat longer than the stage-1 threshold (then the user retried).
            limit = lib.stages[ms.stage].stall_after if ms.stage in lib.stages else attach_window
            return state.etp_only and not state.failed and gap <= limit
        if state.complete or state.failed and ms.stage < state.top_stage:
            return False
        return ms.stage >= state.top_stage or state.top_rank < 0
    # An explicit error: it belongs to the attempt it interrupts, unless that attempt completed.
    return not state.complete
