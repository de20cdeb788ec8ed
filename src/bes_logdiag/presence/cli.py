"""The `bes-logdiag presence` commands: parse, call the core, render, map errors to exit codes."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

import typer

from bes_logdiag.cli.common import (
    DEBUG,
    EXIT_CLEAN,
    EXIT_PROBLEMS,
    EXIT_UNUSABLE,
    OUTPUT,
    QUIET,
    check_output,
    handle_errors,
    output_stream,
    typer_app,
    warn,
)
from bes_logdiag.errors import ConfigError, UsageError
from bes_logdiag.presence.check import check_configs
from bes_logdiag.presence.config import PresenceConfig, decode_text, load_config, read_text
from bes_logdiag.presence.render import (
    OutputFormat,
    check_to_json,
    summary_line,
    whitelist_to_json,
    write_check_table,
    write_domains,
    write_findings,
)
from bes_logdiag.presence.rules import PresenceRules, load_presence_rules
from bes_logdiag.presence.whitelist import normalise_whitelist

STDIN = "-"

app = typer_app(
    help="Check BEMS Presence configuration files and domain whitelists.\n\n"
    "Example: bes-logdiag presence check host1/LyncPresenceProviderService.exe.config "
    "host2/LyncPresenceProviderService.exe.config",
    # Shell completion is installed by the top-level app only (like the patterns group): this
    # app becomes a click group of its own (cli._LazyGroup), which would otherwise add the
    # --install-completion and --show-completion options to `bes-logdiag presence`.
    add_completion=False,
)

FORMAT = typer.Option(OutputFormat.TABLE, "--format", "-f", case_sensitive=False, help="table or json.")


@app.command("check")
def check_command(
    configs: list[Path] = typer.Argument(
        ...,
        metavar="CONFIG",
        show_default=False,
        help="LyncPresenceProviderService.exe.config files, one per BEMS host.",
    ),
    output_format: OutputFormat = FORMAT,
    output: Path | None = OUTPUT,
    quiet: bool = QUIET,
    debug: bool = DEBUG,
) -> None:
    """Check Presence service configuration files for silent mistakes.

    Flags bad MAX_SUBSCRIPTIONS_PER_ENDPOINT values, malformed or repeated endpoint SIP
    addresses, bad AD_USERS_SOURCE settings, certificate friendly names with stray spaces,
    a LYNC_SERVER that is not an FQDN and missing trusted-application keys, and reports the
    subscription capacity. With several files it also compares the hosts. Exit code 0: no
    error or warning; 1: some; 2: a file could not be read or parsed.

    \b
    Example: bes-logdiag presence check bems1/LyncPresenceProviderService.exe.config bems2/LyncPresenceProviderService.exe.config --format json
    """  # noqa: E501
    with handle_errors(debug):
        check_output(output, [str(c) for c in configs])
        rules = load_presence_rules()
        parsed, errors = _load_all(_unique(configs), rules)
        if errors:
            for error in errors:
                warn(f"error: {error}")
            raise typer.Exit(EXIT_UNUSABLE)
        report = check_configs(parsed, rules)
        with output_stream(output) as out:
            if output_format is OutputFormat.JSON:
                out.write(check_to_json(report) + "\n")
            else:
                write_check_table(report, out)
        if not quiet:
            typer.echo(summary_line(report.findings, len(parsed)), err=True)
    raise typer.Exit(EXIT_PROBLEMS if report.failed else EXIT_CLEAN)


def _unique(paths: Iterable[Path]) -> list[Path]:
    """The paths in order, a file named twice kept once (it would otherwise clash with itself)."""
    seen: set[Path] = set()
    unique = []
    for path in paths:
        resolved = path.resolve()
        if resolved not in seen:
            seen.add(resolved)
            unique.append(path)
    return unique


def _load_all(paths: list[Path], rules: PresenceRules) -> tuple[list[PresenceConfig], list[ConfigError]]:
    # Every file is tried so one run reports every unreadable file, not just the first.
    results = [_load_or_error(path, rules) for path in paths]
    parsed = [r for r in results if isinstance(r, PresenceConfig)]
    errors = [r for r in results if isinstance(r, ConfigError)]
    return parsed, errors


def _load_or_error(path: Path, rules: PresenceRules) -> PresenceConfig | ConfigError:
    try:
        return load_config(path, rules.keys.endpoint_collection)
    except ConfigError as e:
        return e


@app.command("whitelist")
def whitelist_command(
    domains: str | None = typer.Argument(
        None,
        metavar="DOMAINS",
        show_default=False,
        help="The whitelist as typed in the Dashboard, or - to read it from stdin.",
    ),
    file: str | None = typer.Option(
        None, "--file", metavar="FILE", help="Read the whitelist from FILE (- for stdin)."
    ),
    disabled: bool = typer.Option(
        False, "--disabled", help="Domain whitelisting is switched off (an empty list is fine)."
    ),
    output_format: OutputFormat = FORMAT,
    output: Path | None = OUTPUT,
    quiet: bool = QUIET,
    debug: bool = DEBUG,
) -> None:
    """Normalise a Presence domain whitelist and flag invalid or repeated domains.

    Domains may be separated by commas, semicolons, spaces or new lines. Prints the clean
    list, one domain per line (findings go to stderr, unless --quiet), or JSON with
    --format json. Warns when an enabled whitelist has no valid domain, which blocks every
    subscription.

    \b
    Example: bes-logdiag presence whitelist "example.com; example1.com partner.example.org"
    """
    with handle_errors(debug):
        check_output(output, [file] if file is not None else [])
        text, source = _whitelist_input(domains, file)
        rules = load_presence_rules()
        report = normalise_whitelist(text, rules, source=source, enabled=not disabled)
        with output_stream(output) as out:
            if output_format is OutputFormat.JSON:
                out.write(whitelist_to_json(report) + "\n")
            else:
                write_domains(report, out)
        if output_format is OutputFormat.TABLE and not quiet:
            write_findings(report.findings, sys.stderr)
            typer.echo(summary_line(report.findings), err=True)
    raise typer.Exit(EXIT_PROBLEMS if report.failed else EXIT_CLEAN)


def _whitelist_input(domains: str | None, file: str | None) -> tuple[str, str]:
    """The whitelist text and the name findings should give as its file."""
    if domains is not None and file is not None:
        raise UsageError("give the domains as an argument or with --file, not both")
    if domains is None and file is None:
        raise UsageError("give the domains as an argument, with --file FILE, or - for stdin")
    if domains == STDIN or file == STDIN:
        return decode_text(typer.get_binary_stream("stdin").read(), "<stdin>"), "<stdin>"
    if file is not None:
        return read_text(Path(file)), file
    assert domains is not None
    return domains, "<argument>"
