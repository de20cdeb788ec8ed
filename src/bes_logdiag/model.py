"""Domain values shared by the stages: frozen dataclasses (parsed lines and events: named tuples),
no behaviour beyond small derived facts."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple


class Status(str, enum.Enum):
    """Verdict of one activation attempt."""

    COMPLETE = "complete"
    IN_PROGRESS = "in_progress"
    STALLED = "stalled"
    FAILED = "failed"


@dataclass(frozen=True)
class FileInfo:
    """What a BES file name (or, failing that, the folder) says about a file."""

    server: str | None = None
    service: str | None = None
    instance: int | None = None
    day: datetime | None = None
    """The date in the file name (or of its day folder): where the year of its lines comes from."""
    iteration: int | None = None


class Note(str):
    """A note of a kind that can come by the hundred: a join refused for each of the users who
    activated within minutes of each other on a device-refresh day, a user map row refused for
    each of its rows.  A plain string everywhere (JSON ``notes`` holds every one); on stderr the
    first few of a ``kind`` are said and the rest counted (`cli.common.run_report`).  ``kind``
    names them in the plural: "joins by time refused"."""

    kind: str

    def __new__(cls, text: str, kind: str = "") -> Note:
        note = super().__new__(cls, text)
        note.kind = kind
        return note


LogKey = tuple[object, ...]
"""Which log a BES file is part of: its server, service and instance."""
LogOrder = tuple[datetime, int]
"""Where in its log a BES file is: its day and iteration."""


def log_place(info: FileInfo) -> tuple[LogKey, LogOrder] | None:
    """Which log a BES file is part of and where in it; None for a file whose name does not say."""
    if info.server and info.service and info.day is not None and info.iteration is not None:
        return (info.server, info.service, info.instance), (info.day, info.iteration)
    return None


class LogLine(NamedTuple):
    """One parsed BES log line (a named tuple: every matched line is parsed into one, and a
    frozen dataclass takes three times as long to make)."""

    time: datetime
    event_id: int | None
    thread: str | None
    """Thread id, upper-case hex without ``0x``."""
    user: str | None
    """The ``{user}`` field: an SMTP address (MAGT) or a display name (SYNC/CMNG family)."""
    tag: str | None
    body: str
    """Everything after the user field (tag included), normalised: what patterns are matched on."""

    @property
    def level(self) -> str | None:
        """The level told by the event id's first digit."""
        if self.event_id is None:
            return None
        return _LEVELS.get(str(self.event_id)[0])


_LEVELS = {"1": "error", "2": "warning", "3": "info", "4": "debug", "5": "service"}


class Event(NamedTuple):
    """A log line that one pattern of the library matched.

    A named tuple, not a dataclass: a dense log holds one per matched line (a mailbox error on
    every poll, 10,000 activations), and the workers send them to the main process by the hundred
    thousand.  A tuple is made in a quarter of the time of a frozen dataclass (which sets each
    field through ``object.__setattr__``) and unpickled in half; at 200 bytes it is 16 more than a
    slotted one (the place in the file, `offset`, is one more field).
    Change one with ``_replace``.
    """

    time: datetime
    server: str | None
    service: str | None
    file: str
    line: int
    pattern_id: str
    stage: int | None
    milestone: str | None
    error: str | None
    kb: str | None
    opens_attempt: bool
    email: str | None = None
    user_id: str | None = None
    display_name: str | None = None
    thread: str | None = None
    text: str = ""
    identity_from: str | None = None
    """How a user-less line got its user (``thread``), if it did."""
    resumes: bool = False
    """The line shows an attempt in its stage moving again, after a pause of any length."""
    moment_at: datetime | None = None
    """Set where the server's local clock stepped (`clock.ServerClocks`): the time shifted so that
    the server's time runs forward only.  None: the same as ``time``."""
    offset: int | None = None
    """Where the line begins in its source's bytes (inflated, for gzip data): where the lines
    around it are read again (`evidence_context`).  None where that is not known (text
    transcoded from UTF-16, a report read back from JSON)."""

    @property
    def moment(self) -> datetime:
        """What order and durations are measured by: ``time``, unless the clock stepped."""
        return self.moment_at or self.time

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"

    @property
    def order(self) -> tuple[datetime, str, int]:
        """How events sort: by moment, then where they were read."""
        return (self.moment, self.file, self.line)


@dataclass(frozen=True)
class Skipped:
    """An input that was not read, or (``partial``) parts of one that could not be, and why."""

    path: str
    reason: str
    partial: bool = False

    @property
    def what(self) -> str:
        return "partly skipped" if self.partial else "skipped"


@dataclass(frozen=True)
class Ignored:
    """An input that is not an activation log (another service's BES log, ``Thumbs.db``, an
    installer log): not analysed, and no reason for ``--strict`` to fail."""

    path: str
    reason: str
    server: str | None = None
    last_time: datetime | None = None
    """The time of its last line (a BES log of another service), where it was read for it: its
    log's latest file with a line (`ignore.split_ignored`); else None.  Its server's logs reach at
    least that far, and stalls are measured against the end of a server's logs."""


@dataclass(frozen=True)
class Duplicate:
    """An input with the same bytes as one that was kept (a copy, a rename, a zip member): read,
    and its lines counted once."""

    path: str
    same_as: str
    """The input kept instead (both were read)."""


@dataclass(frozen=True)
class ClockStep:
    """Where a file's local time steps: back (daylight saving ends, a clock corrected) or forward
    over the hour daylight saving skips."""

    line: int
    """The first line after the step."""
    before: datetime
    """The latest time before the step."""
    after: datetime
    """The time of the first line after it."""
    jump: timedelta
    """How far the clock jumped: about -1 h when daylight saving ends, +1 h when it begins."""


@dataclass
class FileStats:
    """What reading one file produced: counts, its last timestamp and any problem."""

    path: str
    info: FileInfo
    bytes: int = 0
    lines: int = 0
    matched: int = 0
    unparsed: int = 0
    """Lines a pattern's prefilter selected that did not parse as BES lines."""
    first_time: datetime | None = None
    last_time: datetime | None = None
    encoding: str = "utf-8"
    skipped: Skipped | None = None
    """Set when nothing of the file could be used."""
    gaps: list[str] = field(default_factory=list)
    """Parts of a read file that are not log text (it broke off, NUL runs, bytes no encoding
    explains, over-long lines): the rest is analysed, and the report lists these as skipped."""
    cut_short: bool = False
    """Reading stopped part way: an activation still open at the last line rests on incomplete logs."""
    warnings: list[str] = field(default_factory=list)
    clock_steps: list[ClockStep] = field(default_factory=list)
    """Where the file's local time steps, in file order."""


@dataclass(frozen=True)
class Join:
    """How one identity was tied to a person, and how sure that is."""

    kind: str
    """``map`` (user map), ``id`` (names sharing a line), ``name`` (name shape), ``time`` (order in time)."""
    detail: str


@dataclass(frozen=True)
class Candidate:
    kb: str
    title: str
    tell: str


@dataclass(frozen=True)
class Diagnosis:
    kb: str | None
    kb_title: str | None
    reason: str
    last_milestone: str | None
    next_expected: str | None
    evidence: tuple[str, ...]
    candidates: tuple[Candidate, ...]


@dataclass(frozen=True)
class Attempt:
    """One try at activating: from its first milestone to the next retry or the end of the logs."""

    events: tuple[Event, ...]
    status: Status
    stage: int
    stage_name: str
    last_milestone: str | None
    started: datetime
    last_progress: datetime
    completed: datetime | None
    diagnosis: Diagnosis
    stall_after: timedelta
    missing_logs: tuple[str, ...] = ()
    """The services (``POLC``, ``SYNC``) that write the milestone expected next and whose logs on
    the server do not cover the time after the last progress (`bes_logdiag.coverage`): what the
    verdict could not check.  Empty when the evidence is complete."""

    @property
    def unconfirmed(self) -> bool:
        """A stall whose article rests on silence in logs that were not there to be silent."""
        return self.status is Status.STALLED and bool(self.missing_logs)


@dataclass(frozen=True)
class Activation:
    """Every attempt of one user on one server; the last attempt decides the status."""

    server: str | None
    email: str | None
    user_id: str | None
    display_name: str | None
    attempts: tuple[Attempt, ...]
    joins: tuple[Join, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def last(self) -> Attempt:
        return self.attempts[-1]


@dataclass(frozen=True)
class Inputs:
    files: tuple[FileStats, ...]
    skipped: tuple[Skipped, ...]
    ignored: tuple[Ignored, ...] = ()
    duplicates: tuple[Duplicate, ...] = ()

    @property
    def read(self) -> tuple[FileStats, ...]:
        return tuple(f for f in self.files if f.skipped is None)

    @property
    def lines(self) -> int:
        return sum(f.lines for f in self.files)

    @property
    def bytes(self) -> int:
        return sum(f.bytes for f in self.files)

    @property
    def matched(self) -> int:
        return sum(f.matched for f in self.files)

    @property
    def unparsed(self) -> int:
        return sum(f.unparsed for f in self.files)


@dataclass(frozen=True)
class Unattached:
    """The matched lines of one pattern, for one user on one server, that belong to no activation
    (IT policy pushes, a mailbox the service account cannot open, logged on every poll): counted,
    with the first and the last of them kept."""

    server: str | None
    email: str | None
    user_id: str | None
    display_name: str | None
    """The user's names as known: joined across lines (and the user map), not only the line's own."""
    pattern_id: str
    count: int
    first: Event
    """The earliest line (by moment, then file and line): the group's text, milestone, error and KB."""
    last: Event

    @property
    def milestone(self) -> str | None:
        return self.first.milestone

    @property
    def error(self) -> str | None:
        return self.first.error

    @property
    def kb(self) -> str | None:
        return self.first.kb


@dataclass(frozen=True)
class Report:
    activations: tuple[Activation, ...]
    inputs: Inputs
    unattached: tuple[Unattached, ...] = ()
    """Matched lines that belong to no activation (IT policy pushes, mail errors of idle users),
    one group per server, user and pattern, in the order of their first lines."""
    notes: tuple[str, ...] = ()
    """Scan-wide remarks: refused identity guesses, assumed years."""
    log_end: dict[str | None, datetime] = field(default_factory=dict)
    """The last timestamp seen per server: the clock stalls are measured against."""
    unattached_lines: tuple[Event, ...] = ()
    """Every line of the ``unattached`` groups, in time order (``time``, file, line): kept only
    when the scan is asked for them (``run_scan(..., unattached_lines=True)``, for ``events``)."""
