"""`presence check --format`: the choices, and the writer (`write(report, out)`) of each."""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from typing import TextIO

from bes_logdiag.presence import junit, markdown
from bes_logdiag.presence.check import CheckReport
from bes_logdiag.presence.render import write_check_json, write_check_table


class CheckFormat(str, enum.Enum):
    """The formats of `presence check`, shaped like `scan`'s formats of the same names."""

    TABLE = "table"
    JSON = "json"
    JUNIT = "junit"
    MARKDOWN = "markdown"


CHECK_WRITERS: Mapping[CheckFormat, Callable[[CheckReport, TextIO], None]] = {
    CheckFormat.TABLE: write_check_table,
    CheckFormat.JSON: write_check_json,
    CheckFormat.JUNIT: junit.write,
    CheckFormat.MARKDOWN: markdown.write,
}
