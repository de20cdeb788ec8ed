"""``bes-logdiag lnav-format``: the lnav log format for BES logs, to install with ``lnav -i``."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from bes_logdiag.cli import app
from bes_logdiag.cli.common import DEBUG, check_output, handle_errors, output_stream


@app.command("lnav-format")
def lnav_format(
    output: Optional[Path] = typer.Option(
        None, "--output", "-o", metavar="FILE", help="Write the format to this file instead of stdout."
    ),
    debug: bool = DEBUG,
) -> None:
    """Write the lnav log format for BES logs (JSON), for lnav -i.

    With it lnav reads BES logs as logs: a timestamp, level, event id, thread, user (address,
    display name, user id) and message for every line, and a bes_log SQL table. The samples
    in it are the pattern library's example lines. lnav takes the year from each file's
    modification time, since BES timestamps have none.

    Example: bes-logdiag lnav-format -o bes_log.json && lnav -i bes_log.json
    """
    with handle_errors(debug):
        from bes_logdiag.library import load_library
        from bes_logdiag.lnav import lnav_format_json

        check_output(output, [])
        text = lnav_format_json(load_library())
        with output_stream(output) as out:
            out.write(text)
