"""``bes-logdiag kb``: the activation KB articles, what the device shows and what to check."""

from __future__ import annotations

from typing import Optional

import typer

from bes_logdiag.cli import app
from bes_logdiag.cli.common import (
    COLOR,
    DEBUG,
    NO_STDOUT,
    WIDTH,
    Color,
    handle_errors,
    output_stream,
    screen_of,
)


def article_id(text: str) -> str:
    """``KB13840`` however it is typed: ``kb13840``, ``KB 13840``, or the number alone."""
    compact = "".join(text.split()).upper()
    return f"KB{compact}" if compact.isdigit() else compact


@app.command()
def kb(
    kbid: Optional[str] = typer.Argument(
        None, metavar="KBID", help="One article: KB13840, kb13840 or 13840."
    ),
    width: Optional[int] = WIDTH,
    color: Color = COLOR,
    debug: bool = DEBUG,
) -> None:
    """The KB articles for activation problems: id, stage, what the device shows, what to check.

    With an id: that article, what in the logs points to it, and which stalls and errors lead there.

    Example: bes-logdiag kb 13840
    """
    screen = screen_of(width, color)
    with handle_errors(debug):
        from rich.table import Table
        from rich.text import Text

        from bes_logdiag.errors import UsageError
        from bes_logdiag.library import load_library
        from bes_logdiag.render.safe import terminal, terminal_text
        from bes_logdiag.render.table import console_for

        lib = load_library()
        with output_stream(None, closed=NO_STDOUT) as out:
            console = console_for(out, screen)
            if kbid is None:
                table = Table(header_style="bold")
                for col in ("KB", "Stage", "Title", "Device shows", "Check"):
                    table.add_column(col, overflow="fold", no_wrap=col in ("KB", "Stage"))  # ids stay whole
                for a in sorted(lib.articles.values(), key=lambda a: (a.stage, not a.prerequisite, a.id)):
                    stage = "pre" if a.prerequisite else str(a.stage)
                    # The library is TOML an admin may edit: its text is data, shown and never markup.
                    table.add_row(*(terminal_text(x) for x in (a.id, stage, a.title, a.device, a.check)))
                console.print(table)
                return
            wanted = article_id(kbid)
            article = lib.articles.get(wanted)
            if article is None:
                import difflib

                near = difflib.get_close_matches(wanted, sorted(lib.articles), n=1, cutoff=0.7)
                hint = f"did you mean {near[0]}? " if near else ""
                raise UsageError(f"unknown article {kbid!r} ({hint}known: {', '.join(sorted(lib.articles))})")
            t = terminal
            console.print(terminal_text(f"{article.id}  {article.title}", style="bold"))
            stage = "prerequisite" if article.prerequisite else f"stage {article.stage}"
            lines = [
                f"  stage:        {stage} ({t(lib.stages[article.stage].name)})",
                f"  device shows: {t(article.device)}",
                f"  in the logs:  {t(article.tell)}",
                f"  check:        {t(article.check)}",
            ]
            lines += [
                f"  primary when the attempt stalls after {t(r.after)}: {t(r.why)}"
                for r in lib.stall_rules.values()
                if r.kb == article.id
            ]
            lines += [
                f"  primary when this error is logged: {t(p.id)} ({t(p.title)})"
                for p in lib.patterns
                if p.kb == article.id
            ]
            for line in lines:
                console.print(Text(line))
