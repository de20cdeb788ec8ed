"""Several hosts must agree on every setting but their own endpoint and certificate; GC needs a domain."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from builders import failing, findings_of, host, line_of, only_finding, presence_check, presence_cli, swap
from guide_keys import TRUSTED_SETTINGS, dotnet_config, host_text

MAX_2000 = 'value="2000"'
LYNC = 'value="lyncdir01.corp.example.com"'
DIFFERS = "hosts-setting-differs"


def _differs(doc: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(file, key, other_file) of every hosts-setting-differs finding."""
    return [(f["file"], f["key"], f["other_file"]) for f in findings_of(doc, DIFFERS)]


@pytest.mark.parametrize(
    ("key", "old", "new", "shown"),
    [
        ("MAX_SUBSCRIPTIONS_PER_ENDPOINT", MAX_2000, 'value="1500"', '"1500"'),
        ("AD_USERS_SOURCE", 'value="GC"', 'value="LDAP"', '"LDAP"'),
        ("LYNC_SERVER", LYNC, 'value="lyncdir02.corp.example.com"', '"lyncdir02.corp.example.com"'),
        (
            "AD_USERS_SOURCE_DOMAIN",
            'value="DC=EXAMPLE,DC=COM"',
            'value="DC=CORP,DC=EXAMPLE,DC=COM"',
            '"DC=CORP',
        ),
    ],
)
def test_a_setting_that_differs_between_two_hosts_is_flagged(
    tmp_path: Path, key: str, old: str, new: str, shown: str
) -> None:
    one = host(tmp_path, "bems01", host_text(1))
    text = swap(host_text(2), old, new)
    two = host(tmp_path, "bems02", text)
    result, doc = presence_check(one, two)
    assert result.exit_code == 1
    finding = only_finding(doc, DIFFERS)
    assert (finding["file"], finding["key"], finding["severity"]) == (str(two), key, "warning")
    assert finding["line"] == line_of(text, new)
    assert (finding["other_file"], finding["other_line"]) == (str(one), line_of(host_text(1), old))
    assert finding["message"].startswith(f"{key} is {shown}")
    assert f"in {one} (line {finding['other_line']})" in finding["message"]


def test_a_setting_one_host_lacks_is_flagged_as_not_set(tmp_path: Path) -> None:
    one = host(tmp_path, "bems01", host_text(1))
    text = swap(host_text(2), f'    <add key="LYNC_SERVER" {LYNC} />\n', "")
    two = host(tmp_path, "bems02", text)
    _, doc = presence_check(one, two)
    finding = only_finding(doc, DIFFERS)
    assert finding["key"] == "LYNC_SERVER"
    assert finding["line"] == line_of(text, "<appSettings>")  # where the key would go
    assert finding["message"].startswith('LYNC_SERVER is not set here but "lyncdir01.corp.example.com" in ')


def test_an_absent_limit_agrees_with_the_default_spelt_out(tmp_path: Path) -> None:
    absent = swap(host_text(1), f'    <add key="MAX_SUBSCRIPTIONS_PER_ENDPOINT" {MAX_2000} />\n', "")
    spelt = swap(host_text(2), MAX_2000, 'value="1000"')
    _, doc = presence_check(host(tmp_path, "bems01", absent), host(tmp_path, "bems02", spelt))
    assert findings_of(doc, DIFFERS) == []
    changed = swap(host_text(3), MAX_2000, 'value="3000"')
    _, doc = presence_check(host(tmp_path, "bems01", absent), host(tmp_path, "bems03", changed))
    assert only_finding(doc, DIFFERS)["message"].startswith(
        'MAX_SUBSCRIPTIONS_PER_ENDPOINT is "3000" here but not set (so 1000) in '
    )


def test_the_odd_host_out_of_three_gets_the_one_finding(tmp_path: Path) -> None:
    one = host(tmp_path, "bems01", swap(host_text(1), MAX_2000, 'value="4000"'))
    two = host(tmp_path, "bems02", host_text(2))
    three = host(tmp_path, "bems03", host_text(3))
    _, doc = presence_check(one, two, three)
    assert _differs(doc) == [(str(one), "MAX_SUBSCRIPTIONS_PER_ENDPOINT", str(two))]


def test_case_and_surrounding_space_do_not_make_a_difference(tmp_path: Path) -> None:
    two = swap(host_text(2), LYNC, 'value=" LYNCDIR01.corp.example.com "')
    _, doc = presence_check(host(tmp_path, "bems01", host_text(1)), host(tmp_path, "bems02", two))
    assert _differs(doc) == []


def test_a_hosts_own_endpoint_and_certificate_may_differ(tmp_path: Path) -> None:
    two = swap(host_text(2), 'value="BEMS Presence 2024"', 'value="BEMS02 Presence"')
    result, doc = presence_check(host(tmp_path, "bems01", host_text(1)), host(tmp_path, "bems02", two))
    assert result.exit_code == 0, failing(doc)
    assert _differs(doc) == []


def test_application_and_pool_keep_their_own_rules(tmp_path: Path) -> None:
    two = host_text(2, app="urn:application:other", pool="otherpool.corp.example.com")
    _, doc = presence_check(host(tmp_path, "bems01", host_text(1)), host(tmp_path, "bems02", two))
    assert {f["rule"] for f in failing(doc)} == {"hosts-application-differs", "hosts-pool-differs"}


def test_an_accepted_key_is_compared_too(tmp_path: Path) -> None:
    extra = '    <add key="LOG_LEVEL" value="INFO" />\n'
    one = host(tmp_path, "bems01", swap(host_text(1), "  </appSettings>\n", extra + "  </appSettings>\n"))
    two = host(tmp_path, "bems02", host_text(2))
    result = presence_cli("check", one, two, "--known-key", "LOG_LEVEL", "-f", "json")
    assert result.exit_code == 1
    assert '"rule": "hosts-setting-differs"' in result.stdout and '"key": "LOG_LEVEL"' in result.stdout


# ---------------------------------------------------------------------------------------------
# AD_USERS_SOURCE=GC with no domain


@pytest.mark.parametrize(
    "domain_line",
    ['<add key="AD_USERS_SOURCE_DOMAIN" value="" />', '<add key="AD_USERS_SOURCE_DOMAIN" />'],
    ids=["empty", "no-value"],
)
def test_gc_with_an_empty_domain_is_a_warning_on_the_domain_line(tmp_path: Path, domain_line: str) -> None:
    text = dotnet_config(
        swap(TRUSTED_SETTINGS, '<add key="AD_USERS_SOURCE_DOMAIN" value="DC=EXAMPLE,DC=COM" />', domain_line)
    )
    result, doc = presence_check(host(tmp_path, "bems01", text))
    assert result.exit_code == 1
    finding = only_finding(doc, "ad-source-domain-missing")
    assert (finding["key"], finding["severity"]) == ("AD_USERS_SOURCE_DOMAIN", "warning")
    assert finding["line"] == line_of(text, domain_line)
    assert finding["message"].startswith('AD_USERS_SOURCE is "GC" but AD_USERS_SOURCE_DOMAIN is empty')


def test_gc_without_a_domain_key_points_at_the_source_line(tmp_path: Path) -> None:
    text = dotnet_config(
        swap(TRUSTED_SETTINGS, '    <add key="AD_USERS_SOURCE_DOMAIN" value="DC=EXAMPLE,DC=COM" />\n', "")
    )
    _, doc = presence_check(host(tmp_path, "bems01", text))
    assert only_finding(doc, "ad-source-domain-missing")["line"] == line_of(text, '"AD_USERS_SOURCE"')


@pytest.mark.parametrize("source", ["LDAP", ""])
def test_no_domain_is_fine_without_gc(tmp_path: Path, source: str) -> None:
    settings = swap(TRUSTED_SETTINGS, 'value="GC"', f'value="{source}"')
    settings = swap(settings, 'value="DC=EXAMPLE,DC=COM"', 'value=""')
    result, doc = presence_check(host(tmp_path, "bems01", dotnet_config(settings)))
    assert result.exit_code == 0, failing(doc)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        # the guide's own spacing, its other form, and the case: one domain
        ('value="DC=EXAMPLE,DC=COM"', 'value="DC=EXAMPLE, DC=COM"'),
        ('value="DC=EXAMPLE,DC=COM"', 'value="example.com"'),
        ('value="DC=EXAMPLE,DC=COM"', 'value="dc=example,dc=com"'),
    ],
)
def test_one_domain_written_two_ways_agrees(tmp_path: Path, old: str, new: str) -> None:
    """The guide writes the domain ``DC=EXAMPLE, DC=COM`` and allows ``EXAMPLE.COM``: two hosts
    with two of these spellings were told they differ."""
    one = host(tmp_path, "bems01", host_text(1))
    two = host(tmp_path, "bems02", swap(host_text(2), old, new))
    _, doc = presence_check(one, two)
    assert findings_of(doc, DIFFERS) == []


@pytest.mark.parametrize("ldap", ['value="LDAP"', 'value=""', None])
def test_ldap_empty_and_not_set_are_one_source(tmp_path: Path, ldap: str | None) -> None:
    """AD_USERS_SOURCE: "LDAP - Active Directory (default)", the guide's comment says; a host that
    spells the default out agrees with one that leaves it out (it was told it differs)."""

    def source(text: str, value: str | None) -> str:
        line = '    <add key="AD_USERS_SOURCE" value="GC" />\n'
        domain = '    <add key="AD_USERS_SOURCE_DOMAIN" value="DC=EXAMPLE,DC=COM" />\n'
        text = swap(text, domain, "")
        return swap(text, line, "" if value is None else f'    <add key="AD_USERS_SOURCE" {value} />\n')

    one = host(tmp_path, "bems01", source(host_text(1), 'value="LDAP"'))
    two = host(tmp_path, "bems02", source(host_text(2), ldap))
    _, doc = presence_check(one, two)
    assert [f for f in _differs(doc) if f[1] == "AD_USERS_SOURCE"] == []
