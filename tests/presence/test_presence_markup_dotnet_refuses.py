"""Markup .NET refuses as it loads the file, so that the Presence service does not start: a
``Key=`` or ``Value=`` written with a capital, an attribute of its own, an ``<add>`` without a key,
an ``<appsettings>`` section, a second ``<appSettings>``, an element other than add, remove and
clear.  Each is an error on its line.  The settings are read as they were meant, so the other
findings and the capacity hold once the markup is mended; ``<remove>`` and ``<clear />`` take
settings away as .NET does."""

from __future__ import annotations

from pathlib import Path

from builders import MAX, TRUSTED_SETTINGS, dotnet_config, host, line_of, only_finding, presence_check, swap

START = "the Presence service does not start"


def check(tmp_path: Path, settings: str) -> tuple[int, dict, str]:  # type: ignore[type-arg]
    text = dotnet_config(settings)
    result, doc = presence_check(host(tmp_path, "bems01", text))
    return result.exit_code, doc, text


def test_a_capital_in_an_attribute_name_is_an_error_and_the_setting_still_counts(tmp_path: Path) -> None:
    settings = swap(TRUSTED_SETTINGS, '<add key="MAX_SUBSCRIPTIONS_PER_ENDPOINT" value="2000" />',
                    '<add key="MAX_SUBSCRIPTIONS_PER_ENDPOINT" Value="2000" />')  # fmt: skip
    settings = swap(settings, '<add key="LYNC_SERVER"', '<add Key="LYNC_SERVER"')
    code, doc, text = check(tmp_path, settings)
    assert code == 1
    found = [
        (f["line"], f["severity"], f["key"], f["rule"]) for f in doc["findings"] if f["severity"] == "error"
    ]
    assert found == [
        (line_of(text, 'Key="LYNC_SERVER"'), "error", "LYNC_SERVER", "setting-attribute-unknown"),
        (line_of(text, 'Value="2000"'), "error", MAX, "setting-attribute-unknown"),
    ]
    message = doc["findings"][[f["key"] for f in doc["findings"]].index(MAX)]["message"]
    assert 'Value="2000"' in message and "lower case" in message and START in message
    # read as meant: 2000 a endpoint, not an empty value nor the default
    assert doc["capacity"][0]["max_subscriptions_per_endpoint"] == 2000
    assert not [
        f for f in doc["findings"] if f["rule"] in ("max-subscriptions-invalid", "max-subscriptions-default")
    ]


def test_an_attribute_of_its_own_and_an_add_without_a_key(tmp_path: Path) -> None:
    settings = swap(TRUSTED_SETTINGS, '<add key="AD_USERS_SOURCE" value="GC" />',
                    '<add key="AD_USERS_SOURCE" value="GC" comment="global catalog" />\n    <add value="orphan" />')  # fmt: skip
    code, doc, text = check(tmp_path, settings)
    assert code == 1
    own = only_finding(doc, "setting-attribute-unknown")
    assert (own["line"], own["key"]) == (line_of(text, 'comment="global catalog"'), "AD_USERS_SOURCE")
    assert 'comment="global catalog"' in own["message"]
    keyless = only_finding(doc, "setting-key-missing")
    assert (keyless["line"], keyless["severity"]) == (line_of(text, 'value="orphan"'), "error")
    assert START in keyless["message"]


def test_sections_and_elements_dotnet_does_not_know(tmp_path: Path) -> None:
    settings = (
        swap(
            TRUSTED_SETTINGS,
            '<add key="AD_USERS_SOURCE" value="GC" />',
            '<addd key="AD_USERS_SOURCE" value="GC" />',
        )
        + '  <appsettings>\n    <add key="LYNC_SERVER" value="other.corp.example.com" />\n  </appsettings>\n'
        + '  <appSettings>\n    <add key="UCMA_APPLICATION_PORT" value="6002" />\n  </appSettings>\n'
    )
    code, doc, text = check(tmp_path, settings)
    assert code == 1
    element = only_finding(doc, "app-settings-element")
    assert (element["line"], element["key"]) == (line_of(text, "<addd"), "addd")
    name = only_finding(doc, "app-settings-name")
    assert (
        name["line"] == line_of(text, "<appsettings>")
        and "<appsettings> is not <appSettings>" in name["message"]
    )
    again = only_finding(doc, "app-settings-repeated")
    assert again["line"] == line_of(text, "<appSettings>", nth=2)
    assert f"first on line {line_of(text, '<appSettings>')}" in again["message"]


def test_remove_and_clear_take_settings_away_as_dotnet_does(tmp_path: Path) -> None:
    removed = swap(TRUSTED_SETTINGS, '<add key="MAX_SUBSCRIPTIONS_PER_ENDPOINT" value="2000" />',
                   '<add key="MAX_SUBSCRIPTIONS_PER_ENDPOINT" value="9000" />\n'
                   '    <remove key="max_subscriptions_per_endpoint" />')  # fmt: skip
    code, doc, _ = check(tmp_path / "a", removed)
    assert [f["rule"] for f in doc["findings"] if f["severity"] == "error"] == []
    assert doc["capacity"][0]["max_subscriptions_per_endpoint"] == 1000, "removed: the default, not 9000"

    cleared = swap(TRUSTED_SETTINGS, "  <appSettings>\n", '  <appSettings>\n    <add key="MAX_SUBSCRIPTIONS_PER_ENDPOINT" value="9000" />\n    <clear />\n')  # fmt: skip
    code, doc, _ = check(tmp_path / "b", cleared)
    assert [f["rule"] for f in doc["findings"] if f["severity"] == "error"] == []
    assert [f for f in doc["findings"] if f["rule"] == "setting-duplicate"] == [], "cleared: no first entry"
    assert doc["capacity"][0]["max_subscriptions_per_endpoint"] == 2000


def test_a_section_in_a_location_is_read_and_refused_nothing() -> None:
    """``<location>`` scopes a section of its own: its settings are read as ever, and it is no
    second ``<appSettings>``."""
    from bes_logdiag.presence.config import parse_config

    config = parse_config(
        '<configuration>\n<appSettings><add key="LYNC_SERVER" value="a.example.com"/></appSettings>\n'
        '<location path="."><appSettings>\n<add key="MAX_SUBSCRIPTIONS_PER_ENDPOINT" value="2000"/>'
        "</appSettings></location></configuration>",
        "x.config",
        "ucmaEndpointSips",
    )
    assert (config.refused, config.app_settings_line) == ((), 2)
    assert config.value("MAX_SUBSCRIPTIONS_PER_ENDPOINT") == "2000"


def test_text_or_cdata_inside_app_settings_is_an_error(tmp_path: Path) -> None:
    """A setting typed as ``KEY=VALUE``, or a CDATA section, right inside ``<appSettings>``: .NET
    refuses the file ("cannot contain a CDATA or text element"), and the check passed it clean.  A run
    of text is told once, from its first line."""
    settings = swap(
        TRUSTED_SETTINGS,
        "</appSettings>",
        "  LOG_LEVEL=1\n    TRACE=2\n    <![CDATA[ notes ]]>\n  </appSettings>",
    )
    code, doc, text = check(tmp_path, settings)
    assert code == 1
    found = [(f["line"], f["severity"]) for f in doc["findings"] if f["rule"] == "app-settings-text"]
    assert found == [(line_of(text, "LOG_LEVEL=1"), "error"), (line_of(text, "CDATA"), "error")]
    typed = [f for f in doc["findings"] if f["rule"] == "app-settings-text"][0]["message"]
    assert '"LOG_LEVEL=1"' in typed and START in typed
