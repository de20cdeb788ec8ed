"""Reading every source: discovery, ignored files set aside, the files read in parallel (threads
or spawned processes, `in_threads`) in input order, then the results of copies dropped
(`duplicates`)."""

from __future__ import annotations

import os
import signal
import tarfile
import threading
from collections.abc import Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple, Protocol

from bes_logdiag.duplicates import find_duplicates
from bes_logdiag.filescan import FileResult, scan_source
from bes_logdiag.ignore import activation_services, split_ignored
from bes_logdiag.inflate import DEFAULT_MAX_EXPAND, TarReader
from bes_logdiag.library import Library, load_library
from bes_logdiag.match import Matcher
from bes_logdiag.model import (
    Duplicate,
    FileStats,
    Ignored,
    Skipped,
)
from bes_logdiag.prefilter import PARALLEL_IN_THREADS
from bes_logdiag.read import Source, discover, reading_order
from bes_logdiag.settings import AUTO_JOBS, ScanConfig


class Progress(Protocol):
    """Told how much there is to read, then of each file as it is done (a progress bar, a test)."""

    def start(self, files: int, total_bytes: int) -> None: ...

    def advance(self, stats: FileStats, size: int) -> None: ...


@dataclass(frozen=True)
class _Job:
    """What every file's scan needs besides the file and the matcher."""

    year: int | None
    default_year: int
    thread_window: timedelta
    max_expand: float = DEFAULT_MAX_EXPAND
    compact: bool = True

    def scan(
        self,
        src: Source,
        matcher: Matcher,
        stop: threading.Event | None = None,
        tars: TarReader | None = None,
    ) -> FileResult:
        return scan_source(
            src,
            matcher,
            year=self.year,
            default_year=self.default_year,
            thread_window=self.thread_window,
            max_expand=self.max_expand,
            stop=stop,
            tars=tars,
            compact=self.compact,
        )


_WORKER: Matcher | None = None


def _init_worker(extra_dirs: tuple[str, ...], engine: str) -> None:
    # Spawn-safe: every worker compiles the library once, from the same files as the parent.
    global _WORKER
    import signal
    from pathlib import Path

    # Ctrl-C at a terminal reaches the whole process group: the parent ends the workers
    # (`_run`), and a worker must not print a traceback of its own meanwhile.  (Started with
    # SIGINT blocked or ignored, `_workers_hold_ctrl_c`: ignoring drops one pending.)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    _WORKER = Matcher(load_library(tuple(Path(d) for d in extra_dirs)), engine)


def _work(sources: list[Source], job: _Job) -> list[FileResult]:
    assert _WORKER is not None
    return _scan_all(job, sources, _WORKER)


def _scan_all(
    job: _Job, sources: list[Source], matcher: Matcher, stop: threading.Event | None = None
) -> list[FileResult]:
    tars = TarReader()  # (a tar's members come in a row, in archive order: `_units`)
    try:
        return [job.scan(s, matcher, stop, tars) for s in sources]
    finally:
        tars.close()


BATCH_BYTES = 4 * 1024 * 1024
BATCH_FILES = 200


def _batches(files: list[Source], sizes: list[int]) -> Iterator[list[int]]:
    """The files' indexes in tasks for the workers, biggest first (which keeps every worker busy to
    the end): up to `BATCH_FILES` files and about `BATCH_BYTES` bytes a task (a bigger file alone),
    except that the members of one tar archive all go in one task, in archive order, to be read
    in one pass (`TarReader`)."""
    units: dict[object, list[int]] = {}
    for i, src in enumerate(files):
        units.setdefault(src.path if isinstance(src.entry, tarfile.TarInfo) else i, []).append(i)
    sized = []  # (a folder of size-rotated logs: 20,000 units of one file)
    for unit in units.values():
        if len(unit) > 1:
            unit.sort(key=lambda i: reading_order(files[i]))
        sized.append((sum(sizes[i] for i in unit) if len(unit) > 1 else sizes[unit[0]], unit))
    batch: list[int] = []
    held = 0
    for size, unit in sorted(sized, key=lambda su: -su[0]):
        if batch and (held + size > BATCH_BYTES or len(batch) + len(unit) > BATCH_FILES):
            yield batch
            batch, held = [], 0
        batch += unit
        held += size
    if batch:
        yield batch


class Reading(NamedTuple):
    """What reading the inputs gave: each kept source's result, and the inputs set aside."""

    results: list[FileResult]
    skipped: list[Skipped]
    ignored: list[Ignored]
    """Not activation logs (other services' logs, Thumbs.db): not read, not a problem."""
    duplicates: list[Duplicate]
    """The same bytes as a source that was kept: read, and their results dropped."""


def read_sources(
    config: ScanConfig, library: Library, progress: Progress | None = None, *, compact: bool = True
) -> Reading:
    """Every source's events and stats, in command-line order, whatever the number of jobs;
    sources that are not activation logs are set aside unread, and those that repeat another's
    bytes are read but set aside."""
    matcher = Matcher(library, config.engine)
    services = activation_services(library)
    early = _EarlyStart(config, matcher.prefilter.name, services)
    try:
        found, skipped = discover(config.paths, early.found)
        sources, ignored = split_ignored(found, services)
        job = _Job(
            config.year, config.year or fallback_year(), config.thread_window, config.max_expand, compact
        )
        results: list[FileResult] = []
        stdin = [s for s in sources if s.stdin]
        files = [s for s in sources if not s.stdin]
        sizes = [s.size for s in files]
        if progress:
            progress.start(len(sources), sum(sizes))
        for r, size in zip(_run(files, sizes, job, matcher, config, early), sizes):
            results.append(r)
            if progress:
                progress.advance(r.stats, size)
    finally:
        early.close()  # (not taken by `_run`: the input wanted no processes after all, or broke off)
    for s in stdin:
        r = job.scan(s, matcher)
        results.append(r)
        if progress:
            progress.advance(r.stats, 0)
    # Copies are told once all is read, by the probes the readers took (`duplicates`): a copy's
    # result is set aside, as if it had not been read.
    read = [*files, *stdin]
    probes = {id(s): r.probe for s, r in zip(read, results) if r.probe is not None}
    kept, duplicates = find_duplicates(read, probes)
    keep = {id(s) for s in kept}
    results = [r for s, r in zip(read, results) if id(s) in keep]
    return Reading(results, skipped, ignored, duplicates)


THREAD_MIN_BYTES = 4 * 1024 * 1024
PROCESS_MIN_BYTES = 48 * 1024 * 1024
"""Below these many bytes of input, ``--jobs 0`` reads in one thread: starting worker threads
(hyperscan) or processes (pure-Python engine; 0.15 s each) would cost more than they save.
Measured on 2 cores: two processes already won on 76 MB (0.66 s against 0.80 s)."""


class _EarlyStart:
    """Worker processes started while `discover` still lists the input, as soon as the activation
    logs found so far call for processes (`PROCESS_MIN_BYTES`, two files or more): a worker takes
    a quarter of a second to start (an interpreter, the imports, the library compiled), about as
    long as listing a folder of 20,000 size-rotated logs takes.  `_run` takes the pool when it
    wants processes; otherwise (a file counted while listing was set aside after all: an installer
    log, macOS metadata) `close` ends it."""

    def __init__(self, config: ScanConfig, engine: str, services: frozenset[str]) -> None:
        self._config = config
        self._engine = engine
        self._services = services
        self._most = _most_workers(config.jobs)
        self._files = 0
        self._bytes = 0
        self.pool: Executor | None = None

    def found(self, src: Source) -> None:
        """`discover`'s word of each source."""
        if self.pool is not None or self._most <= 1 or src.stdin:
            return
        if src.info.service is not None and src.info.service not in self._services:
            return  # (ignored: `split_ignored`)
        self._files += 1
        self._bytes += src.size
        if self._bytes >= PROCESS_MIN_BYTES and self._files >= 2:
            self.pool = _process_pool(self._most, self._config, self._engine)
            # A pool starts a process for a task no idle one can take: one no-op task per worker.
            with _workers_hold_ctrl_c(True):
                for _ in range(min(self._most, self._files)):
                    self.pool.submit(_ready)

    def take(self) -> Executor | None:
        pool, self.pool = self.pool, None
        return pool

    def close(self) -> None:
        pool = self.take()
        if pool is not None:
            terminate_workers(pool)
            pool.shutdown(wait=True, cancel_futures=True)


def _ready() -> None:
    """The task that has a worker process started (`_EarlyStart`)."""


def _process_pool(workers: int, config: ScanConfig, engine: str) -> Executor:
    # Imported here: multiprocessing costs every run 10 ms of start-up otherwise.
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    extra = tuple(str(p) for p in config.patterns)
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=get_context("spawn"),
        initializer=_init_worker,
        initargs=(extra, engine),
    )


def _run(
    files: list[Source],
    sizes: list[int],
    job: _Job,
    matcher: Matcher,
    config: ScanConfig,
    early: _EarlyStart | None = None,
) -> Iterator[FileResult]:
    """Every file's result, in input order, read by as many workers as `_workers` says.

    With hyperscan, on input under `PROCESS_MIN_BYTES`, the workers are threads: the scan runs
    without the GIL, and threads start at once and share the compiled database.  Otherwise
    (`in_threads`) they are processes, started with ``spawn`` (as on Windows); each compiles the
    library once.  Processes that ``early`` started while the input was listed are taken.
    """
    threads = in_threads(matcher.prefilter.name, sum(sizes))
    workers = _workers(config.jobs, sizes, threads)
    if early is not None and (threads or workers <= 1):
        early.close()  # (less was left to read than was counted while listing)
    if workers <= 1:
        tars = TarReader()  # (`discover` lists a tar's members in a row, in archive order)
        try:
            for s in files:
                yield job.scan(s, matcher, tars=tars)
        finally:
            tars.close()
        return
    pool: Executor
    if threads:
        pool = ThreadPoolExecutor(max_workers=workers)
    else:
        pool = (early and early.take()) or _process_pool(workers, config, matcher.prefilter.name)
    # Set on Ctrl-C: a running thread's scan stops at its next block (`scan_source`).  Neither
    # shutdown(cancel_futures=True) nor a signal stops a running worker, and the interpreter joins
    # worker threads at exit (issue 15: 32.7 s); worker processes are terminated instead.
    stop = threading.Event()
    with pool:
        # Biggest files first keeps every worker busy to the end; results go out in input order.
        # Small files go in batches: a task costs a process pool ~0.1-0.2 ms of pickling and
        # messages, more than scanning a 5 KB iteration of a size-rotated log.
        futures: list[Future[list[FileResult]]] = []
        where: dict[int, tuple[int, int]] = {}  # file -> (its batch, its place in the batch)
        try:
            with _workers_hold_ctrl_c(not threads):
                for batch in _batches(files, sizes):
                    for place, i in enumerate(batch):
                        where[i] = (len(futures), place)
                    todo = [files[i] for i in batch]
                    if threads:
                        futures.append(pool.submit(_scan_all, job, todo, matcher, stop))
                    else:
                        futures.append(pool.submit(_work, todo, job))
            for i in range(len(files)):
                batch_no, place = where[i]
                yield futures[batch_no].result()[place]
        except BaseException:  # Ctrl-C, or the caller stopped early: finish no more files
            stop.set()
            if not threads:
                terminate_workers(pool)
            # Waits for no file: the threads stop at their next block, the processes are gone.
            # (Not waiting for the pool's manager thread lets the exit race it to a closed pipe:
            # "Exception ignored ... Bad file descriptor".)
            pool.shutdown(wait=True, cancel_futures=True)
            raise


def in_threads(engine: str, total_bytes: int) -> bool:
    """Whether to read files in threads rather than spawned processes.

    Only an engine whose scan releases the GIL runs well in threads, and only while matched lines
    are few: every matched line is parsed in Python, holding the GIL.  On logs where 1.6% of the
    lines match (a mailbox error on every poll, `benchmarks/` variant ``dense-1.6``, 800 MB, 2 cores)
    two threads took 5.4-6.6 s, one 4.5-4.7 s and two processes 3.8-4.4 s; on the clean corpus
    processes and threads both took 0.9-1.1 s.  The density is not known before reading, so past
    `PROCESS_MIN_BYTES` (where starting processes has paid for itself) processes are used."""
    return PARALLEL_IN_THREADS.get(engine, False) and total_bytes < PROCESS_MIN_BYTES


@contextmanager
def _workers_hold_ctrl_c(processes: bool) -> Iterator[None]:
    """While worker processes are started (the pool starts them as tasks are submitted), Ctrl-C
    is held off, so that a spawned worker is started with it held off from its first instruction:
    Ctrl-C at a terminal reaches the whole process group, and a worker still importing would print
    a traceback of its own before `_init_worker` ran.  The parent ends the workers (`_run`).

    Where signals can be blocked (not Windows), SIGINT is blocked, not ignored: a Ctrl-C that
    comes meanwhile waits, and reaches the parent as the block ends.  Ignored, it was lost, and
    the scan ran on to its end (a cold start spends a few tenths of a second here)."""
    if not processes or threading.current_thread() is not threading.main_thread():
        yield
        return
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            yield
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def terminate_workers(pool: Executor) -> None:
    """End a process pool's workers now, mid-file (``terminate_workers`` from Python 3.14 on)."""
    terminate = getattr(pool, "terminate_workers", None)
    if terminate is not None:
        terminate()
        return
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        process.terminate()


def _workers(jobs: int, sizes: list[int], threads: bool) -> int:
    if jobs == AUTO_JOBS and sum(sizes) < (THREAD_MIN_BYTES if threads else PROCESS_MIN_BYTES):
        return 1
    return max(1, min(_most_workers(jobs), len(sizes)))


def _most_workers(jobs: int) -> int:
    """Workers for any number of files: ``--jobs``, or the cores."""
    if jobs != AUTO_JOBS:
        # More workers than 4 per core only cost memory (each holds a chunk and its results).
        return max(1, min(jobs, 4 * _cores()))
    return _cores()


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))  # the cores this process may use (containers)
    except AttributeError:  # Windows, macOS
        return os.cpu_count() or 1


def fallback_year() -> int:
    # Only for input with no date anywhere (no file-name date, day folder or Current Date line)
    # and no --year: the report says which files got it.
    return datetime.now().year
