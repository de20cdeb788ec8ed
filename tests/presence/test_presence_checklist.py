"""`presence check --checklist` ends with what to check outside the files; docs/presence.md explains each."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from builders import host, presence_cli, swap
from guide_keys import host_text

from bes_logdiag.presence.rules import PresenceRules

DOCS = Path(__file__).resolve().parents[2] / "docs" / "presence.md"
TITLE = "Also check, outside the configuration files:"
TOPICS = ["Dashboard settings", "Service account", "Jabber fields", "Certificates"]


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return host(tmp_path, "bems01", host_text(1))


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_the_table_ends_with_the_list(config: Path, rules: PresenceRules) -> None:
    result = presence_cli("check", config, "--checklist")
    assert result.exit_code == 0
    out = result.stdout
    tail = out[out.index(TITLE) :]
    assert out.index("Subscription capacity") < out.index(TITLE)
    for topic in TOPICS:
        assert f"- {topic}:" in tail
    assert "Subscription Expiration Time" in _flat(tail)
    assert "RTCUniversalReadOnlyAdmins" in _flat(tail)
    assert len([line for line in tail.splitlines() if line.startswith("- ")]) == len(rules.checklist)


def test_without_the_option_there_is_no_list(config: Path) -> None:
    result = presence_cli("check", config)
    assert TITLE not in result.stdout
    assert "checklist" not in json.loads(presence_cli("check", config, "-f", "json").stdout)


def test_json_and_markdown_carry_the_list(config: Path, rules: PresenceRules) -> None:
    as_json = json.loads(presence_cli("check", config, "--checklist", "-f", "json").stdout)
    assert [item["topic"] for item in as_json["checklist"]] == [item.topic for item in rules.checklist]
    markdown = presence_cli("check", config, "--checklist", "-f", "markdown").stdout
    assert f"**{TITLE}**" in markdown
    assert markdown.rstrip().splitlines()[-1].startswith("- **")


def test_the_list_does_not_change_the_exit_code(tmp_path: Path) -> None:
    bad = host(tmp_path, "bems01", swap(host_text(1), 'value="2000"', 'value="0"'))
    assert presence_cli("check", bad, "--checklist").exit_code == 1


def test_junit_with_the_list_is_a_usage_error(config: Path) -> None:
    result = presence_cli("check", config, "--checklist", "-f", "junit")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        "bes-logdiag: error: --checklist is for people: use it with --format table, markdown or json\n"
    )


def test_the_list_is_short(rules: PresenceRules) -> None:
    assert 4 <= len(rules.checklist) <= 8
    assert all(len(item.text) <= 300 for item in rules.checklist)


def test_the_docs_explain_every_topic_of_the_list(rules: PresenceRules) -> None:
    docs = DOCS.read_text(encoding="utf-8")
    section = docs[docs.index("## What the files cannot show") :]
    section = section[: section.index("\n## ", 1)]
    for item in rules.checklist:
        assert f"**{item.topic}**" in section, item.topic
    for fact in (
        "Subscription Expiration Time",
        "RTCUniversalReadOnlyAdmins",
        "UDS",
        "friendly name",
        "keystore",
    ):
        assert fact in section, fact
