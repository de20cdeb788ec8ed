"""CSV output: a header and one row per activation (its last attempt), for spreadsheets.

Dialect: comma-separated, fields quoted only when needed (``QUOTE_MINIMAL``: a comma, a double
quote or a line break; quotes doubled), rows ended by ``\\n``; a row with a carriage return in a
cell has every field quoted (`Rows`). Excel, LibreOffice and Python's
``csv`` reader all accept ``\\n``, and a ``\\n`` written to a text stream becomes ``\\r\\n`` on
Windows, where ``\\r\\n`` would become ``\\r\\r\\n``. No byte-order mark: the output is the CLI's
UTF-8 stream, and a BOM would end up in the first header name for every reader that does not strip
it (Excel users: Data > From Text/CSV, UTF-8). Values are the json format's
(``render.json.activation_dict``): times ISO 8601, null as the empty string.

Cells are guarded against formula injection as OWASP recommends ("CSV Injection"): a text cell
that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a ``'`` before it, so
that a display name such as ``=HYPERLINK(...)`` from a log is shown, not run, when an admin opens
the file in Excel or LibreOffice.  ``raw=True`` (``--raw``) writes cells unchanged, for scripts.
Written to a terminal, text cells are shown as `render.safe.terminal` shows log text, raw or not:
an escape sequence in a display name is printed, never obeyed.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import TYPE_CHECKING, TextIO

from bes_logdiag.model import Report
from bes_logdiag.render.batch import batched
from bes_logdiag.render.json import activation_dict
from bes_logdiag.render.safe import is_terminal, terminal

if TYPE_CHECKING:
    from _typeshed import SupportsWrite

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


class Rows:
    """The CSV writer of every CSV output: `csv_cells` of each row, written to ``out``.

    Python's writer (up to 3.12) quotes a cell for a line end only if ``\\n`` is in it: a lone
    ``\\r`` from a log line went out bare, and every spreadsheet and CSV reader started a new row
    there, with the rest of the cell unguarded (``eve\\r=cmd|...``).  A row that holds one is
    written with every field quoted.  On a terminal, text is shown as `terminal` shows it."""

    def __init__(self, out: SupportsWrite[str], *, raw: bool = False, screen: bool = False) -> None:
        self._raw = raw
        self._screen = screen
        self._minimal = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
        self._quoted = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)

    def write(self, values: Iterable[object]) -> None:
        cells = csv_cells(values, raw=self._raw)
        if self._screen:
            cells = [terminal(c) if isinstance(c, str) else c for c in cells]
        carriage = any(isinstance(c, str) and "\r" in c for c in cells)
        (self._quoted if carriage else self._minimal).writerow(cells)


def write(report: Report, out: TextIO, *, raw: bool = False) -> None:
    with batched(out) as b:
        rows = Rows(b, raw=raw, screen=is_terminal(out))
        rows.write(COLUMNS)
        for act in report.activations:
            d = activation_dict(act)
            rows.write(d[c] for c in COLUMNS)
