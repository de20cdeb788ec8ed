"""CSV output: a header and one row per activation (its last attempt), for spreadsheets.

Dialect: comma-separated, fields quoted only when needed (``QUOTE_MINIMAL``: a comma, a double
quote or a line break; quotes doubled), rows ended by ``\\n``. Excel, LibreOffice and Python's
``csv`` reader all accept ``\\n``, and a ``\\n`` written to a text stream becomes ``\\r\\n`` on
Windows, where ``\\r\\n`` would become ``\\r\\r\\n``. No byte-order mark: the output is the CLI's
UTF-8 stream, and a BOM would end up in the first header name for every reader that does not strip
it (Excel users: Data > From Text/CSV, UTF-8). Values are the json format's
(``render.json.activation_dict``): times ISO 8601, null as the empty string.
"""

from __future__ import annotations

import csv
from typing import TextIO

from bes_logdiag.model import Report
from bes_logdiag.render.batch import batched
from bes_logdiag.render.json import activation_dict

COLUMNS = (
    "server", "email", "user_id", "display_name", "status", "stage", "stage_name", "kb", "kb_title",
    "started", "last_progress", "completed",
)  # fmt: skip


def write(report: Report, out: TextIO) -> None:
    with batched(out) as b:
        w = csv.writer(b, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
        w.writerow(COLUMNS)
        for act in report.activations:
            d = activation_dict(act)
            w.writerow(["" if d[c] is None else d[c] for c in COLUMNS])
