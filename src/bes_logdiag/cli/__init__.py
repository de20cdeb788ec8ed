"""The command line: parses, wires, renders, maps errors to exit codes, and nothing more."""

from __future__ import annotations

import importlib
from typing import Any

import typer

from bes_logdiag import __version__
from bes_logdiag.cli.common import Group, handle_errors, interrupted, typer_app

LAZY_GROUPS = {"presence": "bes_logdiag.presence.cli"}
"""Sub-apps imported only when their name is on the command line (or in --help): presence pulls
in rich and its rule files, which ``bes-logdiag --version`` and ``scan`` never need."""


class _LazyGroup(Group):
    def list_commands(self, ctx: Any) -> list[str]:
        return [*super().list_commands(ctx), *(n for n in LAZY_GROUPS if n not in self.commands)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name in LAZY_GROUPS and cmd_name not in self.commands:
            # A module that fails to import is a broken install, reported as an internal error
            # (exit 2), not passed off as "No such command".
            with handle_errors():
                sub = importlib.import_module(LAZY_GROUPS[cmd_name]).app
            self.add_command(typer.main.get_command(sub), cmd_name)
        return super().get_command(ctx, cmd_name)


app = typer_app(
    cls=_LazyGroup,
    name="bes-logdiag",
    help="Diagnose BlackBerry Enterprise Server wireless enterprise activations from BES logs.\n\n"
    "Example: bes-logdiag scan 'C:\\Program Files\\Research In Motion\\BlackBerry Enterprise Server\\Logs'",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"bes-logdiag {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Diagnose BlackBerry Enterprise Server wireless enterprise activations from BES logs.

    Example: bes-logdiag scan "C:\\Program Files\\Research In Motion\\BlackBerry Enterprise Server\\Logs"
    """


COMMAND_MODULES = (
    "scan",
    "timeline",
    "events",
    "kb",
    "patterns_cmd",
    "watch",
    "report",
    "redact",
    "history",
    "lnav",
)


def _register() -> None:
    # Each command lives in its own module; importing them registers the commands on `app`.
    # The modules import only typer at the top: the core is imported when a command runs.
    # The presence sub-app is registered lazily (LAZY_GROUPS, _LazyGroup).
    for name in COMMAND_MODULES:
        importlib.import_module(f"bes_logdiag.cli.{name}")


_register()


def main() -> None:
    """Console-script entry point.  Ctrl-C before the command line is parsed (typer builds its
    commands first) or after the command ended says "interrupted" too (`Group` covers the parsing)."""
    try:
        app()
    except KeyboardInterrupt as e:
        raise SystemExit(interrupted(e).exit_code) from None
