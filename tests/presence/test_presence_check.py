"""`presence check`: a data file per defect, the clean file, capacity, host comparisons, errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from builders import (
    APPNAME,
    EPS,
    HEAD,
    JABBER_SETTINGS,
    MAX,
    OWN,
    OWN_SIP,
    POOL,
    TAIL,
    TRUSTED_ENDPOINTS,
    endpoints_block,
    failing,
    findings_of,
    host,
    line_of,
    only_finding,
    presence_check,
    presence_cli,
    swap,
)
from guide_keys import TRUSTED_SETTINGS, dotnet_config, host_text, with_max_line
from typer.testing import Result

from bes_logdiag.presence.check import check_configs
from bes_logdiag.presence.config import load_config
from bes_logdiag.presence.rules import RULE_IDS, PresenceRules
from bes_logdiag.presence.whitelist import normalise_whitelist

Data = Callable[[str], Path]
CheckJson = Callable[..., tuple[Result, dict[str, Any]]]
Invoke = Callable[..., Result]
LineOf = Callable[[Path, str], int]

# file, rule, key, severity, a text on the offending line, a text the message must contain
# fmt: off
DEFECTS = [
    ("max_subs_too_high.config", "max-subscriptions-invalid", "MAX_SUBSCRIPTIONS_PER_ENDPOINT",
     "error", 'value="6000"', '"6000"'),
    ("max_subs_zero.config", "max-subscriptions-invalid", "MAX_SUBSCRIPTIONS_PER_ENDPOINT",
     "error", 'value="0"', "from 1 to 5000"),
    ("max_subs_not_number.config", "max-subscriptions-invalid", "MAX_SUBSCRIPTIONS_PER_ENDPOINT",
     "error", 'value="2,000"', '"2,000"'),
    ("max_subs_absent.config", "max-subscriptions-default", "MAX_SUBSCRIPTIONS_PER_ENDPOINT",
     "info", "<appSettings>", "1000"),
    ("endpoint_not_sip.config", "endpoint-sip-invalid", "ucmaEndpointSips",
     "error", 'item="presence_bems1-01', "not a SIP address"),
    ("own_sip_invalid.config", "endpoint-sip-invalid", "UCMA_ENDPOINT_SIP",
     "error", 'key="UCMA_ENDPOINT_SIP"', '"presence_bems1.example.com"'),
    ("endpoint_convention.config", "endpoint-sip-convention", "ucmaEndpointSips",
     "info", "sip:bems1-01@example.com", "sip:presence_<BEMS host FQDN>@<SIP domain>"),
    ("endpoint_duplicate.config", "endpoint-sip-duplicate", "ucmaEndpointSips",
     "warning", "presence_BEMS1-01", "first on line 20"),
    ("endpoint_other_domain.config", "endpoint-sip-domain", "ucmaEndpointSips",
     "warning", "@example.org", "SIP domain example.org, but UCMA_ENDPOINT_SIP uses example.com"),
    ("ad_source_invalid.config", "ad-source-invalid", "AD_USERS_SOURCE",
     "error", "GlobalCatalog", '"GC", "LDAP", ""'),
    ("ad_domain_invalid.config", "ad-source-domain-invalid", "AD_USERS_SOURCE_DOMAIN",
     "error", 'value="EXAMPLE"', '"EXAMPLE"'),
    ("ad_domain_unused.config", "ad-source-domain-unused", "AD_USERS_SOURCE_DOMAIN",
     "info", "AD_USERS_SOURCE_DOMAIN", '(it is "LDAP")'),
    ("friendly_name_spaces.config", "friendly-name-whitespace", "RESTRICT_CERT_BY_FRIENDLY_NAME",
     "warning", "RESTRICT_CERT_BY_FRIENDLY_NAME", '"BEMS Presence "'),
    ("lync_server_short.config", "lync-server-not-fqdn", "LYNC_SERVER",
     "warning", 'value="dirpool"', "Director pool"),
    ("trusted_missing_app.config", "trusted-key-missing", "UCMA_APPLICATION_NAME",
     "error", "<appSettings>", "(LYNC_TRUSTED_APPLICATION_POOL, UCMA_ENDPOINT_SIP, ucmaEndpoint"),
    ("trusted_missing_pool.config", "trusted-key-missing", "LYNC_TRUSTED_APPLICATION_POOL",
     "error", "LYNC_TRUSTED_APPLICATION_POOL", "trusted-application mode"),
    ("trusted_missing_endpoint_sip.config", "trusted-key-missing", "UCMA_ENDPOINT_SIP",
     "error", "<appSettings>", "UCMA_ENDPOINT_SIP has no value"),
    ("setting_duplicate.config", "setting-duplicate", "LYNC_SERVER",
     "warning", "dirpool2.example.com", "first on line 7"),
    ("key_misspelt.config", "setting-misspelt", "MAX_SUBSCRIPTION_PER_ENDPOINT",
     "warning", "MAX_SUBSCRIPTION_PER_ENDPOINT", "did you mean MAX_SUBSCRIPTIONS_PER_ENDPOINT?"),
    ("key_unknown.config", "setting-unknown", "PRESENCE_LOG_VERBOSITY",
     "warning", "PRESENCE_LOG_VERBOSITY", "--known-key"),
    ("ad_gc_no_domain.config", "ad-source-domain-missing", "AD_USERS_SOURCE_DOMAIN",
     "warning", 'key="AD_USERS_SOURCE_DOMAIN"', 'AD_USERS_SOURCE is "GC" but AD_USERS_SOURCE_DOMAIN is empty'),
    ("attribute_case.config", "setting-attribute-unknown", "LYNC_SERVER",
     "error", 'Value="dirpool', 'the attribute Value="dirpool.example.com"'),
    ("add_without_key.config", "setting-key-missing", "add",
     "error", "BEMS Presence 2", "has no key attribute"),
    ("app_settings_case.config", "app-settings-name", "appsettings",
     "error", "<appsettings>", "<appsettings> is not <appSettings>"),
    ("app_settings_twice.config", "app-settings-repeated", "appSettings",
     "error", 'added for the pool', "first on line 6"),
    ("app_settings_element.config", "app-settings-element", "set",
     "error", "<set ", "<set> is not an element of <appSettings>"),
    ("app_settings_text.config", "app-settings-text", "appSettings",
     "error", "MAX_SUBSCRIPTIONS_PER_ENDPOINT=3000", '"MAX_SUBSCRIPTIONS_PER_ENDPOINT=3000"'),
    ("settings_elsewhere.config", "app-settings-elsewhere", "appSettings",
     "info", "configSource", "the settings are in that file instead"),
    ("endpoints_section_case.config", "endpoints-section-name", "UcmaEndpointSips",
     "error", "<UcmaEndpointSips>", "<UcmaEndpointSips> is not <ucmaEndpointSips>"),
    ("endpoints_section_twice.config", "endpoints-section-repeated", "ucmaEndpointSips",
     "error", "added for bems1-02", "a second time"),
    ("endpoint_item_case.config", "endpoint-attribute-unknown", "ucmaEndpointSips",
     "error", 'Item="sip:presence_bems1-01', 'the attribute Item="sip:presence_bems1-01'),
]
# fmt: on


def _only(findings: list[dict[str, Any]], rule: str) -> dict[str, Any]:
    matching = [f for f in findings if f["rule"] == rule]
    assert len(matching) == 1, findings
    return matching[0]


@pytest.mark.parametrize(
    ("name", "rule", "key", "severity", "needle", "message_part"),
    DEFECTS,
    ids=[d[0] for d in DEFECTS],
)
def test_each_defect_is_flagged(
    data: Data,
    check_json: CheckJson,
    line_of: LineOf,
    name: str,
    rule: str,
    key: str,
    severity: str,
    needle: str,
    message_part: str,
) -> None:
    path = data(name)
    result, report = check_json(path)
    finding = _only(report["findings"], rule)
    assert finding["key"] == key
    assert finding["severity"] == severity
    assert finding["file"] == str(path)
    assert finding["line"] == line_of(path, needle)
    assert message_part in finding["message"]
    assert result.exit_code == (0 if severity == "info" else 1)
    # Nothing else fails: each data file differs from clean.config by one defect.
    others = [f for f in report["findings"] if f["rule"] != rule]
    assert all(f["severity"] == "info" for f in others), others


def test_clean_config_passes(data: Data, check_json: CheckJson) -> None:
    path = data("clean.config")
    result, report = check_json(path)
    assert result.exit_code == 0
    assert [f["rule"] for f in report["findings"]] == ["endpoints-fill-in-order"]
    assert report["findings"][0]["message"] == (
        "The 2 endpoints are not load balanced: each one takes 2000 subscriptions before the "
        "next one is used."
    )
    assert report["capacity"] == [
        {"file": str(path), "endpoints": 2, "max_subscriptions_per_endpoint": 2000, "total": 4000}
    ]
    assert result.stderr == "0 errors, 0 warnings, 1 info in 1 file\n"


@pytest.mark.parametrize("name", ["clean_utf8_bom.config", "clean_utf16.config"])
def test_bom_and_utf16_files_pass(data: Data, check_json: CheckJson, name: str) -> None:
    result, report = check_json(data(name))
    assert result.exit_code == 0
    assert [f["rule"] for f in report["findings"]] == ["endpoints-fill-in-order"]
    assert report["capacity"][0]["total"] == 4000


def test_non_trusted_file_needs_no_ucma_keys(data: Data, check_json: CheckJson) -> None:
    result, report = check_json(data("non_trusted.config"))
    assert result.exit_code == 0
    assert report["findings"] == []
    assert report["capacity"][0]["endpoints"] == 0
    assert report["capacity"][0]["total"] == 0


@pytest.mark.parametrize(
    ("name", "per_endpoint", "total"),
    [
        ("max_subs_absent.config", 1000, 2000),
        ("max_subs_too_high.config", None, None),
        ("endpoint_duplicate.config", 2000, 4000),
        ("endpoint_not_sip.config", 2000, 2000),
        ("own_sip_invalid.config", 2000, 2000),
    ],
)
def test_capacity(
    data: Data, check_json: CheckJson, name: str, per_endpoint: int | None, total: int | None
) -> None:
    _, report = check_json(data(name))
    [capacity] = report["capacity"]
    assert capacity["max_subscriptions_per_endpoint"] == per_endpoint
    assert capacity["total"] == total


def test_single_endpoint_has_no_fill_order_note(data: Data, check_json: CheckJson) -> None:
    _, report = check_json(data("own_sip_invalid.config"))
    assert "endpoints-fill-in-order" not in {f["rule"] for f in report["findings"]}


def test_two_consistent_hosts_pass(data: Data, check_json: CheckJson) -> None:
    a, b = data("clean.config"), data("host_b.config")
    result, report = check_json(a, b)
    assert result.exit_code == 0
    assert not [f for f in report["findings"] if f["rule"].startswith("hosts-")]
    assert [c["file"] for c in report["capacity"]] == [str(a), str(b)]


def test_conflicting_hosts_name_both_files(data: Data, check_json: CheckJson) -> None:
    a, b = data("clean.config"), data("host_b_conflict.config")
    result, report = check_json(a, b)
    assert result.exit_code == 1
    hosts = [f for f in report["findings"] if f["rule"].startswith("hosts-")]
    assert [(f["rule"], f["key"], f["severity"], f["line"], f["other_line"]) for f in hosts] == [
        ("hosts-application-differs", "UCMA_APPLICATION_NAME", "warning", 8, 8),
        ("hosts-pool-differs", "LYNC_TRUSTED_APPLICATION_POOL", "warning", 9, 9),
        ("hosts-endpoint-shared", "ucmaEndpointSips", "error", 20, 20),
    ]
    for finding in hosts:
        assert finding["file"] == str(b)
        assert finding["other_file"] == str(a)
        assert str(a) in finding["message"]
    assert hosts[2]["message"] == (
        f'"sip:presence_bems1-01.example.com@example.com" is also used by {a} (line 20); '
        "each endpoint SIP address may belong to one host only."
    )


def test_shared_ucma_endpoint_sip_is_flagged(data: Data, check_json: CheckJson) -> None:
    # A host copied from another keeps its UCMA_ENDPOINT_SIP: both name the same endpoint.
    result, report = check_json(data("clean.config"), data("max_subs_absent.config"))
    shared = [f for f in report["findings"] if f["rule"] == "hosts-endpoint-shared"]
    assert {f["key"] for f in shared} == {"UCMA_ENDPOINT_SIP", "ucmaEndpointSips"}
    assert result.exit_code == 1


def test_same_file_twice_is_checked_once(data: Data, check_json: CheckJson) -> None:
    path = data("clean.config")
    result, report = check_json(path, path)
    assert result.exit_code == 0
    assert len(report["capacity"]) == 1


def test_core_report_without_the_cli(data: Data, rules: PresenceRules) -> None:
    collection = rules.keys.endpoint_collection
    configs = [load_config(data(n), collection) for n in ("clean.config", "host_b.config")]
    report = check_configs(configs, rules)
    assert not report.failed
    assert [(c.endpoints, c.per_endpoint, c.total) for c in report.capacity] == [
        (2, 2000, 4000),
        (2, 2000, 4000),
    ]


def test_every_rule_is_exercised_by_the_data(data: Data, rules: PresenceRules) -> None:
    collection = rules.keys.endpoint_collection
    names = [name for name, *_ in DEFECTS]
    seen = {
        f.rule for name in names for f in check_configs([load_config(data(name), collection)], rules).findings
    }
    for pair in (
        ("clean.config", "host_b_conflict.config"),
        ("clean.config", "host_b_settings_differ.config"),
    ):
        hosts = [load_config(data(n), collection) for n in pair]
        seen |= {f.rule for f in check_configs(hosts, rules).findings}
    for text, enabled in (("a.com a.com bad_name bücher.example", True), ("", True), ("a.com", False)):
        seen |= {f.rule for f in normalise_whitelist(text, rules, enabled=enabled).findings}
    assert seen == RULE_IDS


def test_malformed_file_exits_2_with_line_and_column(data: Data, invoke: Invoke) -> None:
    path = data("malformed.config")
    result = invoke("check", str(path))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == f"bes-logdiag: error: {path}:16:5: malformed XML: mismatched tag\n"


def test_every_unreadable_file_is_reported(data: Data, invoke: Invoke, tmp_path: Path) -> None:
    missing = tmp_path / "absent.config"
    result = invoke("check", str(data("clean.config")), str(missing), str(data("not_configuration.config")))
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == f"bes-logdiag: error: {missing}: cannot read: No such file or directory"
    assert lines[1].startswith("bes-logdiag: error: ")
    assert lines[1].endswith(
        "not_configuration.config:1:1: not a .NET configuration file: "
        "the root element is <settings>, not <configuration>"
    )
    assert len(lines) == 2
    assert "Traceback" not in result.output


def test_table_output(data: Data, invoke: Invoke) -> None:
    result = invoke("check", str(data("clean.config")), str(data("host_b_conflict.config")))
    assert result.exit_code == 1
    assert "\x1b[" not in result.stdout
    for text in (
        "clean.config",
        "host_b_conflict.config",
        "hosts-pool-differs",
        "Subscription capacity",
        "4000",
    ):
        assert text in result.stdout
    assert result.stderr == "1 error, 2 warnings, 2 info in 2 files\n"


def test_table_output_for_a_file_without_findings(data: Data, invoke: Invoke) -> None:
    path = data("non_trusted.config")
    result = invoke("check", str(path))
    assert result.exit_code == 0
    assert result.stdout.startswith(f"{path}: no findings\n")


# ---------------------------------------------------------------------------------------------
# Item 2: MAX_SUBSCRIPTIONS_PER_ENDPOINT


@pytest.mark.parametrize(
    "value",
    ["0", "5001", "10000", "-1", "2,000", "2.000", "1e3", "two thousand", "", " 2000", "9" * 5000],
    ids=lambda v: v if len(v) < 20 else f"{len(v)} digits",
)
def test_max_subscriptions_out_of_range_or_not_integer(tmp_path: Path, value: str) -> None:
    text = swap(dotnet_config(), 'value="2000"', f'value="{value}"')
    path = host(tmp_path, "bems01", text, "utf-16")
    result, doc = presence_check(path)
    assert result.exit_code == 1
    bad = only_finding(doc, "max-subscriptions-invalid")
    assert (bad["key"], bad["severity"]) == (MAX, "error")
    assert bad["line"] == line_of(text, f'"{MAX}" value="{value}"')
    assert f'"{value}"' in bad["message"]
    assert doc["capacity"][0]["total"] is None


@pytest.mark.parametrize("value", ["1", "5000", "1000", "0250", "0" * 5000 + "2000"], ids=lambda v: v[-8:])
def test_max_subscriptions_in_range(tmp_path: Path, value: str) -> None:
    text = swap(dotnet_config(), 'value="2000"', f'value="{value}"')
    path = host(tmp_path, "bems01", text)
    result, doc = presence_check(path)
    assert result.exit_code == 0, doc["findings"]
    number = int(value.lstrip("0"))  # (Python's int() refuses over 4,300 digits, zeros and all)
    assert doc["capacity"][0]["max_subscriptions_per_endpoint"] == number
    assert doc["capacity"][0]["total"] == 3 * number


def test_max_subscriptions_absent_is_info_default_1000_at_appsettings(tmp_path: Path) -> None:
    # only the commented-out line mentions the key
    text = swap(dotnet_config(), '    <add key="MAX_SUBSCRIPTIONS_PER_ENDPOINT" value="2000" />\n', "")
    path = host(tmp_path, "bems01", text)
    result, doc = presence_check(path)
    assert result.exit_code == 0
    info = only_finding(doc, "max-subscriptions-default")
    assert (info["key"], info["severity"], info["line"]) == (MAX, "info", line_of(text, "<appSettings>"))
    assert "1000" in info["message"]
    assert doc["capacity"][0] == {
        "file": str(path),
        "endpoints": 3,
        "max_subscriptions_per_endpoint": 1000,
        "total": 3000,
    }


def test_max_subscriptions_attribute_order_and_key_case(tmp_path: Path) -> None:
    # value before key, and the key written in lower case (.NET appSettings ignore case)
    text = swap(
        dotnet_config(),
        '<add key="MAX_SUBSCRIPTIONS_PER_ENDPOINT" value="2000" />',
        "<add value='7000' key='max_subscriptions_per_endpoint'/>",
    )
    path = host(tmp_path, "bems01", text)
    result, doc = presence_check(path)
    assert result.exit_code == 1
    bad = only_finding(doc, "max-subscriptions-invalid")
    assert bad["key"].upper() == MAX
    assert bad["line"] == line_of(text, "value='7000'")
    assert findings_of(doc, "max-subscriptions-default") == []


def test_a_setting_repeated_on_its_own_line_is_flagged(tmp_path: Path) -> None:
    """A config squeezed onto one line (minified, or pasted): a repeat is a repeat all the same."""
    twice = f'<add key="{MAX}" value="2000" /><add key="{MAX}" value="4000" />'
    text = with_max_line(f"    {twice}\n")
    result, doc = presence_check(host(tmp_path, "bems01", text))
    assert result.exit_code == 1
    dup = only_finding(doc, "setting-duplicate")
    assert (dup["key"], dup["line"]) == (MAX, line_of(text, 'value="4000"'))
    assert doc["capacity"][0]["max_subscriptions_per_endpoint"] == 4000


def test_max_subscriptions_set_twice_last_wins_and_is_flagged(tmp_path: Path) -> None:
    settings = swap(
        TRUSTED_SETTINGS,
        '    <add key="ClientSettingsProvider.ServiceUri" value="" />\n',
        '    <add key="ClientSettingsProvider.ServiceUri" value="" />\n'
        "    <!-- raised for the Q3 rollout -->\n"
        '    <add key="MAX_SUBSCRIPTIONS_PER_ENDPOINT" value="4000" />\n',
    )
    text = dotnet_config(settings)
    path = host(tmp_path, "bems01", text)
    result, doc = presence_check(path)
    assert result.exit_code == 1
    dup = only_finding(doc, "setting-duplicate")
    assert (dup["key"], dup["severity"]) == (MAX, "warning")
    assert dup["line"] == line_of(text, 'value="4000"')
    assert str(line_of(text, 'value="2000"')) in dup["message"]
    assert doc["capacity"][0]["max_subscriptions_per_endpoint"] == 4000
    assert doc["capacity"][0]["total"] == 12000


# ---------------------------------------------------------------------------------------------
# Item 2: endpoint SIP addresses


def test_endpoint_not_a_sip_address_is_an_error(tmp_path: Path) -> None:
    bad = "presence_bems01-01.corp.example.com@example.com"
    text = dotnet_config(endpoints=endpoints_block(OWN_SIP, bad))
    path = host(tmp_path, "bems01", text, "utf-16")
    result, doc = presence_check(path)
    assert result.exit_code == 1
    f = only_finding(doc, "endpoint-sip-invalid")
    assert (f["key"], f["severity"], f["line"]) == (EPS, "error", line_of(text, f'"{bad}"'))
    assert doc["capacity"][0]["endpoints"] == 1


def test_endpoint_not_following_the_default_convention_is_told_not_failed(tmp_path: Path) -> None:
    """The guide has the admin choose a naming convention (its default is one): a scheme of their
    own failed every CI run (a warning, exit code 1)."""
    odd = "sip:bems01-presence@example.com"
    text = dotnet_config(endpoints=endpoints_block(OWN_SIP, odd))
    path = host(tmp_path, "bems01", text)
    result, doc = presence_check(path)
    assert result.exit_code == 0
    f = only_finding(doc, "endpoint-sip-convention")
    assert (f["key"], f["severity"], f["line"]) == (EPS, "info", line_of(text, odd))
    assert doc["capacity"][0]["endpoints"] == 2


def test_endpoint_without_host_fqdn_breaks_convention(tmp_path: Path) -> None:
    odd = "sip:presence_BEMS01@example.com"  # host name, not its FQDN
    text = dotnet_config(endpoints=endpoints_block(OWN_SIP, odd))
    path = host(tmp_path, "bems01", text)
    result, doc = presence_check(path)
    assert result.exit_code == 0
    assert only_finding(doc, "endpoint-sip-convention")["line"] == line_of(text, odd)


def test_endpoint_listed_twice_case_differs(tmp_path: Path) -> None:
    second = "sip:presence_bems01-01.corp.example.com@example.com"
    text = dotnet_config(endpoints=endpoints_block(OWN_SIP, second, second.upper().replace("SIP:", "sip:")))
    path = host(tmp_path, "bems01", text)
    result, doc = presence_check(path)
    assert result.exit_code == 1
    f = only_finding(doc, "endpoint-sip-duplicate")
    assert (f["key"], f["severity"]) == (EPS, "warning")
    assert f["line"] == line_of(text, "PRESENCE_BEMS01-01")
    assert str(line_of(text, second)) in f["message"]
    assert doc["capacity"][0]["endpoints"] == 2
    assert doc["capacity"][0]["total"] == 4000


def test_endpoint_in_other_sip_domain(tmp_path: Path) -> None:
    other = "sip:presence_bems01-01.corp.example.com@example.org"
    text = dotnet_config(endpoints=endpoints_block(OWN_SIP, other))
    path = host(tmp_path, "bems01", text)
    result, doc = presence_check(path)
    assert result.exit_code == 1
    f = only_finding(doc, "endpoint-sip-domain")
    assert (f["key"], f["severity"], f["line"]) == (EPS, "warning", line_of(text, other))
    assert "example.org" in f["message"] and "example.com" in f["message"]


def test_endpoint_domain_compare_ignores_case(tmp_path: Path) -> None:
    text = dotnet_config(
        endpoints=endpoints_block(OWN_SIP, "sip:presence_bems01-01.corp.example.com@EXAMPLE.COM")
    )
    result, doc = presence_check(host(tmp_path, "bems01", text))
    assert findings_of(doc, "endpoint-sip-domain") == []
    assert result.exit_code == 0


def test_own_endpoint_sip_not_a_sip_address(tmp_path: Path) -> None:
    text = swap(
        dotnet_config(endpoints=""),
        'value = "sip:presence_bems01.corp.example.com@example.com"',
        'value = "presence_bems01.corp.example.com"',
    )
    path = host(tmp_path, "bems01", text)
    result, doc = presence_check(path)
    assert result.exit_code == 1
    f = only_finding(doc, "endpoint-sip-invalid")
    assert (f["key"], f["severity"], f["line"]) == (OWN, "error", line_of(text, 'key = "UCMA_ENDPOINT_SIP"'))
    assert doc["capacity"][0]["endpoints"] == 0


def test_single_endpoint_from_ucma_endpoint_sip_gives_capacity(tmp_path: Path) -> None:
    text = dotnet_config(endpoints="")
    path = host(tmp_path, "bems01", text)
    result, doc = presence_check(path)
    assert result.exit_code == 0
    assert doc["findings"] == []  # one endpoint: nothing to say about fill order
    assert doc["capacity"][0] == {
        "file": str(path),
        "endpoints": 1,
        "max_subscriptions_per_endpoint": 2000,
        "total": 2000,
    }


def test_commented_and_stray_endpoint_items_are_not_counted(tmp_path: Path) -> None:
    block = (
        "  <ucmaEndpointSips>\n"
        '    <add item="sip:stray@example.com" />\n'
        "    <collection>\n"
        f'      <add item="{OWN_SIP}" />\n'
        '      <!-- <add item="not a sip" /> -->\n'
        '      <add item="sip:presence_bems01-01.corp.example.com@example.com" />\n'
        "    </collection>\n"
        "  </ucmaEndpointSips>\n"
    )
    text = dotnet_config(endpoints=block)
    result, doc = presence_check(host(tmp_path, "bems01", text))
    assert result.exit_code == 0, doc["findings"]
    assert doc["capacity"][0]["endpoints"] == 2
    assert doc["capacity"][0]["total"] == 4000


def test_endpoints_section_before_appsettings(tmp_path: Path) -> None:
    # the section may sit anywhere; admins paste it right after configSections
    text = HEAD + TRUSTED_ENDPOINTS + swap(TRUSTED_SETTINGS, 'value="2000"', 'value="1500"') + TAIL
    path = host(tmp_path, "bems01", text)
    result, doc = presence_check(path)
    assert result.exit_code == 0
    assert only_finding(doc, "endpoints-fill-in-order")["line"] == line_of(text, "<ucmaEndpointSips>")
    assert doc["capacity"][0]["total"] == 4500


# ---------------------------------------------------------------------------------------------
# Item 2: AD_USERS_SOURCE, AD_USERS_SOURCE_DOMAIN


@pytest.mark.parametrize("value", ["ADLDS", "Global Catalog", "GC;LDAP"])
def test_ad_source_invalid(tmp_path: Path, value: str) -> None:
    text = swap(dotnet_config(), 'value="GC"', f'value="{value}"')
    path = host(tmp_path, "bems01", text)
    result, doc = presence_check(path)
    assert result.exit_code == 1
    f = only_finding(doc, "ad-source-invalid")
    assert (f["key"], f["severity"], f["line"]) == (
        "AD_USERS_SOURCE",
        "error",
        line_of(text, f'value="{value}"'),
    )


@pytest.mark.parametrize("source", ["LDAP", ""])
def test_ad_source_ldap_or_empty_with_domain_is_info(tmp_path: Path, source: str) -> None:
    text = swap(dotnet_config(), 'value="GC"', f'value="{source}"')
    path = host(tmp_path, "bems01", text)
    result, doc = presence_check(path)
    assert result.exit_code == 0
    assert findings_of(doc, "ad-source-invalid") == []
    f = only_finding(doc, "ad-source-domain-unused")
    assert (f["key"], f["severity"]) == ("AD_USERS_SOURCE_DOMAIN", "info")
    assert f["line"] == line_of(text, 'value="DC=EXAMPLE,DC=COM"')


def test_ad_source_absent_with_domain_is_info(tmp_path: Path) -> None:
    text = swap(dotnet_config(), '    <add key="AD_USERS_SOURCE" value="GC" />\n', "")
    result, doc = presence_check(host(tmp_path, "bems01", text))
    assert result.exit_code == 0
    assert only_finding(doc, "ad-source-domain-unused")["severity"] == "info"


@pytest.mark.parametrize(
    "domain", ["DC=EXAMPLE,DC=COM", "DC=corp, DC=example, DC=com", "EXAMPLE.COM", "corp.example.com"]
)
def test_ad_domain_valid_with_gc(tmp_path: Path, domain: str) -> None:
    text = swap(dotnet_config(), 'value="DC=EXAMPLE,DC=COM"', f'value="{domain}"')
    result, doc = presence_check(host(tmp_path, "bems01", text, "utf-16"))
    assert result.exit_code == 0, doc["findings"]
    assert not [f for f in doc["findings"] if f["key"].startswith("AD_")]


@pytest.mark.parametrize(
    "domain", ["EXAMPLE", "DC=EXAMPLE", "CN=Users,DC=EXAMPLE,DC=COM", "DC=EXAMPLE;DC=COM", "example..com"]
)
def test_ad_domain_invalid(tmp_path: Path, domain: str) -> None:
    text = swap(dotnet_config(), 'value="DC=EXAMPLE,DC=COM"', f'value="{domain}"')
    path = host(tmp_path, "bems01", text)
    result, doc = presence_check(path)
    assert result.exit_code == 1
    f = only_finding(doc, "ad-source-domain-invalid")
    assert (f["key"], f["severity"], f["line"]) == (
        "AD_USERS_SOURCE_DOMAIN",
        "error",
        line_of(text, f'value="{domain}"'),
    )


def test_ad_domain_without_value_attribute_is_empty_not_invalid(tmp_path: Path) -> None:
    # the guide: "No value attribute (default) - Domain the Good Presence resides"; with GC the
    # guide sets a domain, so the one AD finding is that it is missing (issue 19 item 15)
    text = swap(
        dotnet_config(),
        '<add key="AD_USERS_SOURCE_DOMAIN" value="DC=EXAMPLE,DC=COM" />',
        '<add key="AD_USERS_SOURCE_DOMAIN" />',
    )
    result, doc = presence_check(host(tmp_path, "bems01", text))
    assert result.exit_code == 1
    ad = [f for f in doc["findings"] if f["key"].startswith("AD_")]
    assert [f["rule"] for f in ad] == ["ad-source-domain-missing"]


# ---------------------------------------------------------------------------------------------
# Item 2: RESTRICT_CERT_BY_FRIENDLY_NAME, LYNC_SERVER


@pytest.mark.parametrize(
    "value",
    [" BEMS Presence 2024", "BEMS Presence 2024 ", "BEMS Presence 2024&#9;", "BEMS Presence 2024\u00a0"],
)
def test_friendly_name_with_surrounding_space(tmp_path: Path, value: str) -> None:
    text = swap(dotnet_config(), 'value="BEMS Presence 2024"', f'value="{value}"')
    path = host(tmp_path, "bems01", text, "utf-16")
    result, doc = presence_check(path)
    assert result.exit_code == 1
    f = only_finding(doc, "friendly-name-whitespace")
    assert (f["key"], f["severity"]) == ("RESTRICT_CERT_BY_FRIENDLY_NAME", "warning")
    assert f["line"] == line_of(text, "RESTRICT_CERT_BY_FRIENDLY_NAME")


@pytest.mark.parametrize("value", ["bems presence 2024", "BEMS  Presence", ""])
def test_friendly_name_inner_spaces_case_or_empty_are_fine(tmp_path: Path, value: str) -> None:
    text = swap(dotnet_config(), 'value="BEMS Presence 2024"', f'value="{value}"')
    result, doc = presence_check(host(tmp_path, "bems01", text))
    assert result.exit_code == 0
    assert findings_of(doc, "friendly-name-whitespace") == []


@pytest.mark.parametrize(
    "value", ["LYNCDIR01", "lyncdir01", "10.20.30.40", "lyncdir01.corp.example.com:5061"]
)
def test_lync_server_not_fqdn(tmp_path: Path, value: str) -> None:
    text = swap(dotnet_config(), 'value="lyncdir01.corp.example.com"', f'value="{value}"')
    path = host(tmp_path, "bems01", text)
    result, doc = presence_check(path)
    assert result.exit_code == 1
    f = only_finding(doc, "lync-server-not-fqdn")
    assert (f["key"], f["severity"], f["line"]) == (
        "LYNC_SERVER",
        "warning",
        line_of(text, f'value="{value}"'),
    )


@pytest.mark.parametrize(
    "value", ["dirpool.corp.example.com", "DIRPOOL01.CORP.EXAMPLE.COM", "lync-dir.example.co.uk"]
)
def test_lync_server_fqdn_is_fine(tmp_path: Path, value: str) -> None:
    text = swap(dotnet_config(), 'value="lyncdir01.corp.example.com"', f'value="{value}"')
    result, doc = presence_check(host(tmp_path, "bems01", text))
    assert result.exit_code == 0
    assert findings_of(doc, "lync-server-not-fqdn") == []


# ---------------------------------------------------------------------------------------------
# Item 2: trusted-application keys


@pytest.mark.parametrize("key", [APPNAME, POOL, OWN])
def test_trusted_key_removed_points_at_appsettings(tmp_path: Path, key: str) -> None:
    lines = [line for line in TRUSTED_SETTINGS.splitlines(keepends=True) if f'"{key}"' not in line]
    text = dotnet_config("".join(lines))
    path = host(tmp_path, "bems01", text)
    result, doc = presence_check(path)
    assert result.exit_code == 1
    f = only_finding(doc, "trusted-key-missing")
    assert (f["key"], f["severity"], f["line"]) == (key, "error", line_of(text, "<appSettings>"))


@pytest.mark.parametrize("key", [APPNAME, POOL, OWN])
def test_trusted_key_blank_points_at_its_line(tmp_path: Path, key: str) -> None:
    settings = "".join(
        (f'    <add key="{key}" value="   " />\n' if f'"{key}"' in line else line)
        for line in TRUSTED_SETTINGS.splitlines(keepends=True)
    )
    text = dotnet_config(settings)
    path = host(tmp_path, "bems01", text, "utf-16")
    result, doc = presence_check(path)
    assert result.exit_code == 1
    f = only_finding(doc, "trusted-key-missing")
    assert (f["key"], f["severity"], f["line"]) == (key, "error", line_of(text, f'"{key}"'))


def test_only_endpoint_collection_puts_file_in_trusted_mode(tmp_path: Path) -> None:
    text = dotnet_config(JABBER_SETTINGS, TRUSTED_ENDPOINTS)
    path = host(tmp_path, "bems01", text)
    result, doc = presence_check(path)
    assert result.exit_code == 1
    missing = findings_of(doc, "trusted-key-missing")
    assert sorted(f["key"] for f in missing) == sorted([APPNAME, POOL, OWN])
    assert {f["line"] for f in missing} == {
        line_of(text, f'"{APPNAME}"'),
        line_of(text, f'"{POOL}"'),
        line_of(text, f'"{OWN}"'),
    }
    assert all(f["severity"] == "error" for f in missing)


def test_every_defect_at_once_each_flagged_by_key(tmp_path: Path) -> None:
    settings = """  <appSettings>
    <add key="LYNC_SERVER" value="lyncdir01" />
    <add key="UCMA_APPLICATION_NAME" value="urn:application:bemspresence" />
    <add key="UCMA_ENDPOINT_SIP" value="sip:presence_bems01.corp.example.com@example.com" />
    <add key="RESTRICT_CERT_BY_FRIENDLY_NAME" value="BEMS Presence " />
    <add key="MAX_SUBSCRIPTIONS_PER_ENDPOINT" value="7500" />
    <add key="AD_USERS_SOURCE" value="LDAPS" />
    <add key="AD_USERS_SOURCE_DOMAIN" value="EXAMPLE" />
  </appSettings>
"""
    endpoints = endpoints_block(
        OWN_SIP,
        "bems01-01.corp.example.com",
        "sip:bems-presence@example.com",
        "sip:presence_bems01-02.corp.example.com@example.net",
        OWN_SIP,
    )
    text = dotnet_config(settings, endpoints)
    path = host(tmp_path, "bems01", text, "utf-16")
    result, doc = presence_check(path)
    assert result.exit_code == 1
    got = {(f["rule"], f["key"], f["severity"], f["line"]) for f in doc["findings"]}
    expected = {
        ("lync-server-not-fqdn", "LYNC_SERVER", "warning", line_of(text, 'value="lyncdir01"')),
        ("trusted-key-missing", POOL, "error", line_of(text, "<appSettings>")),
        (
            "friendly-name-whitespace",
            "RESTRICT_CERT_BY_FRIENDLY_NAME",
            "warning",
            line_of(text, "BEMS Presence "),
        ),
        ("max-subscriptions-invalid", MAX, "error", line_of(text, "7500")),
        ("ad-source-invalid", "AD_USERS_SOURCE", "error", line_of(text, "LDAPS")),
        ("ad-source-domain-invalid", "AD_USERS_SOURCE_DOMAIN", "error", line_of(text, 'value="EXAMPLE"')),
        ("ad-source-domain-unused", "AD_USERS_SOURCE_DOMAIN", "info", line_of(text, 'value="EXAMPLE"')),
        ("endpoint-sip-invalid", EPS, "error", line_of(text, '"bems01-01.corp')),
        ("endpoint-sip-convention", EPS, "info", line_of(text, "bems-presence@")),
        ("endpoint-sip-domain", EPS, "warning", line_of(text, "example.net")),
        ("endpoint-sip-duplicate", EPS, "warning", line_of(text, OWN_SIP, nth=3)),
        ("endpoints-fill-in-order", EPS, "info", line_of(text, "<ucmaEndpointSips>")),
    }
    assert got == expected
    assert doc["capacity"][0]["endpoints"] == 3
    assert doc["capacity"][0]["total"] is None
    # per file, findings come in line order
    lines = [f["line"] for f in doc["findings"]]
    assert lines == sorted(lines)


# ---------------------------------------------------------------------------------------------
# Item 3: several hosts compared


def test_three_clean_hosts_exit_0_capacity_in_command_line_order(tmp_path: Path) -> None:
    paths = [
        host(tmp_path, "bems03", host_text(3)),
        host(tmp_path, "bems01", host_text(1), "utf-16"),
        host(
            tmp_path,
            "bems02",
            host_text(2, app=" URN:Application:BemsPresence ", pool="BEMSPOOL.corp.example.com"),
        ),
    ]
    result, doc = presence_check(*paths)
    assert result.exit_code == 0, doc["findings"]
    assert failing(doc) == []
    assert [c["file"] for c in doc["capacity"]] == [str(p) for p in paths]
    assert [c["total"] for c in doc["capacity"]] == [4000, 4000, 4000]
    assert len(findings_of(doc, "endpoints-fill-in-order")) == 3


def test_hosts_pool_differs_reported_on_later_file(tmp_path: Path) -> None:
    one = host_text(1)
    two = host_text(2, pool="bemspool2.corp.example.com")
    p1, p2 = host(tmp_path, "bems01", one), host(tmp_path, "bems02", two, "utf-16")
    result, doc = presence_check(p1, p2)
    assert result.exit_code == 1
    f = only_finding(doc, "hosts-pool-differs")
    assert (f["file"], f["key"], f["severity"], f["line"]) == (
        str(p2),
        POOL,
        "warning",
        line_of(two, "bemspool2"),
    )
    assert (f["other_file"], f["other_line"]) == (str(p1), line_of(one, f'"{POOL}"'))
    assert str(p1) in f["message"]
    assert findings_of(doc, "hosts-application-differs") == []


def test_hosts_application_differs_against_first_file_that_sets_it(tmp_path: Path) -> None:
    jabber = dotnet_config(JABBER_SETTINGS, "")
    one = host_text(1)
    three = host_text(3, app="urn:application:bemspresence-dr")
    p0 = host(tmp_path, "bems00", jabber)
    p1 = host(tmp_path, "bems01", one)
    p3 = host(tmp_path, "bems03", three)
    result, doc = presence_check(p0, p1, p3)
    assert result.exit_code == 1
    f = only_finding(doc, "hosts-application-differs")
    assert (f["file"], f["key"], f["severity"], f["line"]) == (
        str(p3),
        APPNAME,
        "warning",
        line_of(three, "bemspresence-dr"),
    )
    assert (f["other_file"], f["other_line"]) == (str(p1), line_of(one, f'"{APPNAME}"'))
    assert [c["file"] for c in doc["capacity"]] == [str(p0), str(p1), str(p3)]


def test_hosts_share_a_collection_endpoint(tmp_path: Path) -> None:
    shared = "sip:presence_bems01-01.corp.example.com@example.com"
    one = host_text(1)
    two = host_text(2).replace(
        '      <add item="sip:presence_bems02-01.corp.example.com@example.com" />\n',
        f'      <add item="{shared.upper().replace("SIP:", "sip:")}" />\n',
    )
    p1, p2 = host(tmp_path, "bems01", one), host(tmp_path, "bems02", two)
    result, doc = presence_check(p1, p2)
    assert result.exit_code == 1
    f = only_finding(doc, "hosts-endpoint-shared")
    assert (f["file"], f["key"], f["severity"]) == (str(p2), EPS, "error")
    assert f["line"] == line_of(two, "PRESENCE_BEMS01-01")
    assert (f["other_file"], f["other_line"]) == (str(p1), line_of(one, shared))


def test_hosts_copied_config_shares_ucma_endpoint_sip(tmp_path: Path) -> None:
    # the classic: bems01's file copied to bems02 and only the collection edited
    one = dotnet_config(endpoints="")
    two = dotnet_config(endpoints="")
    p1, p2 = host(tmp_path, "bems01", one, "utf-16"), host(tmp_path, "bems02", two)
    result, doc = presence_check(p1, p2)
    assert result.exit_code == 1
    f = only_finding(doc, "hosts-endpoint-shared")
    assert (f["file"], f["key"], f["severity"], f["line"]) == (
        str(p2),
        OWN,
        "error",
        line_of(two, f'"{OWN}"'),
    )
    assert (f["other_file"], f["other_line"]) == (str(p1), line_of(one, f'"{OWN}"'))


def test_collection_item_is_another_hosts_ucma_endpoint_sip(tmp_path: Path) -> None:
    one = dotnet_config(endpoints="")  # bems01: UCMA_ENDPOINT_SIP only
    two = host_text(2).replace(
        '      <add item="sip:presence_bems02-01.corp.example.com@example.com" />\n',
        f'      <add item="{OWN_SIP}" />\n',
    )
    p1, p2 = host(tmp_path, "bems01", one), host(tmp_path, "bems02", two)
    result, doc = presence_check(p1, p2)
    assert result.exit_code == 1
    f = only_finding(doc, "hosts-endpoint-shared")
    assert (f["file"], f["key"], f["line"]) == (str(p2), EPS, line_of(two, f'item="{OWN_SIP}"'))
    assert (f["other_file"], f["other_line"]) == (str(p1), line_of(one, f'"{OWN}"'))


def test_table_format_has_the_same_exit_codes(tmp_path: Path) -> None:
    p1 = host(tmp_path, "bems01", host_text(1))
    p2 = host(tmp_path, "bems02", host_text(2))
    clean = presence_cli("check", str(p1), str(p2))
    assert clean.exit_code == 0
    assert "Subscription capacity" in clean.stdout
    p3 = host(tmp_path, "bems03", host_text(1))  # a copy of bems01's file
    clash = presence_cli("check", str(p1), str(p3))
    assert clash.exit_code == 1
    assert "hosts-endpoint-shared" in clash.stdout


def test_same_file_named_twice_is_checked_once(tmp_path: Path) -> None:
    p1 = host(tmp_path, "bems01", host_text(1))
    dotted = tmp_path / "bems01" / ".." / "bems01" / "LyncPresenceProviderService.exe.config"
    result, doc = presence_check(p1, dotted)
    assert result.exit_code == 0, doc["findings"]
    assert findings_of(doc, "hosts-endpoint-shared") == []
    assert len(doc["capacity"]) == 1


def test_host_findings_sit_among_the_file_findings_by_line(tmp_path: Path) -> None:
    one = host_text(1)
    two = swap(host_text(2, pool="otherpool.corp.example.com"), 'value="2000"', 'value="0"')
    p1, p2 = host(tmp_path, "bems01", one), host(tmp_path, "bems02", two)
    result, doc = presence_check(p1, p2)
    assert result.exit_code == 1
    rules = [f["rule"] for f in doc["findings"]]
    # the pool is set above the limit, so its host finding comes first (issue 19 item 16)
    assert rules.index("hosts-pool-differs") < rules.index("max-subscriptions-invalid")
    assert only_finding(doc, "max-subscriptions-invalid")["file"] == str(p2)
    assert doc["capacity"][1]["total"] is None
    assert doc["capacity"][0]["total"] == 4000
