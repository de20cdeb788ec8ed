"""``bes-logdiag scan``: the whole diagnosis of a set of logs."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional, TextIO

import typer

from bes_logdiag.cli import app
from bes_logdiag.cli.common import (
    COLOR,
    DEBUG,
    EXIT_CLEAN,
    EXIT_NO_MATCH,
    EXIT_PROBLEMS,
    JOBS,
    PATHS,
    PATTERNS,
    QUIET,
    RAW,
    SERVER,
    SINCE,
    STALL_AFTER,
    STRICT,
    UNTIL,
    USERS,
    WIDTH,
    YEAR,
    Color,
    check_output,
    check_strict,
    handle_errors,
    make_config,
    output_stream,
    parse_times,
    place_times,
    run_report,
    screen_of,
    tell_unmatched,
    with_notes,
)  # fmt: skip
from bes_logdiag.model import Status
from bes_logdiag.render import Format, writer_for

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from bes_logdiag.baseline import Gate
    from bes_logdiag.errors import BesLogdiagError
    from bes_logdiag.model import Report, Unattached
    from bes_logdiag.render.table import Screen

MAX_EXPAND = typer.Option(
    1000.0,  # (read.DEFAULT_MAX_EXPAND: the core is imported when a command runs)
    "--max-expand",
    metavar="RATIO",
    min=0,
    help="Stop reading a gzip file or archive member that inflates to over RATIO times its size "
    "and over 1 GiB (a decompression bomb?): it is listed as skipped, or partial. 0: no limit.",
)


class FailOn(str, enum.Enum):
    """Which verdicts make ``scan`` exit 1."""

    stalled = "stalled"
    failed = "failed"
    any = "any"
    never = "never"


FAILING: dict[FailOn, set[Status]] = {
    FailOn.stalled: {Status.STALLED},
    FailOn.failed: {Status.FAILED},
    FailOn.any: {Status.STALLED, Status.FAILED},
    FailOn.never: set(),
}

# --status words beside the values themselves: what people type for in_progress.
_STATUS_WORDS = {
    "in-progress": Status.IN_PROGRESS,
    "in progress": Status.IN_PROGRESS,
    "inprogress": Status.IN_PROGRESS,
}


def parse_statuses(values: list[str]) -> tuple[Status, ...]:
    """``--status stalled,failed`` as well as ``--status stalled --status failed``."""
    out: list[Status] = []
    for value in values:
        for word in filter(None, (w.strip().lower() for w in value.split(","))):
            try:
                status = _STATUS_WORDS.get(word) or Status(word)
            except ValueError:
                known = ", ".join(s.value for s in Status)
                raise typer.BadParameter(
                    f"{word!r} is not a status ({known})", param_hint="--status"
                ) from None
            if status not in out:
                out.append(status)
    return tuple(out)


@app.command()
def scan(
    paths: list[str] = PATHS,
    users: list[str] = USERS,
    year: Optional[int] = YEAR,
    patterns: list[Path] = PATTERNS,
    stall_after: list[str] = STALL_AFTER,
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="Output format."),
    output: Optional[Path] = typer.Option(
        None, "--output", "-o", metavar="FILE", help="Write the report to this file instead of stdout."
    ),
    fail_on: FailOn = typer.Option(
        FailOn.any, "--fail-on", help="Which verdicts give exit code 1: stalled, failed, any (either), never."
    ),
    fail_if_none: bool = typer.Option(
        False, "--fail-if-none", help="Exit 1 when no activation is found at all."
    ),
    baseline: Optional[Path] = typer.Option(
        None,
        "--baseline",
        metavar="FILE",
        help="Accepted problems (written by --write-baseline): only a stall or failure that is new, "
        "or has another status or KB, fails the run.",
    ),
    write_baseline: Optional[Path] = typer.Option(
        None,
        "--write-baseline",
        metavar="FILE",
        help="Write this run's stalled and failed activations to FILE, for --baseline.",
    ),
    user: list[str] = typer.Option(
        [],
        "--user",
        "-u",
        metavar="USER",
        help="Only this user: address, user id or display name (repeatable).",
    ),
    server: list[str] = SERVER,
    since: Optional[str] = SINCE,
    until: Optional[str] = UNTIL,
    status: list[str] = typer.Option(
        [],
        "--status",
        metavar="STATUS[,STATUS]",
        help="Only activations with this status: complete, in_progress, stalled, failed (a comma "
        "list, or repeat the option).",
    ),
    history: Optional[Path] = typer.Option(
        None,
        "--history",
        metavar="FILE.sqlite",
        help="Also record this scan in a SQLite history file (made if missing), which "
        "bes-logdiag history reads. A file that cannot be used: exit 2, the report still written.",
    ),
    redact: bool = typer.Option(
        False,
        "--redact",
        help="Replace every person by the pseudonyms bes-logdiag redact --key FILE gives them "
        "(every format).",
    ),
    redact_key: Optional[Path] = typer.Option(
        None, "--key", metavar="FILE", help="With --redact: the redaction key file (created when missing)."
    ),
    redact_servers: bool = typer.Option(
        False, "--redact-servers", help="With --redact: replace server names too."
    ),
    raw: bool = RAW,
    width: Optional[int] = WIDTH,
    color: Color = COLOR,
    jobs: int = JOBS,
    max_expand: float = MAX_EXPAND,
    quiet: bool = QUIET,
    strict: bool = STRICT,
    debug: bool = DEBUG,
) -> None:
    """Diagnose every wireless enterprise activation in BES logs.

    For each user on each server: complete, in_progress, stalled or failed; the stage (1-4);
    the KB article to read; the evidence lines.  Exit code 0 when nothing is stalled or
    failed, 1 when something is (see --fail-on, --baseline), 2 on a usage error or unreadable
    input, 4 when a --user or --server names no one in the logs.

    Example: bes-logdiag scan Logs/ --format junit -o report.xml
    """
    if raw and fmt is not Format.csv:
        raise typer.BadParameter("applies to --format csv only", param_hint="--raw")
    if redact and redact_key is None:
        raise typer.BadParameter(
            "give the key file (the one given to bes-logdiag redact)", param_hint="--key"
        )
    if not redact and (redact_key is not None or redact_servers):
        raise typer.BadParameter(
            "goes with --redact", param_hint="--key" if redact_key else "--redact-servers"
        )
    statuses = parse_statuses(status)
    when = parse_times(since, until)
    screen = screen_of(width, color)
    with handle_errors(debug):
        from bes_logdiag.baseline import Gate, read_baseline
        from bes_logdiag.scan import NothingRead, collector_paused
        from bes_logdiag.select import Selection, outside_shown, select

        config = make_config(
            paths,
            users,
            year,
            patterns,
            stall_after,
            jobs,
            output=output,
            # (the report may not replace a file the run reads or keeps: the history, the key)
            protect=[p for p in (baseline, history, redact_key) if p is not None],
            max_expand=max_expand,
        )
        if redact_key is not None:  # (a bad key fails before the scan)
            from bes_logdiag.redact.keys import load_key

            secret = load_key(redact_key)
        if write_baseline is not None:
            inputs = [*paths, *(str(p) for _, p in config.users), *(str(p) for p in patterns)]
            # (it may be the --baseline file: that updates it)
            kept = [str(p) for p in (output, history, redact_key) if p is not None]
            check_output(write_baseline, [*inputs, *kept], "--write-baseline")
        gate = Gate(
            frozenset(FAILING[fail_on]),
            read_baseline(baseline) if baseline is not None else None,
            fail_if_none=fail_if_none,
        )

        def redacted(report: Report) -> Report:
            """The report as it may be sent: with --redact, every person (and server) replaced."""
            if redact_key is None:
                return report
            from bes_logdiag.redact.report import redact_report

            return redact_report(
                report, secret, servers=redact_servers, user_maps=config.users, patterns=config.patterns
            )

        try:
            everything = run_report(config, quiet=quiet, bar=color is not Color.never)
        except NothingRead as nothing:
            # The report of nothing is still written (README "Exit codes"), then exit code 2.
            with output_stream(output) as out:
                _write(fmt, redacted(nothing.report), out, raw=raw, screen=screen, gate=gate, strict=strict)
            raise
        start, end, notes = place_times(everything, *when)
        selection = Selection(tuple(user), tuple(server), start, end, statuses)
        nobody = tell_unmatched(everything, selection, quiet=quiet)
        report = select(everything, selection)
        notes += _baseline_notes(everything, report, gate)
        report = with_notes(report, notes, quiet=quiet)
        # With --user, the users' lines outside any activation are told too: "no activation,
        # but 14 mailbox_not_reachable errors (KB02276)" says more than an empty table.  Chosen
        # by the names the logs wrote, before --redact replaces them (it keeps the groups' order).
        told = {id(g) for g in outside_shown(everything, report, selection)}
        shown = [id(g) in told for g in report.unattached]
        report = redacted(report)
        # (a report of chosen users tells their own lines; one of everyone, everyone's errors)
        outside = tuple(g for g, tell in zip(report.unattached, shown) if tell) if user else None
        # The HTML report shows the history's trend, this scan included: the scan is recorded
        # first, and a history that cannot be used leaves the report without it (then exit 2).
        trend, refused = _recorded(history, everything, paths) if fmt is Format.html else (None, None)
        with output_stream(output) as out, collector_paused():  # (the report is all kept)
            _write(
                fmt, report, out, raw=raw, screen=screen, gate=gate, strict=strict, outside=outside,
                trend=trend,
            )  # fmt: skip
        if write_baseline is not None:
            _write_baseline(report, write_baseline)
        if refused is not None:
            raise refused
        if history is not None and fmt is not Format.html:
            # (after the report: a history that cannot be used is exit 2, the report written)
            _recorded(history, everything, paths, trend=False)
        if strict:
            check_strict(report)
        code = exit_code(report, gate, nobody=nobody)
    if code != EXIT_CLEAN:
        raise typer.Exit(code)


def exit_code(report: Report, gate: Gate, *, nobody: bool) -> int:
    """4 when a --user or --server names no one in the logs, 1 when an activation fails the run
    (`Gate`: --fail-on less the baseline) or, with --fail-if-none, there is none, else 0."""
    if nobody:
        return EXIT_NO_MATCH
    if any(gate.fails(a) for a in report.activations) or (gate.fail_if_none and not report.activations):
        return EXIT_PROBLEMS
    return EXIT_CLEAN


def _write(
    fmt: Format,
    report: Report,
    out: TextIO,
    *,
    raw: bool,
    screen: Screen,
    gate: Gate,
    strict: bool,
    outside: Sequence[Unattached] | None = None,
    trend: Mapping[str, Any] | None = None,
) -> None:
    """The report in ``fmt``; the table and JUnit also take what the run decided (which
    activations fail it, the screen's width and colours), and the formats for people the
    --user's lines outside any activation (``outside``: the JSON has them as ``unattached``);
    HTML the history's ``trend`` (`history.render.trend_dict`), with ``--history``."""
    if raw:  # (only with --format csv: checked first)
        from bes_logdiag.render.csv import write as write_raw

        write_raw(report, out, raw=True)
    elif fmt is Format.table:
        from bes_logdiag.render.table import write as write_table

        write_table(report, out, screen=screen, gate=gate, outside=outside)
    elif fmt is Format.markdown:
        from bes_logdiag.render.markdown import write as write_markdown

        write_markdown(report, out, outside=outside)
    elif fmt is Format.html:
        from bes_logdiag.render.html import write as write_html

        write_html(report, out, outside=outside, trend=trend)
    elif fmt is Format.junit:
        from bes_logdiag.render.junit import write as write_junit

        write_junit(report, out, gate=gate, strict=strict)
    else:
        writer_for(fmt)(report, out)


def _recorded(
    history: Path | None, report: Report, paths: Sequence[str], *, trend: bool = True
) -> tuple[dict[str, Any] | None, BesLogdiagError | None]:
    """Record the scan in the history file, if one is given, and (``trend``) read back its trend
    by week; or the error that says why the file cannot be used, to be raised once the report is
    written."""
    if history is None:
        return None, None
    from bes_logdiag.history.choices import Period
    from bes_logdiag.history.record import record_scan
    from bes_logdiag.history.render import trend_dict
    from bes_logdiag.history.store import HistoryError
    from bes_logdiag.history.trend import read_trend

    try:
        record_scan(history, report, inputs=paths)
        return (trend_dict(read_trend(history, per=Period.week)) if trend else None), None
    except HistoryError as e:
        if not trend:
            raise
        return None, e


def _baseline_notes(everything: Report, report: Report, gate: Gate) -> list[str]:
    """How many problems of the report the baseline accepted, and which of its entries match
    nothing in the logs as accepted (fixed, or changed: then they fail the run), looked for in
    every activation read, not only the selected ones."""
    if gate.baseline is None:
        return []
    from bes_logdiag.words import plural, some

    path = gate.baseline.path
    count = gate.count_accepted(report.activations)
    notes = [
        f"--baseline {path}: {plural(count, 'stalled or failed activation')} accepted, not failing the run"
    ]
    gone = gate.baseline.unused(everything.activations)
    if gone:
        notes.append(
            f"--baseline {path}: {plural(len(gone), 'accepted problem')} no longer found as accepted "
            f"(fixed, or its verdict changed): {some([e.described for e in gone])}"
        )
    return notes


def _write_baseline(report: Report, path: Path) -> None:
    from bes_logdiag.baseline import entries_of, write_baseline

    with output_stream(path) as out:
        write_baseline(entries_of(report.activations), out)
