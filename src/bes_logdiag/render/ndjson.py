"""NDJSON output (jsonlines.org): one line per activation, the json format's activation object."""

from __future__ import annotations

from typing import TextIO

from bes_logdiag.model import Report
from bes_logdiag.render.batch import batched
from bes_logdiag.render.json import activation_dict, dumps


def write(report: Report, out: TextIO) -> None:
    # json.dumps escapes any newline inside a value, so each object stays on its one line;
    # non-ASCII is written as is: the CLI's output stream is UTF-8, as JSON Lines requires.
    with batched(out) as b:
        for act in report.activations:
            b.write(dumps(activation_dict(act)) + "\n")
