"""``scan --redact`` is `redact_report`: a scan's report with the pseudonyms a redaction of its logs
gives, in its values and in its texts, so that every output format is redacted, HTML included
(issue 18).  Redacting the report agrees with scanning the redacted logs, name for name."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from builders import SAMPLE_LOGS, data_file, run_cli, scan_report, unattached_users

from bes_logdiag.model import Report
from bes_logdiag.names import fold
from bes_logdiag.redact.keys import load_key
from bes_logdiag.redact.report import redact_report
from bes_logdiag.render import Format, writer_for
from bes_logdiag.render.json import report_dict

USERS = data_file("sample_users.csv")


@pytest.fixture(scope="module")
def original() -> Report:
    return scan_report(SAMPLE_LOGS, users=((None, USERS),))


@pytest.fixture(scope="module")
def key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("key") / "bes.key"
    load_key(path)
    return path


def _names(report: Report) -> dict[str, set[str]]:
    """Every address, display name, user id and server the report's values hold."""
    out: dict[str, set[str]] = {"email": set(), "display": set(), "user_id": set(), "server": set()}
    events = [e for a in report.activations for t in a.attempts for e in t.events]
    events += [e for u in report.unattached for e in (u.first, u.last)]
    for x in [*report.activations, *report.unattached, *events]:
        out["email"].add(x.email or "")
        out["display"].add(x.display_name or "")
        out["user_id"].add(x.user_id or "")
        out["server"].add(x.server or "")
    return {k: {v for v in vs if v} for k, vs in out.items()}


@pytest.mark.parametrize("servers", [True, False])
@pytest.mark.parametrize("fmt", list(Format))
def test_every_format_of_a_redacted_report_names_nobody(
    original: Report, key_file: Path, fmt: Format, servers: bool
) -> None:
    redacted = redact_report(original, load_key(key_file), servers=servers, user_maps=((None, USERS),))
    out = io.StringIO()
    writer_for(fmt)(redacted, out)
    text = out.getvalue()
    names = _names(original)
    assert names["email"] and names["display"] and names["user_id"]
    for email in names["email"]:
        assert email not in text, email
    for display in names["display"]:
        assert display not in text and display.lower() not in text, display
    for server in names["server"]:
        assert (server not in text) == servers, server
    # the lines around the evidence are read from the files the report names: not the originals
    assert str(SAMPLE_LOGS) not in text and "sample_logs" not in text
    for uid in names["user_id"]:  # as the texts write ids: UserId=N, [Name:N], bare in a join
        assert f"UserId={uid}" not in text and f":{uid}]" not in text and f" {uid} " not in text


def test_a_redacted_report_names_everyone_as_the_redacted_logs_do(
    original: Report, key_file: Path, tmp_path: Path
) -> None:
    result = run_cli(
        "redact", SAMPLE_LOGS, "-o", tmp_path / "out", "--key", key_file, "--users", USERS, "-j", "1"
    )
    assert result.exit_code == 0, result.stderr
    copy = json.loads(
        run_cli(
            "scan", tmp_path / "out" / "sample_logs", "--users", tmp_path / "out" / USERS.name, "-f", "json"
        ).stdout
    )
    redacted = report_dict(redact_report(original, load_key(key_file), user_maps=((None, USERS),)))

    def rows(doc: dict[str, Any]) -> list[tuple[Any, ...]]:
        return sorted(
            (a["server"], a["email"], a["user_id"], a["display_name"], a["status"], a["kb"], a["started"],
             tuple(sorted(j["kind"] for j in a["joins"])), tuple(m["text"] for m in a["milestones"]))
            for a in doc["activations"]
        )  # fmt: skip

    assert rows(json.loads(json.dumps(redacted))) == rows(copy)

    def groups(doc: dict[str, Any]) -> list[tuple[Any, ...]]:
        return sorted(
            ((u["email"], u["user_id"], u["display_name"], u["count"]) for u in unattached_users(doc)),
            key=repr,
        )

    assert groups(json.loads(json.dumps(redacted))) == groups(copy)


@pytest.mark.parametrize("with_map", [True, False])
def test_joins_that_quote_a_name_quote_its_pseudonym(key_file: Path, with_map: bool) -> None:
    maps = ((None, USERS),) if with_map else ()
    original = scan_report(SAMPLE_LOGS, users=maps)
    redacted = redact_report(original, load_key(key_file), user_maps=maps)
    seen = set()
    for before, after in zip(original.activations, redacted.activations):
        for j0, j1 in zip(before.joins, after.joins):
            seen.add(j1.kind)
            if j1.kind == "map":  # user map: <address>, <id>, <folded display name>
                assert (
                    j1.detail == f"user map: {after.email}, {after.user_id}, {fold(after.display_name or '')}"
                )
            if j1.kind == "name":  # <address> has the shape of the name '<display name>'
                assert j1.detail == f"{after.email} has the shape of the name '{after.display_name}'"
            assert before.email not in j1.detail and (before.display_name or "?") not in j1.detail
    assert seen == ({"map"} if with_map else {"name", "time"})


def test_a_report_redacted_without_servers_keeps_them(original: Report, key_file: Path) -> None:
    redacted = redact_report(original, load_key(key_file))
    assert {a.server for a in redacted.activations} == {a.server for a in original.activations}
    assert redacted.activations[0].last.events[0].file.startswith("\u2026/2023")
    assert set(redacted.log_end) == set(original.log_end)
    assert [a.last.status for a in redacted.activations] == [a.last.status for a in original.activations]
