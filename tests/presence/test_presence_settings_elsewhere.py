"""``<appSettings configSource="appSettings.config" />`` (the settings are in that file alone) and
``<appSettings file="user.config">`` (that file's settings laid over these): .NET reads the other
file, relative to the configuration file, and so does the check.  Before, the settings were taken
to be missing ("UCMA_APPLICATION_NAME has no value", exit code 1) on a file .NET runs with.  A
``configSource`` file that is not there makes .NET refuse the file; a ``file`` that is not there
it passes over."""

from __future__ import annotations

import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

from builders import (
    TRUSTED_SETTINGS,
    dotnet_config,
    findings_of,
    host,
    line_of,
    only_finding,
    presence_check,
    presence_cli,
    save,
)

MOVED = '  <appSettings configSource="appSettings.config" />\n'
INNER = TRUSTED_SETTINGS  # (an appSettings file holds the element itself, as its root)


def rules_of(doc: dict) -> list[tuple[str, str]]:  # type: ignore[type-arg]
    return sorted((f["rule"], f["key"]) for f in doc["findings"])


def test_settings_moved_to_a_config_source_are_read_from_it(tmp_path: Path) -> None:
    """The same findings as with the settings written in the file (the guide's settings hold a
    misspelt and an unknown key), and a note where they were read from."""
    _, inline = presence_check(host(tmp_path / "inline", "bems01", dotnet_config()))
    config = host(tmp_path, "bems01", dotnet_config(MOVED))
    save(config.parent / "appSettings.config", '<?xml version="1.0" encoding="utf-8"?>\n' + INNER)
    _, doc = presence_check(config)
    assert rules_of(doc) == sorted([*rules_of(inline), ("app-settings-source", "appSettings")])
    note = only_finding(doc, "app-settings-source")
    assert (note["severity"], note["line"]) == ("info", line_of(dotnet_config(MOVED), "configSource"))
    assert doc["capacity"][0]["max_subscriptions_per_endpoint"] == 2000


def test_a_finding_about_a_moved_setting_names_the_file_it_stands_in(tmp_path: Path) -> None:
    config = host(tmp_path, "bems01", dotnet_config(MOVED))
    limit = '<add key="MAX_SUBSCRIPTIONS_PER_ENDPOINT" value="2000" />'
    inner = INNER.replace(limit, limit.replace("2000", "9000"))
    moved = save(config.parent / "appSettings.config", inner)
    result, doc = presence_check(config)
    assert result.exit_code == 1
    bad = only_finding(doc, "max-subscriptions-invalid")
    assert (bad["file"], bad["line"]) == (
        str(moved),
        line_of(inner, 'value="9000" />', nth=2),
    )  # (1: a comment)
    # the table and JUnit group it with the configuration file (they left it out), its place named
    table = presence_cli("check", config).stdout
    assert f"appSettings.config:{bad['line']}" in table and "max-subscriptions-invalid" in table
    junit = ET.fromstring(presence_cli("check", config, "-f", "junit").stdout)
    assert any("max-subscriptions-invalid" in (c.get("name") or "") for c in junit.iter("testcase"))


def test_a_config_source_that_is_not_there_is_an_error(tmp_path: Path) -> None:
    config = host(tmp_path, "bems01", dotnet_config(MOVED))
    result, doc = presence_check(config)
    assert result.exit_code == 1
    refused = only_finding(doc, "app-settings-source-missing")
    assert refused["severity"] == "error" and "the Presence service does not start" in refused["message"]
    assert findings_of(doc, "trusted-key-missing") == []  # (not missing: unreadable)


def test_a_file_laid_over_the_settings_wins_and_one_not_there_is_passed_over(tmp_path: Path) -> None:
    text = dotnet_config(TRUSTED_SETTINGS.replace("<appSettings>", '<appSettings file="user.config">'))
    config = host(tmp_path, "bems01", text)
    _, inline = presence_check(host(tmp_path / "inline", "bems01", dotnet_config()))
    _, doc = presence_check(config)
    assert rules_of(doc) == sorted([*rules_of(inline), ("app-settings-file-missing", "appSettings")])
    assert only_finding(doc, "app-settings-file-missing")["severity"] == "info"
    save(
        config.parent / "user.config",
        '<appSettings>\n  <add key="MAX_SUBSCRIPTIONS_PER_ENDPOINT" value="3000" />\n</appSettings>\n',
    )
    _, doc = presence_check(config)
    assert doc["capacity"][0]["max_subscriptions_per_endpoint"] == 3000


def test_a_config_source_inside_an_archive_is_said_not_read(tmp_path: Path) -> None:
    """From a zip the other file is not looked for: a warning says the checks saw only this file,
    and no setting is called missing for it."""
    archive = tmp_path / "hosts.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("bems01/LyncPresenceProviderService.exe.config", dotnet_config(MOVED))
        zf.writestr("bems01/appSettings.config", INNER)
    result, doc = presence_check(archive)
    assert result.exit_code == 1
    assert only_finding(doc, "app-settings-source-unread")["severity"] == "warning"
    assert findings_of(doc, "trusted-key-missing") == []
