"""`presence check` warns on every appSettings key the service does not know, with "did you mean"."""

from __future__ import annotations

import string
from pathlib import Path

import builders
import pytest
from builders import failing, findings_of, host, line_of, only_finding, presence_check, swap
from guide_keys import TRUSTED_SETTINGS, dotnet_config
from hypothesis import given, settings
from hypothesis import strategies as st

from bes_logdiag.presence.check import check_configs
from bes_logdiag.presence.config import parse_config
from bes_logdiag.presence.rules import PresenceRules

MAX_LINE = '    <add key="MAX_SUBSCRIPTIONS_PER_ENDPOINT" value="2000" />'
CERT_LINE = '    <add key="RESTRICT_CERT_BY_FRIENDLY_NAME" value="BEMS Presence 2024"></add>'
AD_LINE = '    <add key="AD_USERS_SOURCE" value="GC" />'


@pytest.mark.parametrize(
    ("line", "typo", "meant"),
    [
        (MAX_LINE, "MAX_SUBSCRIPTION_PER_ENDPOINT", "MAX_SUBSCRIPTIONS_PER_ENDPOINT"),
        (CERT_LINE, "RESTRICT_CERT_BY_FRIENDLYNAME", "RESTRICT_CERT_BY_FRIENDLY_NAME"),
        (AD_LINE, "AD_USER_SOURCE", "AD_USERS_SOURCE"),
    ],
    ids=["max-subscriptions", "friendly-name", "ad-source"],
)
def test_a_misspelt_key_is_a_warning_naming_the_key_meant(
    tmp_path: Path, line: str, typo: str, meant: str
) -> None:
    settings = swap(TRUSTED_SETTINGS, line, line.replace(f'"{meant}"', f'"{typo}"'))
    text = dotnet_config(settings)
    path = host(tmp_path, "bems01", text)
    result, doc = presence_check(path)
    assert result.exit_code == 1
    finding = only_finding(doc, "setting-misspelt")
    assert (finding["key"], finding["severity"], finding["line"]) == (typo, "warning", line_of(text, typo))
    assert finding["message"].startswith(f"{typo} is not a key the Presence service knows")
    assert f"did you mean {meant}?" in finding["message"]
    assert result.stderr.startswith("0 errors, 1 warning, ")


def test_a_key_like_no_known_one_is_a_warning_without_a_guess(tmp_path: Path) -> None:
    settings = swap(TRUSTED_SETTINGS, MAX_LINE, MAX_LINE + '\n    <add key="LOG_LEVEL" value="DEBUG" />')
    text = dotnet_config(settings)
    result, doc = presence_check(host(tmp_path, "bems01", text))
    assert result.exit_code == 1
    finding = only_finding(doc, "setting-unknown")
    assert (finding["key"], finding["severity"], finding["line"]) == (
        "LOG_LEVEL",
        "warning",
        line_of(text, "LOG_LEVEL"),
    )
    assert "did you mean" not in finding["message"]
    assert "--known-key" in finding["message"]
    assert not findings_of(doc, "setting-misspelt")


def test_every_line_of_an_unknown_key_is_flagged(tmp_path: Path) -> None:
    extra = '\n    <add key="AD_USER_SOURCE" value="GC" />'
    text = dotnet_config(swap(TRUSTED_SETTINGS, AD_LINE, AD_LINE + extra + extra))
    _, doc = presence_check(host(tmp_path, "bems01", text))
    lines = [f["line"] for f in findings_of(doc, "setting-misspelt")]
    assert lines == [line_of(text, "AD_USER_SOURCE"), line_of(text, "AD_USER_SOURCE", nth=2)]


def test_a_known_key_in_another_case_is_known(tmp_path: Path) -> None:
    # .NET looks appSettings keys up without regard to case: the setting applies.
    text = dotnet_config(swap(TRUSTED_SETTINGS, 'key="LYNC_SERVER"', 'key="Lync_Server"'))
    result, doc = presence_check(host(tmp_path, "bems01", text))
    assert result.exit_code == 0, failing(doc)


def test_the_visual_studio_settings_key_is_known(tmp_path: Path) -> None:
    assert "ClientSettingsProvider.ServiceUri" in TRUSTED_SETTINGS
    result, doc = presence_check(host(tmp_path, "bems01", dotnet_config()))
    assert result.exit_code == 0, failing(doc)


def test_keys_the_guide_does_not_list_are_flagged_until_accepted(tmp_path: Path) -> None:
    # The builders' host carries two keys the guide does not document.
    path = host(tmp_path, "bems01", builders.dotnet_config())
    result, doc = presence_check(path)
    assert result.exit_code == 1
    flagged = {f["key"]: f["rule"] for f in failing(doc)}
    assert flagged == {
        "UCMA_APPLICATION_PORT": "setting-misspelt",  # close to UCMA_APPLICATION_NAME
        "SUBSCRIPTION_EXPIRATION_SECONDS": "setting-unknown",
    }
    accepted = builders.presence_cli(
        "check", path, "--known-key", "UCMA_APPLICATION_PORT,subscription_expiration_seconds", "-f", "json"
    )
    assert accepted.exit_code == 0, accepted.stdout
    repeated = builders.presence_cli(
        "check",
        path,
        "--known-key",
        "UCMA_APPLICATION_PORT",
        "--known-key",
        "SUBSCRIPTION_EXPIRATION_SECONDS",
    )
    assert repeated.exit_code == 0


@pytest.mark.parametrize("value", ["", " ", "A,,B"])
def test_an_empty_known_key_is_a_usage_error(tmp_path: Path, value: str) -> None:
    path = host(tmp_path, "bems01", dotnet_config())
    result = builders.presence_cli("check", path, "--known-key", value)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        "bes-logdiag: error: --known-key needs a key name, such as --known-key LOG_LEVEL\n"
    )


def test_the_table_shows_the_guess(tmp_path: Path) -> None:
    text = dotnet_config(swap(TRUSTED_SETTINGS, 'key="LYNC_SERVER"', 'key="LYNC_SEVER"'))
    result = builders.presence_cli("check", host(tmp_path, "bems01", text))
    assert result.exit_code == 1
    flat = " ".join(result.stdout.replace("│", " ").split())
    assert "setting-misspelt" in flat
    assert "did you mean LYNC_SERVER?" in flat


KEY_CHARS = string.ascii_letters + string.digits + "_.-"


@settings(max_examples=60, deadline=None)
@given(key=st.text(alphabet=KEY_CHARS, min_size=1, max_size=40))
def test_any_key_the_service_does_not_know_gets_exactly_one_warning(rules: PresenceRules, key: str) -> None:
    known = {k.casefold() for k in rules.known_keys}
    settings_xml = swap(TRUSTED_SETTINGS, MAX_LINE, MAX_LINE + f'\n    <add key="{key}" value="x" />')
    text = dotnet_config(settings_xml)
    config = parse_config(text, "bems01.config", rules.keys.endpoint_collection)
    report = check_configs([config], rules)
    about_keys = [f for f in report.findings if f.rule in ("setting-misspelt", "setting-unknown")]
    if key.casefold() in known:
        assert about_keys == []
    else:
        [finding] = about_keys
        assert (finding.key, finding.line) == (key, line_of(text, f'key="{key}"'))
        assert report.failed


def test_a_known_key_with_white_space_around_it_says_so(tmp_path: Path) -> None:
    """``key=" MAX_SUBSCRIPTIONS_PER_ENDPOINT"``: .NET reads another key; the message read "MAX_...
    is not a key ...; did you mean MAX_..." with the space invisible."""
    line = '<add key="MAX_SUBSCRIPTIONS_PER_ENDPOINT" value="2000" />'
    text = dotnet_config(swap(TRUSTED_SETTINGS, line, line.replace('key="', 'key=" ')))
    _, doc = presence_check(host(tmp_path, "bems01", text))
    finding = only_finding(doc, "setting-misspelt")
    assert finding["key"] == " MAX_SUBSCRIPTIONS_PER_ENDPOINT"
    assert 'this key is " MAX_SUBSCRIPTIONS_PER_ENDPOINT", with white space around it' in finding["message"]
