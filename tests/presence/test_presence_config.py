"""Parsing LyncPresenceProviderService.exe.config: settings, endpoints, lines, encodings, errors."""

from __future__ import annotations

import codecs
from collections.abc import Callable
from pathlib import Path

import pytest

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
