"""Every ``--format`` choice of scan, events and timeline, and every ``--fail-on``, maps to what
implements it: the mappings are exhaustive, and each choice runs through the CLI."""

from __future__ import annotations

import csv
import enum
import io
import json
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from builders import run_cli, write_activation

from bes_logdiag.cli.scan import FAILING, FailOn
from bes_logdiag.render import (
    EVENT_WRITERS,
    TIMELINE_WRITERS,
    WRITERS,
    EventFormat,
    Format,
    TimelineFormat,
    writer_for,
)

JANE, JOHN = "jane.doe@corp.com", "john.roe@corp.com"
MAPPINGS: list[tuple[type[enum.Enum], Mapping[Any, object]]] = [
    (Format, WRITERS),
    (EventFormat, EVENT_WRITERS),
    (TimelineFormat, TIMELINE_WRITERS),
    (FailOn, FAILING),
]
EVERY_FORMAT = [*Format, *EventFormat, *TimelineFormat]


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Jane completes; John stops after the key is generated and is stalled when the logs end."""
    folder = tmp_path_factory.mktemp("logs")
    write_activation(folder, "MYBES", "20100521", JANE, 2001, "Doe, Jane", hour=9)
    write_activation(folder, "MYBES", "20100521", JOHN, 2002, "Roe, John", hour=10, upto="key_generated")
    return folder


@pytest.mark.parametrize("choices, mapping", MAPPINGS, ids=lambda x: getattr(x, "__name__", ""))
def test_every_choice_is_mapped(choices: type[enum.Enum], mapping: Mapping[Any, object]) -> None:
    assert list(mapping) == list(choices)


@pytest.mark.parametrize("fmt", EVERY_FORMAT, ids=lambda f: f"{type(f).__name__}.{f.value}")
def test_every_format_has_a_function(fmt: Format | EventFormat | TimelineFormat) -> None:
    assert callable(writer_for(fmt))


def parse(fmt: str, text: str) -> object:
    """The output read back as its format's reader reads it (the table and markdown as text)."""
    readers: dict[str, Callable[[str], object]] = {
        "json": json.loads,
        "ndjson": lambda t: [json.loads(x) for x in t.splitlines()],
        "csv": lambda t: list(csv.DictReader(io.StringIO(t, newline=""))),
        "junit": lambda t: ET.fromstring(t.encode("utf-8")),
    }
    return readers.get(fmt, str)(text)


@pytest.mark.parametrize("fmt", list(Format), ids=lambda f: f.value)
def test_scan_writes_every_format(logs: Path, fmt: Format) -> None:
    result = run_cli("scan", logs, "--format", fmt.value, "--jobs", "1", "--quiet")
    assert result.exit_code == 1  # John is stalled
    assert result.stderr == ""
    assert "\x1b[" not in result.stdout
    assert parse(fmt.value, result.stdout)
    assert JOHN in result.stdout


@pytest.mark.parametrize("fmt", list(EventFormat), ids=lambda f: f.value)
def test_events_writes_every_format(logs: Path, fmt: EventFormat) -> None:
    result = run_cli("events", logs, "--format", fmt.value, "--jobs", "1", "--quiet")
    assert result.exit_code == 0
    assert result.stderr == ""
    assert parse(fmt.value, result.stdout)
    assert JANE in result.stdout and JOHN in result.stdout


@pytest.mark.parametrize("fmt", list(TimelineFormat), ids=lambda f: f.value)
def test_timeline_writes_every_format(logs: Path, fmt: TimelineFormat) -> None:
    result = run_cli("timeline", JANE, logs, "--format", fmt.value, "--jobs", "1", "--quiet")
    assert result.exit_code == 0
    assert result.stderr == ""
    assert "\x1b[" not in result.stdout
    assert parse(fmt.value, result.stdout)
    assert JANE in result.stdout and JOHN not in result.stdout


FAIL_ON_EXIT = {FailOn.stalled: 1, FailOn.failed: 0, FailOn.any: 1, FailOn.never: 0}
"""The exit code of each --fail-on on logs with a stalled activation and no failed one."""


@pytest.mark.parametrize("fail_on", list(FailOn), ids=lambda f: f.value)
def test_every_fail_on_choice(logs: Path, fail_on: FailOn) -> None:
    result = run_cli("scan", logs, "--fail-on", fail_on.value, "--format", "csv", "--jobs", "1", "--quiet")
    assert result.exit_code == FAIL_ON_EXIT[fail_on]
