"""The command line: parses, wires, renders, maps errors to exit codes, and nothing more."""

from __future__ import annotations

import typer

from bes_logdiag import __version__

app = typer.Typer(
    name="bes-logdiag",
    help="Diagnose BlackBerry Enterprise Server wireless enterprise activations from BES logs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
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


COMMAND_MODULES = ("scan", "timeline", "events", "kb", "patterns_cmd")


def _register() -> None:
    # Each command lives in its own module; importing them registers the commands on `app`.
    # The modules import only typer at the top: the core is imported when a command runs.
    import importlib

    for name in COMMAND_MODULES:
        importlib.import_module(f"bes_logdiag.cli.{name}")

    try:
        from bes_logdiag.presence.cli import app as presence_app
    except ImportError:  # presence is optional while it is being built
        return
    app.add_typer(presence_app, name="presence")


_register()


def main() -> None:
    """Console-script entry point."""
    app()
