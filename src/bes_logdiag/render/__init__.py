"""Renderers: one module per output format, each with ``write(report, out)``; the ``--format``
choices of every command and the function that writes each."""

from __future__ import annotations

import enum
import importlib
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, TextIO, cast, overload

if TYPE_CHECKING:  # the model is imported by the renderers themselves: --help and --version skip it
    from bes_logdiag.model import Activation, Report

ReportWriter = Callable[["Report", TextIO], None]
TimelineWriter = Callable[[str, Sequence["Activation"], TextIO], None]
"""``write(query, activations, out)``: the user asked for, and their activations."""


class Format(str, enum.Enum):
    """``scan --format``."""

    table = "table"
    json = "json"
    ndjson = "ndjson"
    csv = "csv"
    junit = "junit"
    markdown = "markdown"
    html = "html"


class EventFormat(str, enum.Enum):
    """``events --format``."""

    ndjson = "ndjson"
    csv = "csv"
    json = "json"


class TimelineFormat(str, enum.Enum):
    """``timeline --format``."""

    table = "table"
    json = "json"


# Each choice's writer as ``module.function`` under bes_logdiag.render, imported only when it is
# used (a test loops over every member of each enum). One table per enum: members of str enums
# with the same value are equal, so they cannot share a dict.
WRITERS: Mapping[Format, str] = {
    Format.table: "table.write",
    Format.json: "json.write",
    Format.ndjson: "ndjson.write",
    Format.csv: "csv.write",
    Format.junit: "junit.write",
    Format.markdown: "markdown.write",
    Format.html: "html.write",
}
EVENT_WRITERS: Mapping[EventFormat, str] = {
    EventFormat.ndjson: "events.write_ndjson",
    EventFormat.csv: "events.write_csv",
    EventFormat.json: "events.write_json",
}
TIMELINE_WRITERS: Mapping[TimelineFormat, str] = {
    TimelineFormat.table: "timeline.write_table",
    TimelineFormat.json: "timeline.write_json",
}


@overload
def writer_for(fmt: Format | EventFormat) -> ReportWriter: ...
@overload
def writer_for(fmt: TimelineFormat) -> TimelineWriter: ...
def writer_for(fmt: Format | EventFormat | TimelineFormat) -> ReportWriter | TimelineWriter:
    """The function that writes ``fmt``; its module is imported now."""
    if isinstance(fmt, Format):
        where = WRITERS[fmt]
    elif isinstance(fmt, EventFormat):
        where = EVENT_WRITERS[fmt]
    else:
        where = TIMELINE_WRITERS[fmt]
    module, name = where.rsplit(".", 1)
    return cast(
        "ReportWriter | TimelineWriter",
        getattr(importlib.import_module(f"bes_logdiag.render.{module}"), name),
    )
