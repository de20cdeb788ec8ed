"""The JSON contract: the README's field tables and the keys ``scan --format json`` and ``events``
write agree (README, "JSON"), and every machine format is written in a handful of large writes,
whatever the stream's buffering (PYTHONUNBUFFERED makes every ``write`` a system call)."""

from __future__ import annotations

import dataclasses
import io
import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from builders import ROOT, SAMPLE_LOGS, run_cli, scan_json

from bes_logdiag.model import Report
from bes_logdiag.render import EventFormat, Format, writer_for
from bes_logdiag.render.batch import BATCH
from bes_logdiag.render.json import SCHEMA_VERSION, encode_pieces, report_dict
from bes_logdiag.scan import run_scan
from bes_logdiag.settings import ScanConfig

README = ROOT / "README.md"


def json_section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("\n## JSON\n")
    return text[start : text.index("\n## ", start + 1)]


def documented() -> dict[str, list[str]]:
    """Per ``### `name``` heading of the JSON section, the fields its table's first column names,
    in table order."""
    out: dict[str, list[str]] = {}
    for part in re.split(r"\n### ", json_section())[1:]:
        heading, _, body = part.partition("\n")
        name = heading.strip().strip("`")
        rows = [line for line in body.splitlines() if line.startswith("| `")]
        out[name] = [f for row in rows for f in re.findall(r"`([^`]+)`", row.split("|")[1])]
    return out


def row_of(table: str, field: str) -> str:
    """The README row of ``field`` in the table under ``### `table```."""
    section = json_section().split(f"\n### `{table}`\n", 1)[1]
    return next(line for line in section.splitlines() if line.startswith(f"| `{field}`"))


@pytest.fixture(scope="module")
def sample() -> dict[str, Any]:
    code, doc, _ = scan_json(SAMPLE_LOGS, "-q")
    assert code == 1  # the sample has stalled and failed activations
    return doc


def test_schema_version_is_the_documented_one(sample: dict[str, Any]) -> None:
    section = json_section()
    assert sample["schema_version"] == SCHEMA_VERSION == 3
    assert f"(`schema_version` {SCHEMA_VERSION})" in section
    assert f'"schema_version": {SCHEMA_VERSION},' in section
    assert "From schema 2 to 3" in section and "From schema 1 to 2" in section


def test_top_level_fields_are_the_example_ones(sample: dict[str, Any]) -> None:
    example = json_section().split("```json\n", 1)[1].split("```", 1)[0]
    assert re.findall(r'^  "(\w+)":', example, flags=re.MULTILINE) == list(sample)


def test_activation_fields_are_documented(sample: dict[str, Any]) -> None:
    fields = documented()["activations"]
    assert len(fields) == len(set(fields))
    assert sample["activations"]
    for act in sample["activations"]:
        assert list(act) == fields


def test_attempt_fields_are_the_documented_slice(sample: dict[str, Any]) -> None:
    """``attempts``: "each with the fields above from `status` to `candidates`"."""
    fields = documented()["activations"]
    assert "from `status` to `candidates`" in row_of("activations", "attempts")
    expected = fields[fields.index("status") : fields.index("candidates") + 1]
    earlier = [a for act in sample["activations"] for a in act["attempts"]]
    assert earlier, "the sample has retried activations"
    for attempt in earlier:
        assert list(attempt) == expected


def test_unattached_group_fields_are_documented(sample: dict[str, Any]) -> None:
    assert sample["unattached"], "the sample has lines that belong to no activation"
    users_row = row_of("unattached", "users")
    for group in sample["unattached"]:
        assert list(group) == documented()["unattached"]
        for user in group["users"]:
            assert [k for k in user if f"`{k}`" not in users_row] == []
            assert all(0 <= f < len(group["files"]) for f, _ in user["evidence"])


def test_input_fields_are_documented(sample: dict[str, Any]) -> None:
    assert list(sample["inputs"]) == documented()["inputs"]
    files_row = row_of("inputs", "files")
    for f in sample["inputs"]["files"]:
        assert [k for k in f if f"`{k}`" not in files_row] == []


def test_event_fields_are_documented() -> None:
    from bes_logdiag.render.events import COLUMNS

    fields = documented()["events"]
    records = [json.loads(x) for x in run_cli("events", SAMPLE_LOGS, "-q", "-j", "1").stdout.splitlines()]
    assert records and all(list(r) == fields for r in records)
    assert list(COLUMNS) == fields


# --- few, large writes -----------------------------------------------------------------------------


class CountingStream(io.StringIO):
    """A text stream that counts the calls to ``write``: one system call each when unbuffered."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, s: str) -> int:
        self.writes += 1
        return super().write(s)


@pytest.fixture(scope="module")
def sample_report() -> Report:
    return run_scan(ScanConfig(paths=(str(SAMPLE_LOGS),), jobs=1), unattached_lines=True)


@pytest.fixture(scope="module")
def big_report(sample_report: Report) -> Report:
    """7,600 activations (30 MB of JSON, 1.3 MB of CSV): the sample's, many times over."""
    return dataclasses.replace(sample_report, activations=sample_report.activations * 400)


def written(write: Callable[[Report, Any], None], report: Report) -> CountingStream:
    out = CountingStream()
    write(report, out)
    return out


def test_the_json_report_is_json_dumps_of_the_report(sample_report: Report, big_report: Report) -> None:
    """Encoded a piece at a time, the text is still exactly the C encoder's of the whole report."""
    for report in (
        sample_report,
        big_report,
        dataclasses.replace(sample_report, activations=(), unattached=()),
    ):
        text = written(writer_for(Format.json), report).getvalue()
        assert text == json.dumps(report_dict(report), ensure_ascii=False) + "\n"


def test_encode_pieces_writes_empty_iterators_and_documents() -> None:
    assert "".join(encode_pieces({})) == "{}\n"
    doc = {"a": iter([]), "b": iter([{"x": 1}, 2]), "c": [1]}
    assert "".join(encode_pieces(doc)) == '{"a": [], "b": [{"x": 1}, 2], "c": [1]}\n'


@pytest.mark.parametrize("fmt", [Format.json, Format.ndjson, Format.csv], ids=lambda f: f.value)
def test_the_report_is_written_in_a_handful_of_writes(
    fmt: Format, sample_report: Report, big_report: Report
) -> None:
    assert written(writer_for(fmt), sample_report).writes == 1
    out = written(writer_for(fmt), big_report)
    assert len(out.getvalue()) > BATCH
    assert out.writes <= len(out.getvalue()) // BATCH + 1


@pytest.mark.parametrize("fmt", list(EventFormat), ids=lambda f: f.value)
def test_events_are_written_in_a_handful_of_writes(
    fmt: EventFormat, sample_report: Report, big_report: Report
) -> None:
    assert written(writer_for(fmt), sample_report).writes == 1
    out = written(writer_for(fmt), big_report)
    assert len(out.getvalue()) > BATCH
    assert out.writes <= len(out.getvalue()) // BATCH + 1


def test_the_cli_writes_the_json_report_once_unbuffered() -> None:
    """The same through the CLI with PYTHONUNBUFFERED set: one line, the whole report."""
    result = run_cli("scan", SAMPLE_LOGS, "-f", "json", "-q", "-j", "1", env={"PYTHONUNBUFFERED": "1"})
    assert result.exit_code == 1
    assert result.stdout.count("\n") == 1
    assert json.loads(result.stdout)["schema_version"] == SCHEMA_VERSION
