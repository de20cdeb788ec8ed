"""CSV output: a header and one row per activation (its last attempt), for spreadsheets.

Dialect: comma-separated, fields quoted only when needed (``QUOTE_MINIMAL``: a comma, a double
quote or a line break; quotes doubled), rows ended by ``\\n``. Excel, LibreOffice and Python's
``csv`` reader all accept ``\\n``, and a ``\\n`` written to a text stream becomes ``\\r\\n`` on
Windows, where ``\\r\\n`` would become ``\\r\\r\\n``. No byte-order mark: the output is the CLI's
UTF-8 stream, and a BOM would end up in the first header name for every reader that does not strip
it (Excel users: Data > From Text/CSV, UTF-8). Values are the json format's
(``render.json.activation_dict``): times ISO 8601, null as the empty string.

Cells are guarded against formula injection as OWASP recommends ("CSV Injection"): a text cell
that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a ``'`` before it, so
that a display name such as ``=HYPERLINK(...)`` from a log is shown, not run, when an admin opens
the file in Excel or LibreOffice.  ``raw=True`` (``--raw``) writes cells unchanged, for scripts.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import TextIO

from bes_logdiag.model import Report
from bes_logdiag.render.batch import batched
from bes_logdiag.render.json import activation_dict

COLUMNS = (
    "server", "email", "user_id", "display_name", "status", "stage", "stage_name", "kb", "kb_title",
    "started", "last_progress", "completed",
)  # fmt: skip


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What makes a spreadsheet read a cell as a formula (OWASP, "CSV Injection")."""


def guard_cell(value: object) -> object:
    """`value` as a spreadsheet may open it: text beginning like a formula gets a ``'`` before it
    (shown by Excel and LibreOffice as text, the quote itself hidden); other values unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_cells(values: Iterable[object], *, raw: bool = False) -> list[object]:
    """One row's cells: None as the empty string, and each guarded unless `raw`."""
    cells = ["" if v is None else v for v in values]
    return cells if raw else [guard_cell(v) for v in cells]


def write(report: Report, out: TextIO, *, raw: bool = False) -> None:
    with batched(out) as b:
        w = csv.writer(b, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
        w.writerow(COLUMNS)
        for act in report.activations:
            d = activation_dict(act)
            w.writerow(csv_cells((d[c] for c in COLUMNS), raw=raw))
