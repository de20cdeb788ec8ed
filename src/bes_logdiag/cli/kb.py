"""``bes-logdiag kb``: the activation KB articles, what the device shows and what to check."""

from __future__ import annotations

import sys
from typing import Optional

import typer

from bes_logdiag.cli import app
from bes_logdiag.cli.common import DEBUG, handle_errors


@app.command()
def kb(
    kbid: Optional[str] = typer.Argument(None, metavar="KBID", help="One article, e.g. KB13840 (any case)."),
    debug: bool = DEBUG,
) -> None:
    """The KB articles for activation problems: id, stage, what the device shows, what to check.

    With an id: that article, what in the logs points to it, and which stalls and errors lead there.

    Example: bes-logdiag kb KB13840
    """
    with handle_errors(debug):
        from rich.table import Table
        from rich.text import Text

        from bes_logdiag.errors import UsageError
        from bes_logdiag.library import load_library
        from bes_logdiag.render.safe import terminal, terminal_text
        from bes_logdiag.render.table import console_for

        lib = load_library()
        console = console_for(sys.stdout)
        if kbid is None:
            table = Table(header_style="bold")
            for col in ("KB", "Stage", "Title", "Device shows", "Check"):
                table.add_column(col, overflow="fold")
            for a in sorted(lib.articles.values(), key=lambda a: (a.stage, not a.prerequisite, a.id)):
                stage = "pre" if a.prerequisite else str(a.stage)
                # The library is TOML an admin may edit: its text is data, shown and never markup.
                table.add_row(*(terminal_text(x) for x in (a.id, stage, a.title, a.device, a.check)))
            console.print(table)
            return
        article = lib.articles.get(kbid.strip().upper())
        if article is None:
            raise UsageError(f"unknown article {kbid!r} (known: {', '.join(sorted(lib.articles))})")
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
