"""The Presence rule file (bes_logdiag/presence/rules.toml): where it is found, that it loads, and that its data checks itself."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from bes_logdiag.errors import PatternError
from bes_logdiag.presence import rules as rules_module
from bes_logdiag.presence.rules import (
    PATTERN_NAMES,
    RULE_IDS,
    PresenceRules,
    Severity,
    check_patterns,
    load_presence_rules,
    presence_rules_path,
)

REPO_RULES = Path(__file__).resolve().parents[2] / "src" / "bes_logdiag" / "presence" / "rules.toml"


def test_rules_path_finds_the_file() -> None:
    path = presence_rules_path()
    assert path.is_file()
    assert path.read_text(encoding="utf-8") == REPO_RULES.read_text(encoding="utf-8")


def test_rules_path_is_the_packaged_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The rule file is package data of bes_logdiag.presence, in a wheel and a checkout alike.
    packaged = tmp_path / "rules.toml"
    packaged.write_text(REPO_RULES.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setattr(rules_module.resources, "files", lambda package: tmp_path)
    assert rules_module.presence_rules_path() == packaged
    assert load_presence_rules().source == str(packaged)


def test_rule_ids_and_patterns_match_the_code(rules: PresenceRules) -> None:
    assert set(rules.rules) == RULE_IDS
    assert set(rules.patterns) == PATTERN_NAMES
    assert rules.max_subscriptions.min == 1
    assert rules.max_subscriptions.max == 5000
    assert rules.max_subscriptions.default == 1000


def test_pattern_examples_and_counter_examples(rules: PresenceRules) -> None:
    assert check_patterns(rules) == []


def test_regexes_are_written_without_doubled_backslashes() -> None:
    text = REPO_RULES.read_text(encoding="utf-8")
    regex_lines = [line for line in text.splitlines() if line.startswith(("regex", "separator"))]
    assert regex_lines
    assert all("'''" in line and "\\\\" not in line for line in regex_lines)


def test_every_template_names_only_known_fields(rules: PresenceRules) -> None:
    header = REPO_RULES.read_text(encoding="utf-8").split("schema = 1")[0]
    documented = set(re.findall(r"\{(\w+)\}", header))
    for rule in rules.rules.values():
        used = {name for _, name, _, _ in string.Formatter().parse(rule.message) if name}
        assert used <= documented, (rule.id, used - documented)


def test_finding_leaves_unknown_fields_visible(rules: PresenceRules) -> None:
    finding = rules.finding("lync-server-not-fqdn", file="f", key="LYNC_SERVER", line=3)
    assert finding.severity is Severity.WARNING
    assert '"{value}"' in finding.message


GOOD_TAIL = REPO_RULES.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t + "\n[[broken", "invalid TOML"),
        (
            lambda t: t.replace(
                '[rules.whitelist-empty]\nseverity = "warning"',
                '[rules.whitelist-empty]\nseverity = "fatal"',
            ),
            "rule whitelist-empty: severity must be one of error, warning, info",
        ),
        (
            lambda t: t.replace("[rules.hosts-pool-differs]", "[rules.hosts-pool-differ]"),
            "rule missing: hosts-pool-differs",
        ),
        (
            lambda t: t.replace("regex = '''^[0-9]+$'''", "regex = '''^[0-9+$'''"),
            "pattern integer: bad regex",
        ),
        (lambda t: t.replace("min = 1\n", 'min = "1"\n'), "min must be an integer"),
        (
            lambda t: t.replace('lync_server = "LYNC_SERVER"\n', ""),
            "[keys] entry missing: lync_server",
        ),
    ],
    ids=["toml", "severity", "rule-id", "regex", "limit", "keys"],
)
def test_broken_rule_files_name_the_file(tmp_path: Path, edit: object, message: str) -> None:
    path = tmp_path / "presence.toml"
    assert callable(edit)
    path.write_text(edit(GOOD_TAIL), encoding="utf-8")
    with pytest.raises(PatternError) as caught:
        load_presence_rules(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)
