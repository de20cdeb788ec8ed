"""The redaction's entry point: ``redact_paths(config) -> RedactResult``: plan, redact every unit (in
parallel worker processes for a large input), redact the user maps, and collect the mapping."""

from __future__ import annotations

import os
import signal
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from bes_logdiag.parallel import terminate_workers
from bes_logdiag.redact import RedactError
from bes_logdiag.redact.archives import (
    COPIED,
    MAP,
    NOT_LOG,
    UNPARSED,
    Outcome,
    Settings,
    redact_unit,
    redacted_rel,
)
from bes_logdiag.redact.grammar import Redactor, protected_words
from bes_logdiag.redact.inputs import Unit, plan_units, server_names
from bes_logdiag.redact.keys import RedactionKey
from bes_logdiag.redact.mapping import Mapping
from bes_logdiag.redact.pseudonyms import Pseudonyms

PARALLEL_BYTES = 32 * 1024 * 1024
"""Below this much input, worker processes cost more to start than they save."""


@dataclass(frozen=True)
class RedactConfig:
    paths: tuple[str, ...]
    out_dir: Path
    key: RedactionKey
    servers: bool = False
    """Also replace the BES server names: in the logs, the user maps' server column, file and
    folder names."""
    users: tuple[tuple[str | None, Path], ...] = ()
    patterns: tuple[Path, ...] = ()
    """The admin's own pattern folders: their words are kept in free text, as the built-in ones'."""
    copy_unparsed: bool = False
    record: bool = False
    """Collect the pseudonyms given (for ``--map-out``)."""
    jobs: int = 0
    max_expand: float = 1000.0
    skip: tuple[Path, ...] = ()
    """Files never read nor copied (the key file, the mapping file)."""
    engine: str = "auto"
    """What finds the lines that are not plain (`plainlines.Flags`), as the scan's engine."""


@dataclass(frozen=True)
class RedactResult:
    outcomes: tuple[Outcome, ...]
    """Every input, in the order found: redacted, left out (and why), copied."""
    mapping: Mapping | None = None
    servers: dict[str, str] = field(default_factory=dict)
    """Server name -> pseudonym, with ``--servers``."""

    def with_status(self, *statuses: str) -> list[Outcome]:
        return [o for o in self.outcomes if o.status in statuses]


@dataclass(frozen=True)
class _Job:
    """What a worker process needs to build its own `Redactor` (picklable)."""

    secret: bytes
    servers: tuple[str, ...]
    protected: frozenset[str]
    record: bool
    settings: Settings
    engine: str = "auto"


def redact_paths(config: RedactConfig) -> RedactResult:
    """Redact every input under `config.out_dir`.  Raises `RedactError` when nothing could be read."""
    from bes_logdiag.pattern_check import load_checked_library

    units, missing = plan_units(config.paths, config.skip)
    outcomes = [Outcome(m.path, UNPARSED, None, m.reason) for m in missing]
    servers = tuple(sorted(server_names(units))) if config.servers else ()
    protected = frozenset(protected_words(load_checked_library(config.patterns)))
    settings = Settings(str(config.out_dir), config.servers, config.copy_unparsed, config.max_expand)
    job = _Job(config.key.secret, servers, protected, config.record, settings, config.engine)
    redactor, mapping = _build(job)
    rels = _places(units, config.users, redactor)
    results = _run_units(units, rels, job, redactor, config.jobs)
    for found, part in results:
        outcomes += found
        if mapping is not None and part is not None:
            mapping.merge(part)
    for (_server, path), rel in zip(config.users, rels[len(units) :]):
        outcomes += redact_unit(Unit(str(path), rel), rel, redactor, settings)
    if all(o.status in (NOT_LOG, UNPARSED) for o in outcomes):
        first = next((o for o in outcomes if o.status == UNPARSED), outcomes[0] if outcomes else None)
        what = f"{first.path}: {first.reason}" if first else "no input"
        raise RedactError(f"nothing could be redacted ({what})")
    names = {s: redactor.ps.server(s) for s in servers}
    return RedactResult(tuple(outcomes), mapping, names)


def _build(job: _Job) -> tuple[Redactor, Mapping | None]:
    mapping = Mapping() if job.record else None
    ps = Pseudonyms(RedactionKey(job.secret), mapping=mapping, protected=job.protected)
    return Redactor(ps, job.servers, engine=job.engine), mapping


def _places(units: Sequence[Unit], users: Sequence[tuple[str | None, Path]], redactor: Redactor) -> list[str]:
    """Each unit's place under the output folder, its names redacted, then each user map's at the
    top; two that would land on one place are told apart (``name (2).txt``)."""
    taken: set[str] = set()
    out = []
    wanted = [u.rel for u in units] + [Path(p).name for _, p in users]
    for rel in wanted:
        place = redacted_rel(rel, redactor)
        n = 2
        base = PurePosixPath(place)
        while place.lower() in taken:
            place = str(base.with_name(f"{base.stem} ({n}){base.suffix}"))
            n += 1
        taken.add(place.lower())
        out.append(place)
    return out


def _run_units(
    units: Sequence[Unit], rels: Sequence[str], job: _Job, redactor: Redactor, jobs: int
) -> list[tuple[list[Outcome], Mapping | None]]:
    workers = jobs or (os.cpu_count() or 1)
    if jobs == 0 and sum(u.size for u in units) < PARALLEL_BYTES:
        workers = 1
    workers = min(workers, len(units))
    if workers <= 1:
        found = [redact_unit(u, rel, redactor, job.settings) for u, rel in zip(units, rels)]
        return [(f, None) for f in found]  # (the redactor recorded into the caller's mapping)
    # the largest first, so that no long file starts last
    order = sorted(range(len(units)), key=lambda i: -units[i].size)
    with ProcessPoolExecutor(workers, initializer=_start_worker, initargs=(job,)) as pool:
        try:
            futures = {i: pool.submit(_work, units[i], rels[i]) for i in order}
            done = {i: f.result() for i, f in futures.items()}
        except BaseException:  # Ctrl-C, SIGTERM: no more units, the workers ended now
            terminate_workers(pool)
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    return [done[i] for i in range(len(units))]


_WORKER: tuple[Redactor, Mapping | None, Settings] | None = None


def _start_worker(job: _Job) -> None:
    global _WORKER
    # The parent ends the workers (`_run_units`): a worker forked from it must neither raise its
    # Ctrl-C nor its SIGTERM handler (`__main__.TERMINATING`) in the middle of a unit.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_DFL)
    redactor, mapping = _build(job)
    _WORKER = (redactor, mapping, job.settings)


def _work(unit: Unit, rel: str) -> tuple[list[Outcome], Mapping | None]:
    assert _WORKER is not None
    redactor, mapping, settings = _WORKER
    found = redact_unit(unit, rel, redactor, settings)
    part = None
    if mapping is not None:  # hand over what this unit added, then start afresh
        part = Mapping()
        part.merge(mapping)
        mapping.entries = {k: {} for k in mapping.entries}
    return found, part


__all__ = ["COPIED", "MAP", "RedactConfig", "RedactResult", "redact_paths"]
