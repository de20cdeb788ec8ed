"""What the watch tests share: a BES that writes its logs line by line into a temporary Logs folder
(day folders, iterations, MAGT/POLC/SYNC files, in the BES grammar of builders.py), a clock the
tests move by hand and a `live.Watch` on it, and a writer thread for the command-line tests.  The one test here checks
that what the writer writes is what scan reads."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from builders import Activation, bes_line, bes_name, mail_text, scan_json

from bes_logdiag.live import Watch
from bes_logdiag.settings import ScanConfig

SERVER = "BES_EU_01"
DAY = datetime(2024, 3, 11)
T0 = DAY.replace(hour=9)
"""When the tests' activations start."""
IAN = ("ian.dundas@example.eu", 1002, "Dundas, Ian")
ANNA = ("anna.berg@example.eu", 1003, "Berg, Anna")
FAST = ("--interval", "0.05s", "-q")
"""``watch`` options for the command-line tests: a poll every 50 ms, no warnings on stderr."""
ETP_TO_COMPLETE = [
    ("started", "etp_received"),
    ("milestone", "key_generated"),
    ("milestone", "key_accept_sent"),
    ("milestone", "service_books_requested"),
    ("milestone", "itpolicy_queued"),
    ("milestone", "slowsync_started"),
    ("milestone", "calendar_sync"),
    ("milestone", "slowsync_progress"),
    ("completed", "slowsync_complete"),
]
"""(change, milestone) of each change a watch tells of an activation from ETP.DAT to complete."""


@dataclass
class Bes:
    """One BES server writing its logs under ``root`` (``Logs/<YYYYMMDD>/<file>``), CRLF as a BES
    does: a line at a time, to the current iteration of each service's file of the day."""

    root: Path
    server: str = SERVER
    iteration: dict[tuple[str, str], int] = field(default_factory=dict)

    def path(self, service: str, day: datetime) -> Path:
        it = self.iteration.get((service, f"{day:%Y%m%d}"), 1)
        return self.root / f"{day:%Y%m%d}" / bes_name(self.server, service, day, it=it)

    def write(self, service: str, line: str, day: datetime | None = None) -> Path:
        """Append one line to the service's current file of ``day`` (the line's own day when it
        has a time in front, else DAY)."""
        path = self.path(service, day or DAY)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "ab") as f:
            f.write(line.encode("utf-8") + b"\r\n")
        return path

    def step(self, act: Activation, step: str) -> Path:
        """One milestone line of an activation, in its service's file of its day."""
        service, t, line = act.line(step)
        return self.write(service, line, datetime(t.year, t.month, t.day))

    def steps(self, act: Activation, names: Iterable[str] | None = None) -> list[Callable[[], object]]:
        """Each milestone line of ``act`` (``names``, else all it keeps) as a write, for `writer`."""
        return [lambda s=s: self.step(act, s) for s in (act.keep if names is None else names)]  # type: ignore[misc]

    def noise(self, t: datetime, n: int = 0, service: str = "MAGT") -> Path:
        """A line of mail flow at ``t``: what a BES writes all the time."""
        return self.write(service, bes_line(t, mail_text(280000 + n), tid="1B44", user="cat@example.eu", eid=30085),
                          datetime(t.year, t.month, t.day))  # fmt: skip

    def restart(self, service: str, day: datetime | None = None) -> Path:
        """The service restarts: its next lines go to a new iteration (``_0002``)."""
        key = (service, f"{(day or DAY):%Y%m%d}")
        self.iteration[key] = self.iteration.get(key, 1) + 1
        return self.path(service, day or DAY)

    def start_day(self, t: datetime, services: Iterable[str] = ("MAGT", "POLC", "SYNC")) -> None:
        """Every service's file of ``t``'s day, with a first line at ``t``."""
        for s in services:
            self.write(
                s, bes_line(t, "Total Msgs Pending 0", tid="9C4", eid=30000), datetime(t.year, t.month, t.day)
            )


def day_begun(tmp_path: Path) -> Bes:
    """A BES writing under ``tmp_path/Logs`` whose day has begun: every service's file of DAY,
    with a first line five minutes before T0."""
    bes = Bes(tmp_path / "Logs")
    bes.start_day(T0 - timedelta(minutes=5))
    return bes


def user(names: tuple[str, int, str], t0: datetime, **kw: Any) -> Activation:
    """One activation as EU_SITE logs it (key 2 s after the ETP.DAT message, complete after 13 min)."""
    return Activation(*names, t0, **kw)


class Clock:
    """The watch's clock, moved by the test: `sleep` moves it."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def watch(root: Path, clock: Clock | None = None, **config: object) -> Watch:
    """A `live.Watch` of ``root`` (one job, a poll a second) on ``clock``, not started yet."""
    clock = Clock() if clock is None else clock
    cfg = ScanConfig(paths=(str(root),), jobs=1, **config)  # type: ignore[arg-type]
    return Watch(cfg, interval=1.0, clock=clock, sleep=clock.sleep)


def watching(root: Path, clock: Clock | None = None, **config: object) -> Watch:
    """`watch`, started: it has read what the logs held."""
    w = watch(root, clock, **config)
    w.start()
    return w


def refuse_reading(monkeypatch: pytest.MonkeyPatch, locked: Path) -> Callable[[], None]:
    """Reading ``locked`` fails with "permission denied" (`follow.read_at`) until the function
    returned is called."""
    from bes_logdiag import follow

    read_at = follow.read_at

    def refused(path: str, start: int, size: int) -> bytes:
        if path == str(locked):
            raise PermissionError(13, "Permission denied", path)
        return read_at(path, start, size)

    monkeypatch.setattr(follow, "read_at", refused)
    return lambda: monkeypatch.setattr(follow, "read_at", read_at)


def started_watch(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """An event set once ``watch`` (or ``timeline --follow``) has read the logs it found at the
    start: a writer thread waits for it, so that what it writes is news to the watch."""
    from bes_logdiag import live

    ready = threading.Event()
    start = live.Watch.start

    def start_then_tell(self: live.Watch) -> live.Tick:
        tick = start(self)
        ready.set()
        return tick

    monkeypatch.setattr(live.Watch, "start", start_then_tell)
    return ready


def writer(
    ready: threading.Event, steps: Iterable[Callable[[], object]], pause: float = 0.05
) -> threading.Thread:
    """A thread that, once the watch has started, runs each step (a write) with a pause between."""

    def run() -> None:
        if not ready.wait(20):
            return
        for step in steps:
            time.sleep(pause)
            step()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_what_the_writer_writes_is_an_activation_scan_reads(tmp_path: Path) -> None:
    bes = Bes(tmp_path / "Logs")
    t0 = DAY.replace(hour=9)
    bes.start_day(t0 - timedelta(minutes=1))
    ian = user(IAN, t0)
    for s in ian.keep:
        bes.step(ian, s)
    code, report, _ = scan_json(bes.root)
    (act,) = report["activations"]
    assert (act["email"], act["user_id"], act["display_name"]) == IAN
    assert (act["status"], act["stage"], act["last_milestone"]) == ("complete", 4, "slowsync_complete")
    assert code == 0
