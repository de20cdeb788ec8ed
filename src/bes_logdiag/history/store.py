"""The history file: its SQLite schema, the migrations that bring an older file up to date, and
one error per thing that can go wrong with the file."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bes_logdiag.errors import BesLogdiagError

LOCK_TIMEOUT = 2.0
"""Seconds to wait for a file another program is writing (two scans at once) before giving up:
a scan writes its rows in a fraction of a second."""


class HistoryError(BesLogdiagError):
    """The history file cannot be read or written: damaged, locked, of a newer version, not there."""


# The schema is documented where it is made: SQLite keeps these statements, comments included,
# so `sqlite3 FILE .schema` shows them.  Times are ISO 8601 (YYYY-MM-DDTHH:MM:SS.mmm): in the
# servers' local time when they come from logs, in this machine's local time for `runs.recorded`.

SCHEMA_1 = """
CREATE TABLE schema_version (
    version INTEGER PRIMARY KEY,        -- a schema version this file was brought to
    applied TEXT NOT NULL               -- when (local time)
);
CREATE TABLE runs (                     -- one row per scan recorded
    id INTEGER PRIMARY KEY,
    recorded TEXT NOT NULL,             -- when the scan ran (this machine's local time)
    tool_version TEXT NOT NULL,         -- bes-logdiag's version
    inputs TEXT NOT NULL,               -- the paths scanned, a JSON list
    files_read INTEGER NOT NULL,
    lines INTEGER NOT NULL,
    log_start TEXT,                     -- the first and the last log line read
    log_end TEXT,
    activations INTEGER NOT NULL,       -- activations in the report (a user on a server) and how
    complete INTEGER NOT NULL,          -- their last attempts stood
    in_progress INTEGER NOT NULL,
    stalled INTEGER NOT NULL,
    failed INTEGER NOT NULL
);
CREATE TABLE activations (              -- one row per attempt: a retry is a row of its own
    id INTEGER PRIMARY KEY,
    server TEXT NOT NULL,               -- '' for input whose file name names no server
    email TEXT,                         -- the user's three names, NULL where unknown
    user_id INTEGER,
    display_name TEXT,
    opened_by TEXT NOT NULL,            -- the name its first line gives: with server and started,
                                        -- what a later scan of the same logs knows it by
    status TEXT NOT NULL,               -- complete, in_progress, stalled or failed
    stage INTEGER NOT NULL,             -- the last stage reached, 1-4
    stage_name TEXT NOT NULL,
    last_milestone TEXT,
    next_expected TEXT,
    kb TEXT,                            -- the primary KB article of a stall or failure
    kb_title TEXT,
    reason TEXT NOT NULL,
    missing_logs TEXT NOT NULL,         -- services whose logs were missing, a JSON list ('[]')
    started TEXT NOT NULL,              -- the time of its first line
    last_progress TEXT NOT NULL,        -- of its last milestone
    completed TEXT,                     -- of the end of the slow synchronization
    first_run INTEGER NOT NULL REFERENCES runs (id),  -- the scans that first and last saw it
    last_run INTEGER NOT NULL REFERENCES runs (id),
    UNIQUE (server, started, opened_by)
);
CREATE INDEX activations_started ON activations (started);
CREATE TABLE milestones (               -- when an attempt first reached each milestone
    activation_id INTEGER NOT NULL REFERENCES activations (id) ON DELETE CASCADE,
    milestone TEXT NOT NULL,            -- etp_received, key_generated, ... (patterns/stages.toml)
    stage INTEGER,
    time TEXT NOT NULL,
    file TEXT NOT NULL,                 -- the evidence: file and line
    line INTEGER NOT NULL,
    PRIMARY KEY (activation_id, milestone)
);
"""

SCHEMA_2 = """
CREATE TABLE stage_durations (          -- how long an attempt spent in each stage it left
    activation_id INTEGER NOT NULL REFERENCES activations (id) ON DELETE CASCADE,
    stage INTEGER NOT NULL,             -- 1-4
    entered TEXT NOT NULL,              -- its first milestone in the stage
    ended TEXT NOT NULL,                -- its first milestone in the next stage; stage 4: completed
    seconds REAL NOT NULL,
    PRIMARY KEY (activation_id, stage)
);
CREATE TABLE changes (                  -- each status or stage a scan found an attempt at
    activation_id INTEGER NOT NULL REFERENCES activations (id) ON DELETE CASCADE,
    run_id INTEGER NOT NULL REFERENCES runs (id),
    status TEXT NOT NULL,
    stage INTEGER NOT NULL,
    kb TEXT,
    last_progress TEXT NOT NULL,        -- the attempt's last progress as that scan saw it
    PRIMARY KEY (activation_id, run_id)
);
-- the scan that last found the attempt's status or stage changed
ALTER TABLE activations ADD COLUMN changed_run INTEGER REFERENCES runs (id);
"""


@dataclass(frozen=True)
class Migration:
    """One step of the schema: its statements, and what fills the new tables from the old rows."""

    version: int
    statements: str
    backfill: Callable[[sqlite3.Connection], None] | None = None


def _backfill_2(conn: sqlite3.Connection) -> None:
    # A file of schema 1 knows each attempt's milestones and the run that first saw it: enough
    # for its stage times and its first change.
    from bes_logdiag.history.durations import rewrite_durations

    ids = [row[0] for row in conn.execute("SELECT id FROM activations")]
    for activation_id in ids:
        rewrite_durations(conn, activation_id)
    conn.execute(
        "INSERT INTO changes (activation_id, run_id, status, stage, kb, last_progress)"
        " SELECT id, first_run, status, stage, kb, last_progress FROM activations"
    )
    conn.execute("UPDATE activations SET changed_run = first_run")


MIGRATIONS = (Migration(1, SCHEMA_1), Migration(2, SCHEMA_2, _backfill_2))
SCHEMA_VERSION = MIGRATIONS[-1].version
"""1: runs, activations (one row per attempt), milestones.  2: stage durations, and the change
log of each attempt (``changes``, ``activations.changed_run``)."""


def stamp(t: datetime) -> str:
    """A time as the history keeps it: ISO 8601 to the millisecond (BES logs' resolution), so
    that times compare as text in SQL as they do in Python."""
    return t.isoformat(timespec="milliseconds")


def _describe(e: sqlite3.Error) -> str:
    text = str(e)
    if "locked" in text or "busy" in text:
        return (
            f"another program holds the file locked (a scan still writing it?), for over "
            f"{LOCK_TIMEOUT:g} s ({text})"
        )
    if isinstance(e, sqlite3.OperationalError) and ("readonly" in text or "unable to open" in text):
        return text
    return f"damaged, or not a bes-logdiag history ({text})"


@contextmanager
def history_errors(path: Path, doing: str) -> Iterator[None]:
    """Any SQLite error as one `HistoryError` line naming the file and what could not be done."""
    try:
        yield
    except sqlite3.Error as e:
        raise HistoryError(f"{path}: {doing}: {_describe(e)}") from e


@contextmanager
def open_history(path: Path, doing: str, *, create: bool) -> Iterator[sqlite3.Connection]:
    """The history file, brought to `SCHEMA_VERSION` (made, with ``create``, if missing), as a
    connection in autocommit mode (the caller's ``BEGIN``/``COMMIT`` make the transactions).
    `doing` says what for, in the error messages: "cannot record this scan"."""
    if path.is_dir():
        raise HistoryError(f"{path}: {doing}: a folder, not a file")
    if not create and not path.is_file():
        raise HistoryError(f"{path}: {doing}: no such file (scan ... --history {path} makes it)")
    if not path.parent.is_dir():
        raise HistoryError(f"{path}: {doing}: no such folder {path.parent}")
    with history_errors(path, doing):
        with closing(sqlite3.connect(path, timeout=LOCK_TIMEOUT, isolation_level=None)) as conn:
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA foreign_keys = ON")
            if not create and _version(conn, path, doing) == 0:
                # An empty file (a placeholder) is a history with nothing recorded, read from an
                # empty one in memory: reading must not write the tables into the file.
                with closing(sqlite3.connect(":memory:", isolation_level=None)) as empty:
                    empty.row_factory = sqlite3.Row
                    _upgrade(empty, path, doing)
                    yield empty
                return
            _upgrade(conn, path, doing)
            yield conn


def _version(conn: sqlite3.Connection, path: Path, doing: str) -> int:
    """The file's schema version: 0 for a new (empty) file."""
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if tables and "schema_version" not in tables:
        raise HistoryError(
            f"{path}: {doing}: an SQLite file of another program (tables: {', '.join(sorted(tables))})"
        )
    version: int = conn.execute("SELECT max(version) FROM schema_version").fetchone()[0] or 0 if tables else 0
    if version > SCHEMA_VERSION:
        raise HistoryError(
            f"{path}: {doing}: written by a newer bes-logdiag (history schema {version}; this "
            f"one knows up to {SCHEMA_VERSION})"
        )
    return version


def _upgrade(conn: sqlite3.Connection, path: Path, doing: str) -> None:
    """Apply the migrations the file lacks, all in one transaction: a file is at one version or
    the next, never half-way.  A file already up to date is only read (it may be read-only)."""
    if _version(conn, path, doing) == SCHEMA_VERSION:
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = _version(conn, path, doing)  # again: another scan may have upgraded it meanwhile
        for step in MIGRATIONS:
            if step.version <= version:
                continue
            for statement in _statements(step.statements):
                conn.execute(statement)
            if step.backfill is not None:
                step.backfill(conn)
            conn.execute(
                "INSERT INTO schema_version (version, applied) VALUES (?, ?)",
                (step.version, stamp(datetime.now())),
            )
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _statements(script: str) -> list[str]:
    """A script's statements, one by one: ``executescript`` would commit the open transaction."""
    out, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            out.append(current.strip())
            current = ""
    return out
