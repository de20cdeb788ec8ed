"""``<appSettings configSource="appSettings.config" />`` (the settings are in that file alone) and
``<appSettings file="user.config">`` (that file's settings laid over these): the check does not
read the other file, and says so.  Before, the settings of a ``configSource`` file were taken to
be missing ("UCMA_APPLICATION_NAME has no value", exit code 1) on a file .NET runs with, and a
``file`` passed without a word."""

from __future__ import annotations

from pathlib import Path

from builders import TRUSTED_SETTINGS, dotnet_config, findings_of, host, line_of, only_finding, presence_check

MOVED = '  <appSettings configSource="appSettings.config" />\n'


def test_settings_in_a_config_source_are_said_not_read_and_none_is_missing(tmp_path: Path) -> None:
    text = dotnet_config(MOVED)
    result, doc = presence_check(host(tmp_path, "bems01", text))
    note = only_finding(doc, "app-settings-elsewhere")
    assert (note["severity"], note["line"]) == ("info", line_of(text, "configSource"))
    assert note["message"].startswith(
        '<appSettings configSource="appSettings.config">: the settings are in that file instead, and this '
        "check does not read that file"
    )
    assert [f["rule"] for f in doc["findings"] if f["severity"] != "info"] == []
    assert result.exit_code == 0


def test_a_file_laid_over_the_settings_is_said_and_they_are_still_checked(tmp_path: Path) -> None:
    text = dotnet_config(TRUSTED_SETTINGS.replace("<appSettings>", '<appSettings file="user.config">'))
    _, inline = presence_check(host(tmp_path / "inline", "bems01", dotnet_config()))
    _, doc = presence_check(host(tmp_path, "bems01", text))
    assert only_finding(doc, "app-settings-elsewhere")["message"].startswith(
        '<appSettings file="user.config">: its settings override these'
    )
    rules = sorted((f["rule"], f["key"]) for f in doc["findings"])
    assert rules == sorted(
        [*((f["rule"], f["key"]) for f in inline["findings"]), ("app-settings-elsewhere", "appSettings")]
    )


def test_a_host_with_its_settings_elsewhere_is_not_compared_as_if_it_had_none(tmp_path: Path) -> None:
    """Two hosts, one with a configSource: every key of the other was said to differ ("not set")."""
    one = host(tmp_path, "bems01", dotnet_config())
    two = host(tmp_path, "bems02", dotnet_config(MOVED))
    _, doc = presence_check(one, two)
    assert findings_of(doc, "hosts-setting-differs") == []
