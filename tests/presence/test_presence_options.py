"""The options every command shares (-f, -o, -q, --debug), piped table width and plural wording."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from builders import run_cli
from rich.console import Console
from typer.testing import Result

from bes_logdiag.errors import PatternError
from bes_logdiag.presence import cli as presence_cli
from bes_logdiag.presence.render import findings_table
from bes_logdiag.presence.rules import (
    RULE_IDS,
    PresenceRules,
    load_presence_rules,
    presence_rules_path,
)

Data = Callable[[str], Path]
Invoke = Callable[..., Result]
MAX_KEY = "MAX_SUBSCRIPTIONS_PER_ENDPOINT"


# -o / --output -------------------------------------------------------------------------------


@pytest.mark.parametrize("output_option", ["-o", "--output"])
def test_check_output_file_gets_the_table_and_stdout_stays_empty(
    data: Data, invoke: Invoke, tmp_path: Path, output_option: str
) -> None:
    target = tmp_path / "report.txt"
    result = invoke("check", str(data("max_subs_too_high.config")), output_option, str(target))
    assert result.exit_code == 1  # findings still set the exit code
    assert result.stdout == ""
    written = target.read_text(encoding="utf-8")
    assert "Subscription capacity" in written
    assert f"│ {MAX_KEY} " in written
    assert "\x1b[" not in written
    assert result.stderr == "1 error, 0 warnings, 1 info in 1 file\n"


def test_check_json_output_file(data: Data, invoke: Invoke, tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    result = invoke("check", str(data("clean.config")), "-f", "json", "-o", str(target))
    assert (result.exit_code, result.stdout) == (0, "")
    assert set(json.loads(target.read_text(encoding="utf-8"))) == {"findings", "capacity"}


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [("table", "a.com\nb.com\n"), ("json", None)],
)
def test_whitelist_output_file(invoke: Invoke, tmp_path: Path, fmt: str, expected: str | None) -> None:
    target = tmp_path / "clean.txt"
    result = invoke("whitelist", "a.com b.com bad_entry", "-f", fmt, "-o", str(target))
    assert result.exit_code == 1
    assert result.stdout == ""
    written = target.read_text(encoding="utf-8")
    if expected is not None:
        assert written == expected
        assert "whitelist-invalid" in result.stderr  # findings stay on stderr
    else:
        assert json.loads(written)["domains"] == ["a.com", "b.com"]


def test_unwritable_output_is_one_line_exit_2(data: Data, invoke: Invoke, tmp_path: Path) -> None:
    target = tmp_path / "no-such-dir" / "report.txt"
    result = invoke("check", str(data("clean.config")), "-o", str(target))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"bes-logdiag: error: -o {target}: no such folder")
    assert result.stderr.count("\n") == 1


# -q / --quiet --------------------------------------------------------------------------------


@pytest.mark.parametrize("quiet_option", ["-q", "--quiet"])
def test_quiet_check_prints_nothing_on_stderr(data: Data, invoke: Invoke, quiet_option: str) -> None:
    result = invoke("check", str(data("max_subs_too_high.config")), quiet_option)
    assert result.exit_code == 1
    assert result.stderr == ""
    assert "max-subscriptions-invalid" in result.stdout


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_quiet_whitelist_prints_only_the_domains(invoke: Invoke, fmt: str) -> None:
    result = invoke("whitelist", "a.com a.com bad_entry", "-q", "-f", fmt)
    assert result.exit_code == 1
    assert result.stderr == ""
    if fmt == "table":
        assert result.stdout == "a.com\n"
    else:
        assert len(json.loads(result.stdout)["findings"]) == 2


def test_quiet_still_reports_errors(invoke: Invoke, tmp_path: Path) -> None:
    missing = tmp_path / "missing.config"
    result = invoke("check", str(missing), "-q")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"bes-logdiag: error: {missing}: cannot read")


# --debug -------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [["check", "x.config"], ["whitelist", "a.com"]])
def test_internal_error_is_one_line_and_debug_shows_the_traceback(
    data: Data, invoke: Invoke, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(presence_cli, "load_presence_rules", broken)
    plain = invoke(*command)
    assert plain.exit_code == 2
    assert plain.stdout == ""
    assert plain.stderr == (
        "bes-logdiag: error: internal error: RuntimeError: boom (run with --debug for details)\n"
    )
    debug = invoke(*command, "--debug")
    assert debug.exit_code == 2
    assert "Traceback (most recent call last)" in debug.stderr
    assert debug.stderr.endswith("RuntimeError: boom (run with --debug for details)\n")


# Tables: the pipe width of scan, keys never split ---------------------------------------------


def test_piped_check_table_is_wide_and_keeps_keys_whole(data: Data, invoke: Invoke) -> None:
    result = invoke("check", str(data("max_subs_absent.config")))
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    # The key cell holds the whole key, and the message fits on one line, as in a 160-column pipe.
    assert any(f"│ {MAX_KEY} │ {MAX_KEY} is not set, so each endpoint" in line for line in lines)
    assert "MAX_SUBSCRIPTIONS_PER_ENDPOI " not in result.stdout
    assert 80 < max(len(line) for line in lines) <= 160


def _render(findings_width: int, rules: PresenceRules) -> str:
    keys = [getattr(rules.keys, name) for name in vars(rules.keys)]
    findings = [
        rules.finding(rule_id, file="f", key=keys[n % len(keys)], line=n, value="x" * 40)
        for n, rule_id in enumerate(sorted(RULE_IDS))
    ]
    console = Console(file=io.StringIO(), width=findings_width)
    console.print(findings_table(findings))
    output = console.file.getvalue()  # type: ignore[attr-defined]
    assert isinstance(output, str)
    return output


@pytest.mark.parametrize("width", [80, 160])
def test_keys_and_rule_ids_are_not_split_on_a_narrow_terminal(rules: PresenceRules, width: int) -> None:
    output = _render(width, rules)
    assert max(len(line) for line in output.splitlines()) <= width
    for name in vars(rules.keys):
        assert f"│ {getattr(rules.keys, name)} " in output
    for rule_id in RULE_IDS:
        assert f"│ {rule_id} " in output


# Singular and plural ---------------------------------------------------------------------------


def test_one_disabled_domain_reads_singular(invoke: Invoke) -> None:
    one = invoke("whitelist", "a.com", "--disabled", "-f", "json")
    [note] = json.loads(one.stdout)["findings"]
    assert "so this domain has no effect until it is enabled" in note["message"]
    two = invoke("whitelist", "a.com b.com", "--disabled", "-f", "json")
    [note] = json.loads(two.stdout)["findings"]
    assert "so these 2 domains have no effect until it is enabled" in note["message"]


def test_one_subscription_per_endpoint_reads_singular(
    data: Data, check_json: Callable[..., tuple[Result, dict[str, object]]], tmp_path: Path
) -> None:
    config = tmp_path / "one.config"
    text = data("clean.config").read_text(encoding="utf-8")
    config.write_text(text.replace('value="2000"', 'value="1"'), encoding="utf-8")
    _, report = check_json(config)
    findings = report["findings"]
    assert isinstance(findings, list)
    [fill] = [f for f in findings if f["rule"] == "endpoints-fill-in-order"]
    assert "each one takes 1 subscription before the next one is used" in fill["message"]


def test_summary_line_is_singular_for_one(data: Data, invoke: Invoke) -> None:
    result = invoke("check", str(data("max_subs_too_high.config")), "-f", "json")
    assert result.stderr == "1 error, 0 warnings, 1 info in 1 file\n"


NUMBER_FIELDS = ("count", "default", "per_endpoint", "min", "max", "first_line", "other_line")


@pytest.mark.parametrize("rule_id", sorted(RULE_IDS))
def test_no_message_says_1_with_a_plural_noun(rules: PresenceRules, rule_id: str) -> None:
    fields: dict[str, object] = dict.fromkeys(NUMBER_FIELDS, 1)
    if rule_id == "endpoints-fill-in-order":
        fields["count"] = 2  # fires only for two or more endpoints
    message = rules.finding(rule_id, file="f", key="K", line=1, **fields).message
    assert not re.search(r"\b1 [a-z]{3,}s\b", message), message


def test_plural_choice_follows_the_number(rules: PresenceRules) -> None:
    def default(n: int) -> str:
        finding = rules.finding("max-subscriptions-default", file="f", key="K", line=1, default=n)
        return str(finding.message)

    assert "up to 1 subscription (" in default(1)
    assert "up to 1000 subscriptions (" in default(1000)


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{count:one|two|three}", "needs one |"),
        ("{} domains", "is not a field name"),
    ],
)
def test_bad_plural_or_positional_template_is_refused(tmp_path: Path, template: str, message: str) -> None:
    text = presence_rules_path().read_text(encoding="utf-8")
    old = "{count:this domain has|these {count} domains have}"
    assert old in text
    path = tmp_path / "presence.toml"
    path.write_text(text.replace(old, template), encoding="utf-8")
    with pytest.raises(PatternError) as caught:
        load_presence_rules(path)
    assert "rule whitelist-disabled: bad message template" in str(caught.value)
    assert message in str(caught.value)


def test_unknown_field_with_a_plural_spec_stays_visible(rules: PresenceRules) -> None:
    finding = rules.finding("whitelist-disabled", file="f", key="whitelist", line=None)
    assert "{count}" in finding.message


# Completion only on the top-level app ----------------------------------------------------------


def test_completion_options_only_on_the_top_level_app() -> None:
    assert "--install-completion" in run_cli("--help").stdout
    for group in ("presence", "patterns"):
        result = run_cli(group, "--help")
        assert result.exit_code == 0
        assert "--install-completion" not in result.stdout
        assert "--show-completion" not in result.stdout
