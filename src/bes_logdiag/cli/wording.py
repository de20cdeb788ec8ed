"""How typer's words reach the user: help and value errors in the tool's words (`Command`), usage
errors shown through `render.safe.terminal` and Ctrl-C while parsing said as everywhere else
(`Group`), and the settings every command group shares (`typer_app`)."""

from __future__ import annotations

import io
import re
import sys
from contextlib import suppress
from typing import Any, TextIO

import typer
from typer.core import TyperCommand, TyperGroup

# Typer's own notation: ``{PATH}...`` for a required argument in the usage line, ``<list[str]>``
# after an argument, ``<a|b>`` and ``<list[a|b]>`` after a choice.

_REQUIRED = re.compile(r"^\{(.*)\}")


_ARGUMENT_TYPE = re.compile(r"\s+<[^<>]*>$")


_LIST_CHOICE = re.compile(r"<list\[([^\]]*)\]>")


_CHOICE = re.compile(r"<([^<>]*\|[^<>]*)>")
# Pydantic's wording, which typer passes on when it converts a value.


_MESSAGES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^Value error, "), ""),
    (re.compile(r"^Input should be a valid integer.*$"), "give a whole number"),
    (re.compile(r"^Input should be a valid number.*$"), "give a number"),
    (re.compile(r"^Input should be a valid boolean.*$"), "give true or false"),
    (re.compile(r"^Input should be "), "must be "),
)


def plain_message(message: str) -> str:
    """A value error as this tool says it: no "Value error," or "Input should be a valid
    integer, unable to parse string as an integer" from the library underneath."""
    for pattern, replacement in _MESSAGES:
        message = pattern.sub(replacement, message)
    return message


class Command(TyperCommand):
    """A typer command whose help and errors speak the tool's language: ``PATH...`` rather than
    ``{PATH}...`` and ``PATH <list[str]>``, ``[a|b]`` for a choice, and no "Value error,"."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        return [_REQUIRED.sub(r"\1", piece) for piece in super().collect_usage_pieces(ctx)]

    def format_options(self, ctx: Any, formatter: Any) -> None:
        arguments, options = [], []
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            name, text = record
            if param.param_type_name == "argument":
                name = _ARGUMENT_TYPE.sub("", name).removesuffix("...")
                arguments.append((name + ("..." if param.nargs != 1 else ""), text))
            else:
                options.append((_CHOICE.sub(r"[\1]", _LIST_CHOICE.sub(r"[\1]...", name)), text))
        for title, rows in (("Arguments", arguments), ("Options", options)):
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)  # type: ignore[no-any-return]
        except typer.BadParameter as e:
            e.message = plain_message(e.message)
            raise


def shown_lines(text: str) -> str:
    """`terminal` on each line of `text`, its line ends kept."""
    from bes_logdiag.render.safe import terminal

    return "\n".join(terminal(line) for line in text.split("\n"))


def _show_safely(error: Exception) -> None:
    """Make typer print a usage error (`error` is click's ClickException, which typer prints with
    its ``show`` method) with every line passed through `terminal`: click quotes the user's value
    as typed in "Invalid value ...", "No such option: ..." or "Got unexpected extra argument(s)",
    so ``--format $'\\x1b[2J'`` or a path holding a right-to-left override would reach the terminal
    raw.  The usage line and the help that ``no_args_is_help`` prints go through too, unchanged:
    they hold no control character.  The message itself is escaped before click formats it: click
    deletes the ``ESC [ ... m`` parts of what it prints anywhere but on a terminal whose colour is
    on, and the user is to see the whole value they typed."""
    show = getattr(error, "show", None)
    if not callable(show) or getattr(error, "_shown_safely", False):
        return
    message = getattr(error, "message", None)
    if isinstance(message, str):  # (line by line: no_args_is_help's message is the help)
        error.message = shown_lines(message)  # type: ignore[attr-defined]

    def show_safely(file: TextIO | None = None) -> None:
        held = io.StringIO()
        show(held)
        out = sys.stderr if file is None else file
        if out is not None:  # (None: started with stderr closed)
            with suppress(OSError, ValueError):  # a broken stderr leaves the exit code 2
                typer.echo(shown_lines(held.getvalue()), file=out, nl=False)

    setattr(error, "show", show_safely)  # noqa: B010 (mypy refuses to assign to a method)
    setattr(error, "_shown_safely", True)  # noqa: B010 (a nested group's error is seen again)


class Group(TyperGroup):
    """A typer command group whose errors reach the user as the rest of the tool's output does.

    Typer parses the command line and shows usage errors outside any command's `handle_errors`:
    here they are shown through `terminal` (`_show_safely`), and Ctrl-C while the arguments are
    parsed (typer would exit 130 without a word) says "interrupted" as it does everywhere else.
    Parsing the group's own options is `make_context`; finding the command, parsing its arguments
    and running it is `invoke`, so a nested group is covered by the outermost one."""

    def make_context(self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any) -> Any:
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except KeyboardInterrupt as e:
            raise _interrupted(e) from None
        except Exception as e:
            _show_safely(e)
            raise

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt as e:  # the command's handle_errors had not started (or had ended)
            raise _interrupted(e) from None
        except Exception as e:
            _show_safely(e)
            raise


class _App(typer.Typer):
    """typer.Typer whose commands are `Command`s unless they ask for another class."""

    def command(self, name: str | None = None, *, cls: type[TyperCommand] | None = None, **kw: Any) -> Any:
        return super().command(name, cls=cls or Command, **kw)


def typer_app(**settings: Any) -> typer.Typer:
    """A typer app or command group with the settings all of ours share: help when run bare,
    -h as well as --help, no Rich markup in help texts, no pretty exception panels (errors
    reach the user through `handle_errors`), help and value errors in the tool's words
    (`Command`), usage errors shown safely and Ctrl-C said while parsing (`Group`).  `settings`:
    the rest of typer.Typer's arguments."""
    settings.setdefault("cls", Group)
    return _App(
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
        context_settings={"help_option_names": ["-h", "--help"]},
        **settings,
    )


def _interrupted(e: KeyboardInterrupt) -> typer.Exit:
    # (`cli.common.interrupted`, imported when it is needed: common builds on this module)
    from bes_logdiag.cli.common import interrupted

    return interrupted(e)
