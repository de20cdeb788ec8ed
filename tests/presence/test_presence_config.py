"""Parsing LyncPresenceProviderService.exe.config: settings, endpoints, lines, encodings, errors."""

from __future__ import annotations

import codecs
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from builders import (
    APPNAME,
    EPS,
    HEAD,
    JABBER_SETTINGS,
    MAX,
    OWN,
    POOL,
    TAIL,
    TRUSTED_ENDPOINTS,
    failing,
    findings_of,
    host,
    line_of,
    only_finding,
    presence_check,
    presence_cli,
    save,
    swap,
)
from guide_keys import dotnet_config, with_max_line

from bes_logdiag.errors import ConfigError
from bes_logdiag.presence.config import (
    EndpointItem,
    Setting,
    decode_text,
    load_config,
    parse_config,
)

COLLECTION = "ucmaEndpointSips"
Data = Callable[[str], Path]


def test_clean_config_keeps_keys_items_and_lines(data: Data) -> None:
    config = load_config(data("clean.config"), COLLECTION)
    assert config.app_settings_line == 6
    assert config.endpoints_line == 17
    assert config.settings[0] == Setting("LYNC_SERVER", "dirpool.example.com", 7)
    assert config.get("MAX_SUBSCRIPTIONS_PER_ENDPOINT") == Setting(
        "MAX_SUBSCRIPTIONS_PER_ENDPOINT", "2000", 11
    )
    assert config.endpoints == (
        EndpointItem("sip:presence_bems1.example.com@example.com", 19),
        EndpointItem("sip:presence_bems1-01.example.com@example.com", 20),
    )
    # <supportedRuntime> and <section> are not settings.
    assert len(config.settings) == 8


@pytest.mark.parametrize("name", ["clean_utf8_bom.config", "clean_utf16.config"])
def test_bom_and_utf16_read_like_utf8(data: Data, name: str) -> None:
    clean = load_config(data("clean.config"), COLLECTION)
    other = load_config(data(name), COLLECTION)
    assert other.settings == clean.settings
    assert other.endpoints == clean.endpoints
    assert other.path.endswith(name)


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        (codecs.BOM_UTF8 + b"<a/>", "<a/>"),
        ("<a/>".encode("utf-16"), "<a/>"),
        ("<a/>".encode("utf-16-le"), "<a/>"),
        ("<a/>".encode("utf-16-be"), "<a/>"),
        (b"<a>\xc3\xa9</a>", "<a>\u00e9</a>"),
    ],
)
def test_decode_text(raw: bytes, text: str) -> None:
    assert decode_text(raw, "f") == text


def test_undecodable_bytes_name_the_file() -> None:
    with pytest.raises(ConfigError, match=r"^bad\.config: not valid utf-8 text"):
        decode_text(b"<a>\xff</a>", "bad.config")


def test_lookup_ignores_case_and_last_entry_wins() -> None:
    config = parse_config(
        '<configuration><appSettings>\n<add key="lync_server" value="a.example.com"/>\n'
        '<add key="LYNC_SERVER" value="b.example.com"/>\n<add key="NO_VALUE"/>\n'
        "</appSettings></configuration>",
        "x.config",
        COLLECTION,
    )
    assert config.get("Lync_Server") == Setting("LYNC_SERVER", "b.example.com", 3)
    assert config.value("NO_VALUE") == ""
    assert config.value("ABSENT") == ""
    assert config.line_of("ABSENT") == 1


def test_items_count_only_inside_the_collection() -> None:
    config = parse_config(
        "<configuration>\n<ucmaEndpointSips>\n"
        '<add item="sip:stray@example.com"/>\n'
        '<collection><add item="sip:presence_a.example.com@example.com"/></collection>\n'
        "</ucmaEndpointSips></configuration>",
        "x.config",
        COLLECTION,
    )
    assert config.endpoints == (EndpointItem("sip:presence_a.example.com@example.com", 4),)
    assert config.endpoints_line == 2
    assert config.app_settings_line is None


def test_malformed_xml_reports_file_line_and_column(data: Data) -> None:
    path = data("malformed.config")
    with pytest.raises(ConfigError) as caught:
        load_config(path, COLLECTION)
    assert str(caught.value) == f"{path}:16:5: malformed XML: mismatched tag"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "x.config:1:1: malformed XML: no element found"),
        ("<configuration>\n  <appSettings>\n", "x.config:3:1: malformed XML: no element found"),
        (
            '<configuration>\n<add key="a" value="1" key="b"/>',
            "x.config:2:24: malformed XML: duplicate attribute",
        ),
        (
            '<!DOCTYPE c [<!ENTITY e "x">]>\n<configuration/>',
            "x.config:1:25: malformed XML: entity declarations are not allowed (<!ENTITY e …>)",
        ),
        (
            "<settings/>",
            "x.config:1:1: not a .NET configuration file: the root element is <settings>, "
            "not <configuration>",
        ),
    ],
)
def test_bad_documents(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "x.config", COLLECTION)
    assert str(caught.value) == message


def test_unreadable_file_is_a_config_error(tmp_path: Path) -> None:
    missing = tmp_path / "absent.config"
    with pytest.raises(ConfigError, match=r"absent\.config: cannot read: No such file"):
        load_config(missing, COLLECTION)


# ---------------------------------------------------------------------------------------------
# Clean files in every encoding an admin's editor produces

EDITOR_ENCODINGS = ["utf-8-sig", "utf-8", "utf-16", "utf-16-be"]


@pytest.mark.parametrize("encoding", EDITOR_ENCODINGS)
def test_clean_trusted_host_exits_0_with_capacity(tmp_path: Path, encoding: str) -> None:
    text = dotnet_config()
    if encoding.startswith("utf-16"):
        text = swap(text, 'encoding="utf-8"', 'encoding="utf-16"')
    path = host(tmp_path, "bems01", text, encoding)
    result, doc = presence_check(path)
    assert result.exit_code == 0, doc["findings"]
    assert failing(doc) == []
    # three endpoints fill one after another: reported (info), not an error
    fill = only_finding(doc, "endpoints-fill-in-order")
    assert (fill["severity"], fill["key"], fill["line"]) == ("info", EPS, line_of(text, "<ucmaEndpointSips>"))
    assert "2000" in fill["message"]
    assert [f["rule"] for f in doc["findings"]] == ["endpoints-fill-in-order"]
    assert doc["capacity"] == [
        {"file": str(path), "endpoints": 3, "max_subscriptions_per_endpoint": 2000, "total": 6000}
    ]


@pytest.mark.parametrize("encoding", EDITOR_ENCODINGS)
def test_line_numbers_survive_bom_crlf_and_utf16(tmp_path: Path, encoding: str) -> None:
    text = swap(dotnet_config(), 'value="2000"', 'value="6000"')
    text = swap(text, 'value="lyncdir01.corp.example.com"', 'value="LYNCDIR01"')
    path = host(tmp_path, "bems01", text, encoding)
    result, doc = presence_check(path)
    assert result.exit_code == 1
    bad = only_finding(doc, "max-subscriptions-invalid")
    assert (bad["key"], bad["severity"], bad["line"]) == (MAX, "error", line_of(text, 'value="6000"'))
    lync = only_finding(doc, "lync-server-not-fqdn")
    assert (lync["key"], lync["severity"], lync["line"]) == (
        "LYNC_SERVER",
        "warning",
        line_of(text, "LYNCDIR01"),
    )
    assert doc["capacity"][0]["max_subscriptions_per_endpoint"] is None
    assert doc["capacity"][0]["total"] is None
    assert doc["capacity"][0]["endpoints"] == 3


def test_jabber_host_with_empty_ucma_keys_is_clean(tmp_path: Path) -> None:
    text = dotnet_config(JABBER_SETTINGS, "")
    path = host(tmp_path, "bems01", text)
    result, doc = presence_check(path)
    assert result.exit_code == 0
    assert doc["findings"] == []
    assert doc["capacity"] == [
        {"file": str(path), "endpoints": 0, "max_subscriptions_per_endpoint": 1000, "total": 0}
    ]


def test_net20_namespace_on_configuration_and_lf_only_file(tmp_path: Path) -> None:
    text = swap(
        dotnet_config(),
        "<configuration>",
        '<configuration xmlns="http://schemas.microsoft.com/.NetConfiguration/v2.0">',
    )
    text = swap(text, 'value="2000"', 'value="0"')
    path = save(tmp_path / "LyncPresenceProviderService.exe.config", text, "utf-8", crlf=False)
    result, doc = presence_check(path)
    assert result.exit_code == 1
    assert only_finding(doc, "max-subscriptions-invalid")["line"] == line_of(text, 'value="0"')


def test_multiline_add_element_reports_its_line(tmp_path: Path) -> None:
    text = with_max_line('    <add key="MAX_SUBSCRIPTIONS_PER_ENDPOINT"\n         value="12000" />\n')
    path = host(tmp_path, "bems01", text)
    result, doc = presence_check(path)
    assert result.exit_code == 1
    line = only_finding(doc, "max-subscriptions-invalid")["line"]
    assert line in (line_of(text, 'key="MAX_SUBSCRIPTIONS_PER_ENDPOINT"', nth=2), line_of(text, "12000"))


# ---------------------------------------------------------------------------------------------
# Item 1 (as used by 3): unreadable and malformed files


def test_malformed_utf16_crlf_reports_file_line_column(tmp_path: Path) -> None:
    text = swap(
        dotnet_config(),
        '<add key="MAX_SUBSCRIPTIONS_PER_ENDPOINT" value="2000" />',
        '<add key="MAX_SUBSCRIPTIONS_PER_ENDPOINT" value="2000">',
    )
    path = host(tmp_path, "bems01", text, "utf-16")
    result = presence_cli("check", str(path), "--format", "json")
    assert result.exit_code == 2
    assert result.stdout == ""
    # the unclosed <add> is noticed at </appSettings>: line of it, column 5 (1-based)
    assert f"{path}:{line_of(text, '</appSettings>')}:5: malformed XML" in result.stderr


def test_malformed_column_counts_characters_after_non_ascii(tmp_path: Path) -> None:
    text = swap(
        dotnet_config(),
        '    <add key="ClientSettingsProvider.ServiceUri" value="" />',
        '    <!-- Jürgen --><add key="ClientSettingsProvider.ServiceUri" value="" / >',
    )
    path = host(tmp_path, "bems01", text)
    result = presence_cli("check", str(path))
    assert result.exit_code == 2
    line = line_of(text, "Jürgen")
    # expat stops at the space after "/"; columns count characters, not UTF-8 bytes
    col = text.splitlines()[line - 1].index("/ >") + 2
    assert f"{path}:{line}:{col}: malformed XML" in result.stderr


def test_every_bad_file_listed_and_nothing_on_stdout(tmp_path: Path) -> None:
    good = host(tmp_path, "bems01", dotnet_config())
    broken = host(tmp_path, "bems02", dotnet_config().replace("</configuration>", "</configuratoin>"))
    missing = tmp_path / "bems03" / "LyncPresenceProviderService.exe.config"
    result = presence_cli("check", str(good), str(broken), str(missing), "--format", "json")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert str(broken) in result.stderr and "malformed XML" in result.stderr
    assert str(missing) in result.stderr
    assert str(good) not in result.stderr


def test_web_config_with_other_root_is_refused(tmp_path: Path) -> None:
    path = save(
        tmp_path / "web.config",
        '<?xml version="1.0"?>\n<appSettings>\n  <add key="A" value="B"/>\n</appSettings>\n',
    )
    result = presence_cli("check", str(path), "--format", "json")
    assert result.exit_code == 2
    assert result.stdout == ""


def test_ansi_file_with_declared_windows_1252_is_read(tmp_path: Path) -> None:
    text = swap(dotnet_config(), 'encoding="utf-8"', 'encoding="windows-1252"')
    text = swap(
        text,
        "    <!-- Skype for Business / Lync -->",
        "    <!-- Skype for Business / Lync - geändert: Jürgen Weiß -->",
    )
    text = swap(text, 'value="2000"', 'value="0"')
    path = host(tmp_path, "bems01", text, "cp1252")
    result = presence_cli("check", str(path), "--format", "json")
    assert result.exit_code == 1, result.stderr
    doc = json.loads(result.stdout)
    assert only_finding(doc, "max-subscriptions-invalid")["line"] == line_of(text, 'value="0"')


def test_ansi_bytes_in_a_file_declared_utf8_exit_2_naming_the_file(tmp_path: Path) -> None:
    # .NET refuses these bytes too; the checker must say which file, and print nothing on stdout
    text = swap(dotnet_config(), "    <!-- Skype for Business / Lync -->", "    <!-- geändert: Jürgen -->")
    path = host(tmp_path, "bems01", text, "cp1252")
    result = presence_cli("check", str(path), "--format", "json")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert str(path) in result.stderr


def test_no_appsettings_only_endpoints_lines_are_null(tmp_path: Path) -> None:
    text = HEAD + TRUSTED_ENDPOINTS + TAIL
    path = host(tmp_path, "bems01", text, "utf-16")
    result, doc = presence_check(path)
    assert result.exit_code == 1
    missing = findings_of(doc, "trusted-key-missing")
    assert sorted(f["key"] for f in missing) == sorted([APPNAME, POOL, OWN])
    assert all(f["line"] is None and f["severity"] == "error" for f in missing)
    default = only_finding(doc, "max-subscriptions-default")
    assert (default["line"], default["severity"]) == (None, "info")
    assert doc["capacity"][0] == {
        "file": str(path),
        "endpoints": 3,
        "max_subscriptions_per_endpoint": 1000,
        "total": 3000,
    }
