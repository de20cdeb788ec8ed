"""`presence check`: a data file per defect, the clean file, capacity, host comparisons, errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
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
     "warning", "sip:bems1-01@example.com", "sip:presence_<BEMS host FQDN>@<SIP domain>"),
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
    hosts = [load_config(data(n), collection) for n in ("clean.config", "host_b_conflict.config")]
    seen |= {f.rule for f in check_configs(hosts, rules).findings}
    for text, enabled in (("a.com a.com bad_name", True), ("", True), ("a.com", False)):
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
