"""Cutting one person's events into attempts, by stage, retry and the time between lines."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bes_logdiag.diagnose import stall_threshold
from bes_logdiag.library import Library, MilestoneDef
from bes_logdiag.model import Event


def split_attempts(
    events: Sequence[Event], lib: Library, attach_window: timedelta
) -> tuple[list[list[Event]], list[Event]]:
    """Cut one person's events (sorted) into attempts; also return events that fit no attempt.

    A new attempt begins with a retry's first milestone (``starts_attempt``), with an earlier
    stage than the attempt has reached, with a step of stages 1-3 it had already reached once it
    sat longer than its stage's threshold (a key generated hours after the KEY_ACCEPT: a retry
    whose ETP.DAT line the logs lack; the stages.toml thresholds), or after an attempt ended.  Lines
    that also occur outside activations (``opens_attempt = false``) only join an attempt that is
    under way, and the device's own commands only one that has reached their stage.  Services
    write a few seconds out of order (`ORDER_SLACK`): a line of an earlier stage, a second ETP.DAT
    line or a second completing line that soon after is the same attempt's.
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


ORDER_SLACK = timedelta(seconds=10)
"""How far out of order the services' lines of one attempt may be logged: SYNC's GetConfig seconds
before MAGT's service-book request (another process, another clock), a line written twice."""


def can_open(e: Event) -> bool:
    """Whether a line may begin an attempt.  A line whose user came from its thread, or from the
    line before it in a log without thread ids (the KEY_ACCEPT), only adds to an attempt the user
    has under way: on its own it would invent an activation for a guess."""
    return e.opens_attempt and e.identity_from is None


@dataclass
class _AttemptState:
    top_rank: int = -1
    top_stage: int = 0
    complete: bool = False
    failed: bool = False
    last_time: datetime | None = None
    etp_only: bool = True
    top_reached: datetime | None = None
    """When the attempt first reached `top_stage`."""
    last_start: datetime | None = None
    """When the attempt's last ETP.DAT line (``starts_attempt``) was logged."""

    def add(self, e: Event, ms: MilestoneDef | None) -> None:
        self.last_time = e.moment
        if ms is not None:
            self.top_rank = max(self.top_rank, ms.rank)
            if ms.stage > self.top_stage:
                self.top_stage, self.top_reached = ms.stage, e.moment
            if ms.starts_attempt:
                self.last_start = e.moment
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
        if e.resumes and ms is not None:
            # the device's own command: it belongs to a slow sync under way (after an error, as
            # another line would), never to an attempt that has not reached its stage (an old
            # session's last words after a retry began)
            return (
                not state.complete
                and ms.stage == state.top_stage
                and (not state.failed or gap <= attach_window)
            )
        return not state.complete and gap <= attach_window
    if ms is not None:
        if ms.starts_attempt:
            # The device re-sends ETP.DAT while it waits: the same attempt, unless it had moved
            # on, ended, or sat longer than the stage-1 threshold (then the user retried).
            limit = stall_threshold(lib, ms.stage, {})
            if state.etp_only and not state.failed and gap <= limit:
                return True
            return (
                not state.complete
                and state.last_start is not None
                and e.moment - state.last_start <= ORDER_SLACK
            )
        if state.complete:
            return ms.completes and gap <= ORDER_SLACK  # (the completing line logged twice)
        if ms.stage < state.top_stage:
            if state.failed:
                return False
            return state.top_reached is not None and e.moment - state.top_reached <= ORDER_SLACK
        if (
            state.top_stage < 4
            and ms.rank <= state.top_rank
            and gap > stall_threshold(lib, state.top_stage, {})
        ):
            return False  # (a step it had reached, after it stalled: a retry's; a slow sync may pause)
        return True
    # An explicit error: it belongs to the attempt it interrupts, unless that attempt completed.
    return not state.complete
