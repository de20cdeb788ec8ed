"""The `bes-logdiag presence` commands: parse, call the core, render, map errors to exit codes."""

from __future__ import annotations

import sys
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
from bes_logdiag.presence.config import PresenceConfig, decode_text, read_text
from bes_logdiag.presence.formats import CHECK_WRITERS, CheckFormat
from bes_logdiag.presence.inputs import find_configs, read_config
from bes_logdiag.presence.render import (
    OutputFormat,
    summary_line,
    whitelist_to_json,
    write_domains,
    write_findings,
)
from bes_logdiag.presence.rules import PresenceRules, load_presence_rules
from bes_logdiag.presence.whitelist import normalise_whitelist
from bes_logdiag.read import Source

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
    configs: list[str] = typer.Argument(
        ...,
        metavar="CONFIG",
        show_default=False,
        help="LyncPresenceProviderService.exe.config files (one per BEMS host), folders, glob "
        "patterns, .zip or tar archives, or - for stdin. In a folder or archive, the files named "
        "LyncPresenceProviderService.exe.config are read, or every *.config file if none is.",
    ),
    output_format: CheckFormat = typer.Option(
        CheckFormat.TABLE, "--format", "-f", case_sensitive=False, help="table, json, junit or markdown."
    ),
    known_keys: list[str] = typer.Option(
        [],
        "--known-key",
        metavar="KEY",
        help="An appSettings key your version of the service reads although the BEMS guide does "
        "not list it, so that it is not flagged as unknown (repeatable, or comma-separated).",
    ),
    checklist: bool = typer.Option(
        False,
        "--checklist",
        help="End with a short list of what to check outside the files: Dashboard settings, "
        "the Jabber fields, the service account, certificates (not with --format junit).",
    ),
    output: Path | None = OUTPUT,
    quiet: bool = QUIET,
    debug: bool = DEBUG,
) -> None:
    """Check Presence service configuration files for silent mistakes.

    Flags keys the service does not know (with the key that was probably meant), bad
    MAX_SUBSCRIPTIONS_PER_ENDPOINT values, malformed or repeated endpoint SIP addresses, bad
    AD_USERS_SOURCE settings, certificate friendly names with stray spaces, a LYNC_SERVER
    that is not an FQDN and missing trusted-application keys, and reports the subscription
    capacity. With several files (one per host) it also checks that the hosts agree on every
    setting but their own endpoint and certificate. Findings are listed by file and line.
    Exit code 0: no error or warning; 1: some; 2: a file could not be read or parsed.

    \b
    Example: bes-logdiag presence check bems1/LyncPresenceProviderService.exe.config bems2/LyncPresenceProviderService.exe.config --format json
    """  # noqa: E501
    with handle_errors(debug):
        if checklist and output_format is CheckFormat.JUNIT:
            raise UsageError("--checklist is for people: use it with --format table, markdown or json")
        extra_keys = _split_keys(known_keys)
        check_output(output, configs)
        rules = load_presence_rules().accepting(extra_keys)
        sources, errors = find_configs(configs)
        parsed = _load_all(sources, rules, errors)
        if errors:
            for error in errors:
                warn(f"error: {error}")
            raise typer.Exit(EXIT_UNUSABLE)
        report = check_configs(parsed, rules, checklist=checklist)
        with output_stream(output) as out:
            CHECK_WRITERS[output_format](report, out)
        if not quiet:
            typer.echo(summary_line(report.findings, len(parsed)), err=True)
    raise typer.Exit(EXIT_PROBLEMS if report.failed else EXIT_CLEAN)


def _split_keys(values: list[str]) -> list[str]:
    """--known-key values, each maybe a comma-separated list; an empty name is a usage error."""
    keys = [key.strip() for value in values for key in value.split(",")]
    if any(not key for key in keys):
        raise UsageError("--known-key needs a key name, such as --known-key LOG_LEVEL")
    return keys


def _load_all(sources: list[Source], rules: PresenceRules, errors: list[ConfigError]) -> list[PresenceConfig]:
    """The sources parsed; every one that fails is added to `errors`. Every file is tried, so one
    run reports every unreadable file, not just the first."""
    parsed = []
    for src in sources:
        try:
            parsed.append(read_config(src, rules.keys.endpoint_collection))
        except ConfigError as e:
            errors.append(e)
    return parsed


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
