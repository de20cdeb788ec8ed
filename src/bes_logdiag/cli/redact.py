"""``bes-logdiag redact``: copies of logs and user maps with every person replaced by a consistent
pseudonym, and ``--reverse`` to read support's answer with the real names again."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

from bes_logdiag.cli import app
from bes_logdiag.cli.common import (
    DEBUG,
    EXIT_PROBLEMS,
    JOBS,
    PATTERNS,
    QUIET,
    check_jobs,
    check_output,
    handle_errors,
    output_stream,
    user_maps_of,
    warn,
)  # fmt: skip
from bes_logdiag.cli.scan import MAX_EXPAND

if TYPE_CHECKING:
    from bes_logdiag.redact.run import RedactResult

KEY = typer.Option(
    None,
    "--key",
    metavar="FILE",
    help="The secret the pseudonyms are made from (created when missing). Keep it private and "
    "give the same file again to get the same pseudonyms; it is never written into the output.",
)


@app.command()
def redact(
    paths: Optional[list[str]] = typer.Argument(
        None,
        metavar="PATH",
        help="Log files, folders, .gz files, zip and tar archives, glob patterns; - for stdin (to stdout).",
    ),
    output: Optional[Path] = typer.Option(
        None,
        "--output",
        "-o",
        metavar="OUTDIR",
        help="Folder for the redacted copies (new or empty); with --reverse, the file to write.",
    ),
    key: Optional[Path] = KEY,
    map_out: Optional[Path] = typer.Option(
        None,
        "--map-out",
        metavar="FILE",
        help="Write every pseudonym with its original to FILE (keep it local: it undoes the redaction).",
    ),
    servers: bool = typer.Option(
        False,
        "--servers",
        help="Also replace BES server names: in the logs, the maps, file and folder names.",
    ),
    users: list[str] = typer.Option(
        [],
        "--users",
        metavar="[SERVER=]FILE",
        help="A CSV user map to redact with the same pseudonyms, written to the top of OUTDIR (repeatable).",
    ),
    patterns: list[Path] = PATTERNS,
    copy_unparsed: bool = typer.Option(
        False,
        "--copy-unparsed",
        help="Copy files that cannot be read as logs UNREDACTED instead of leaving them out.",
    ),
    reverse: Optional[Path] = typer.Option(
        None,
        "--reverse",
        metavar="REPORT",
        help="Translate a report (any format) made from redacted logs back to the real names (- for stdin).",
    ),
    map_in: Optional[Path] = typer.Option(
        None, "--map", metavar="FILE", help="The --map-out file that --reverse reads."
    ),
    jobs: int = JOBS,
    max_expand: float = MAX_EXPAND,
    quiet: bool = QUIET,
    debug: bool = DEBUG,
) -> None:
    """Copy logs with every person replaced by a pseudonym that is the same everywhere.

    Addresses, display names, user ids, PINs, IMEIs, mailbox DNs, IP addresses and host names
    (and, with --servers, server names) become pseudonyms that keep the shapes the diagnosis
    joins on, so a scan of the copies gives the same verdicts.  The same --key gives the same
    pseudonyms on every run; --map-out keeps the way back, and --reverse uses it on a report.
    Exit code 0 when every log was redacted, 1 when one was left out (or copied unredacted),
    2 on a usage error or when nothing could be read.

    Example: bes-logdiag redact Logs/ -o shared/ --key ~/bes.key --map-out ~/bes-map.json
    """
    with handle_errors(debug):
        if reverse is not None:
            _reverse(reverse, map_in, output, paths, key, map_out)
            return
        if map_in is not None:
            raise typer.BadParameter("goes with --reverse REPORT", param_hint="--map")
        if not paths:
            raise typer.BadParameter(
                "give the logs to redact (or --reverse REPORT --map FILE)", param_hint="PATH"
            )
        if key is None:
            raise typer.BadParameter("give the key file (it is created when missing)", param_hint="--key")
        if "-" in paths and (len(paths) > 1 or output is not None):
            raise typer.BadParameter("- (standard input) goes alone and without -o: its copy goes to stdout")
        if paths == ["-"]:
            _stdin(key, servers, patterns)
            return
        if output is None:
            raise typer.BadParameter("give the folder for the redacted copies", param_hint="-o")
        problems = _redact(
            paths, output, key, map_out, servers, users, patterns, copy_unparsed, jobs, max_expand, quiet
        )  # fmt: skip
    if problems:
        raise typer.Exit(EXIT_PROBLEMS)


def _redact(
    paths: list[str],
    output: Path,
    key: Path,
    map_out: Optional[Path],
    servers: bool,
    users: list[str],
    patterns: list[Path],
    copy_unparsed: bool,
    jobs: int,
    max_expand: float,
    quiet: bool,
) -> bool:
    from bes_logdiag.redact.keys import load_key
    from bes_logdiag.redact.run import RedactConfig, redact_paths
    from bes_logdiag.settings import default_engine

    check_jobs(jobs)
    user_maps = user_maps_of(users)
    _check_places(paths, output, key, map_out)
    secret = load_key(key)
    if secret.created and not quiet:
        warn(f"created the key {key}: keep it private; the same key gives the same pseudonyms next time")
    output.mkdir(parents=True, exist_ok=True)
    config = RedactConfig(
        paths=tuple(paths), out_dir=output, key=secret, servers=servers, users=user_maps,
        patterns=tuple(patterns), copy_unparsed=copy_unparsed, record=map_out is not None, jobs=jobs,
        max_expand=max_expand, skip=tuple(p for p in (key, map_out) if p is not None),
        engine=default_engine(),
    )  # fmt: skip
    result = redact_paths(config)
    if map_out is not None and result.mapping is not None:
        result.mapping.write(map_out)
    if not quiet:
        _tell(result, output, map_out, user_maps)
    return bool(result.with_status("unparsed", "copied"))


def _tell(
    result: RedactResult,
    output: Path,
    map_out: Optional[Path],
    user_maps: tuple[tuple[str | None, Path], ...],
) -> None:
    from bes_logdiag.words import plural

    for o in result.outcomes:
        if o.status == "unparsed":
            warn(f"{o.path}: left out, could not be read as a log: {o.reason}")
        elif o.status == "copied":
            warn(f"{o.path}: copied UNREDACTED (--copy-unparsed): {o.reason}")
        elif o.status == "partial":
            warn(f"{o.path}: partly redacted: {o.reason}; the lines after it are not in the copy")
        elif o.status == "not_log":
            warn(f"{o.path}: left out: {o.reason}")
    for server, pseudo in result.servers.items():
        warn(f"server {server} is {pseudo} in the redacted copies")
    for given, path in user_maps:
        if given and given in result.servers:
            warn(f"scan the redacted copy of {path} with --users {result.servers[given]}={path.name}")
    counts = {
        s: len(result.with_status(s)) for s in ("written", "partial", "map", "not_log", "unparsed", "copied")
    }
    lines = sum(o.lines for o in result.with_status("written", "partial"))
    parts = [
        f"{plural(counts['written'] + counts['partial'], 'log')} ({plural(lines, 'line')}) redacted into {output}"
    ]
    if counts["map"]:
        parts.append(plural(counts["map"], "user map"))
    if counts["not_log"]:
        parts.append(f"{plural(counts['not_log'], 'file')} left out as not logs")
    if counts["unparsed"]:
        parts.append(f"{counts['unparsed']:,} could not be read")
    if counts["copied"]:
        parts.append(f"{counts['copied']:,} copied unredacted")
    if map_out is not None:
        parts.append(f"mapping in {map_out} (keep it local)")
    warn("; ".join(parts))


def _check_places(paths: list[str], output: Path, key: Path, map_out: Optional[Path]) -> None:
    """The output folder is new or empty and no input folder holds it; the key and the mapping
    stay out of it."""
    from bes_logdiag.errors import UsageError
    from bes_logdiag.settings import inside

    out = os.path.realpath(output)
    if os.path.exists(out) and not os.path.isdir(out):
        raise UsageError(f"-o {output}: not a folder")
    if os.path.isdir(out) and os.listdir(out):
        raise UsageError(f"-o {output}: the folder is not empty; give a new or empty folder")
    for raw in paths:
        if raw != "-" and os.path.isdir(raw) and inside(out, os.path.realpath(raw)):
            raise UsageError(f"-o {output}: it is inside the input folder {raw}")
    for option, path in (("--key", key), ("--map-out", map_out)):
        if path is not None and inside(os.path.realpath(path), out):
            raise UsageError(f"{option} {path}: it is inside the output folder, which is meant to be sent")
    if map_out is not None and os.path.realpath(map_out) == os.path.realpath(key):
        raise UsageError(f"--map-out {map_out}: it is the key file")
    # (not an input log, which it would overwrite before it is read, nor in an input folder, where
    # the mapping of real names would sit among the logs; its folder must exist)
    if map_out is not None:
        check_output(map_out, paths, "--map-out")


def _stdin(key: Path, servers: bool, patterns: list[Path]) -> None:
    """``redact - --key FILE``: an excerpt from stdin, redacted to stdout."""
    from bes_logdiag.pattern_check import load_checked_library
    from bes_logdiag.redact.grammar import Redactor, protected_words
    from bes_logdiag.redact.keys import load_key
    from bes_logdiag.redact.logs import read_head, redact_stream
    from bes_logdiag.redact.pseudonyms import Pseudonyms
    from bes_logdiag.render.safe import terminal
    from bes_logdiag.settings import default_engine

    if servers:
        raise typer.BadParameter("stdin has no file name to take server names from", param_hint="--servers")
    secret = load_key(key)
    ps = Pseudonyms(secret, protected=protected_words(load_checked_library(patterns)))
    redactor = Redactor(ps, engine=default_engine())
    source = sys.stdin.buffer
    head, _ = read_head(source)
    with output_stream(None) as out:
        if out.isatty():  # log text on a terminal: shown, never obeyed
            import io

            buffer = io.BytesIO()
            redact_stream(source, buffer, redactor, head)
            text = buffer.getvalue().decode("utf-8", "replace")
            out.write("\n".join(terminal(line.rstrip("\r")) for line in text.split("\n")))
            return
        out.flush()
        redact_stream(source, out.buffer, redactor, head)


def _reverse(
    report: Path,
    map_in: Optional[Path],
    output: Optional[Path],
    paths: Optional[list[str]],
    key: Optional[Path],
    map_out: Optional[Path],
) -> None:
    from bes_logdiag.cli.wording import shown_lines
    from bes_logdiag.errors import InputError
    from bes_logdiag.redact.mapping import load_mapping
    from bes_logdiag.redact.reverse import reverse_report

    if map_in is None:
        raise typer.BadParameter("give the --map-out file of the redaction", param_hint="--map")
    if paths or key is not None or map_out is not None:
        raise typer.BadParameter("takes only --map and -o", param_hint="--reverse")
    check_output(output, [str(report), str(map_in)])
    mapping = load_mapping(map_in)
    try:
        data = sys.stdin.buffer.read() if str(report) == "-" else report.read_bytes()
    except OSError as e:
        raise InputError(f"{report}: cannot read the report: {e.strerror or e}") from e
    text = reverse_report(data.decode("utf-8", "replace"), mapping, name=str(report))
    with output_stream(output) as out:
        out.write(shown_lines(text) if out.isatty() else text)
