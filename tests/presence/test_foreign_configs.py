"""`presence check` / `presence whitelist` on configuration files written the way admins' files look.

Every file here is built in tmp_path from scratch (none of tests/presence/data is used): a full
.NET LyncPresenceProviderService.exe.config with configSections, startup, log4net, WCF and
runtime sections, comments (some holding commented-out `<add>` lines), CRLF line endings, a
UTF-8 BOM or UTF-16 as Notepad saves "Unicode", odd attribute order and quoting, and an XML
declaration with an encoding. Each test runs the real CLI (`bes_logdiag.cli.app`) with
`--format json` and checks keys, severities, line numbers, capacity and exit codes against
issue 6 (items 2, 3 and 4) and the BEMS Presence guide (seed 004).
"""

from __future__ import annotations

import codecs
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from bes_logdiag.cli import app

MAX = "MAX_SUBSCRIPTIONS_PER_ENDPOINT"
EPS = "ucmaEndpointSips"
OWN = "UCMA_ENDPOINT_SIP"
APPNAME = "UCMA_APPLICATION_NAME"
POOL = "LYNC_TRUSTED_APPLICATION_POOL"

# ---------------------------------------------------------------------------------------------
# Building realistic files

HEAD = """<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <configSections>
    <section name="log4net" type="log4net.Config.Log4NetConfigurationSectionHandler, log4net" />
    <section name="ucmaEndpointSips" type="Good.Presence.Configuration.EndpointSipSection, LyncPresenceProviderService" />
  </configSections>
  <startup useLegacyV2RuntimeActivationPolicy="true">
    <supportedRuntime version="v4.0" sku=".NETFramework,Version=v4.7.2" />
  </startup>
"""

TAIL = """  <log4net>
    <appender name="RollingFile" type="log4net.Appender.RollingFileAppender">
      <file value="..\\..\\Logs\\presence.log" />
      <appendToFile value="true" />
      <maximumFileSize value="10MB" />
      <layout type="log4net.Layout.PatternLayout">
        <conversionPattern value="%date [%thread] %-5level %logger - %message%newline" />
      </layout>
    </appender>
    <root>
      <level value="INFO" />
      <appender-ref ref="RollingFile" />
    </root>
  </log4net>
  <system.serviceModel>
    <bindings>
      <basicHttpBinding>
        <binding name="PresenceBinding" maxReceivedMessageSize="65536" />
      </basicHttpBinding>
    </bindings>
  </system.serviceModel>
  <runtime>
    <assemblyBinding xmlns="urn:schemas-microsoft-com:asm.v1">
      <dependentAssembly>
        <assemblyIdentity name="Microsoft.Rtc.Collaboration" publicKeyToken="31bf3856ad364e35" culture="neutral" />
        <bindingRedirect oldVersion="0.0.0.0-6.0.0.0" newVersion="6.0.0.0" />
      </dependentAssembly>
    </assemblyBinding>
  </runtime>
</configuration>
"""

# The appSettings of a host in Skype for Business trusted-application mode, as an admin leaves it:
# comments from the installer, a commented-out old value, single quotes, odd attribute order,
# spaces around "=", an explicit closing tag.
TRUSTED_SETTINGS = """  <appSettings>
    <!-- Skype for Business / Lync -->
    <add key="LYNC_SERVER" value="lyncdir01.corp.example.com" />
    <add key="UCMA_APPLICATION_NAME" value="urn:application:bemspresence" />
    <add value="bemspool.corp.example.com" key="LYNC_TRUSTED_APPLICATION_POOL"/>
    <add key = "UCMA_ENDPOINT_SIP"   value = "sip:presence_bems01.corp.example.com@example.com" />
    <add key='UCMA_APPLICATION_PORT' value='6001' />
    <add key="RESTRICT_CERT_BY_FRIENDLY_NAME" value="BEMS Presence 2024"></add>
    <!-- <add key="MAX_SUBSCRIPTIONS_PER_ENDPOINT" value="9000" /> too many, see KB -->
    <add key="MAX_SUBSCRIPTIONS_PER_ENDPOINT" value="2000" />
    <!-- valid values are: GC - Global Catalog; LDAP - Active Directory (default)
    -->
    <add key="AD_USERS_SOURCE" value="GC" />
    <!-- valid values are: "DC=GOOD,DC=COM" - GC/AD at good.com (example only,
    change to your domain); No value attribute (default) - Domain the Good
    Presence resides; -->
    <add key="AD_USERS_SOURCE_DOMAIN" value="DC=EXAMPLE,DC=COM" />
    <add key="SUBSCRIPTION_EXPIRATION_SECONDS" value="180" />
    <add key="ClientSettingsProvider.ServiceUri" value="" />
  </appSettings>
"""

TRUSTED_ENDPOINTS = """  <ucmaEndpointSips>
    <collection>
      <add item="sip:presence_bems01.corp.example.com@example.com" />
      <add item='sip:presence_bems01-01.corp.example.com@example.com'/>
      <!-- <add item="sip:presence_bems01-03.corp.example.com@example.com" /> not in topology yet -->
      <add   item="sip:presence_bems01-02.corp.example.com@example.com"   />
    </collection>
  </ucmaEndpointSips>
"""

# A Jabber (Cisco) host: the UCMA keys are there but empty; nothing about trusted mode applies.
JABBER_SETTINGS = """  <appSettings>
    <add key="LYNC_SERVER" value="" />
    <add key="UCMA_APPLICATION_NAME" value="" />
    <add key="LYNC_TRUSTED_APPLICATION_POOL" value="" />
    <add key="UCMA_ENDPOINT_SIP" value="" />
    <add key="MAX_SUBSCRIPTIONS_PER_ENDPOINT" value="1000" />
    <add key="AD_USERS_SOURCE" value="" />
    <add key="AD_USERS_SOURCE_DOMAIN" />
    <add key="RESTRICT_CERT_BY_FRIENDLY_NAME" value="" />
  </appSettings>
"""


def dotnet_config(settings: str = TRUSTED_SETTINGS, endpoints: str = TRUSTED_ENDPOINTS) -> str:
    """A whole LyncPresenceProviderService.exe.config (LF line endings; `save` converts)."""
    return HEAD + settings + endpoints + TAIL


def save(path: Path, text: str, encoding: str = "utf-8-sig", crlf: bool = True) -> Path:
    """Write `text` the way Windows tools do: CRLF and a BOM (utf-8-sig, utf-16 = LE + BOM)."""
    if crlf:
        text = text.replace("\r\n", "\n").replace("\n", "\r\n")
    if encoding == "utf-16":  # Notepad "Unicode": UTF-16 LE with BOM
        data = codecs.BOM_UTF16_LE + text.encode("utf-16-le")
    elif encoding == "utf-16-be":  # Notepad "Unicode big endian"
        data = codecs.BOM_UTF16_BE + text.encode("utf-16-be")
    else:
        data = text.encode(encoding)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def line_of(text: str, needle: str, nth: int = 1) -> int:
    """1-based line of the nth line of `text` containing `needle`."""
    seen = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            seen += 1
            if seen == nth:
                return number
    raise AssertionError(f"{needle!r} (#{nth}) not in text")


def swap(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def host(tmp_path: Path, name: str, text: str, encoding: str = "utf-8-sig") -> Path:
    return save(tmp_path / name / "LyncPresenceProviderService.exe.config", text, encoding)


# ---------------------------------------------------------------------------------------------
# Running the CLI


def invoke(*args: str, input: str | bytes | None = None) -> Result:
    return CliRunner().invoke(app, ["presence", *args], input=input)


def check(*paths: Path) -> tuple[Result, dict[str, Any]]:
    result = invoke("check", *map(str, paths), "--format", "json")
    assert result.exit_code in (0, 1), (result.exit_code, result.stdout, result.stderr)
    return result, json.loads(result.stdout)


def whitelist(*args: str, input: str | bytes | None = None) -> tuple[Result, dict[str, Any]]:
    result = invoke("whitelist", *args, "--format", "json", input=input)
    assert result.exit_code in (0, 1), (result.exit_code, result.stdout, result.stderr)
    return result, json.loads(result.stdout)


def rules_of(doc: dict[str, Any], rule: str) -> list[dict[str, Any]]:
    return [f for f in doc["findings"] if f["rule"] == rule]


def only(doc: dict[str, Any], rule: str) -> dict[str, Any]:
    found = rules_of(doc, rule)
    assert len(found) == 1, (rule, doc["findings"])
    return found[0]


def failing(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for f in doc["findings"] if f["severity"] in ("error", "warning")]


# ---------------------------------------------------------------------------------------------
# Clean files in every encoding an admin's editor produces

ENCODINGS = ["utf-8-sig", "utf-8", "utf-16", "utf-16-be"]


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_clean_trusted_host_exits_0_with_capacity(tmp_path: Path, encoding: str) -> None:
    text = dotnet_config()
    if encoding.startswith("utf-16"):
        text = swap(text, 'encoding="utf-8"', 'encoding="utf-16"')
    path = host(tmp_path, "bems01", text, encoding)
    result, doc = check(path)
    assert result.exit_code == 0, doc["findings"]
    assert failing(doc) == []
    # three endpoints fill one after another: reported (info), not an error
    fill = only(doc, "endpoints-fill-in-order")
    assert (fill["severity"], fill["key"], fill["line"]) == ("info", EPS, line_of(text, "<ucmaEndpointSips>"))
    assert "2000" in fill["message"]
    assert [f["rule"] for f in doc["findings"]] == ["endpoints-fill-in-order"]
    assert doc["capacity"] == [
        {"file": str(path), "endpoints": 3, "max_subscriptions_per_endpoint": 2000, "total": 6000}
    ]


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_line_numbers_survive_bom_crlf_and_utf16(tmp_path: Path, encoding: str) -> None:
    text = swap(dotnet_config(), 'value="2000"', 'value="6000"')
    text = swap(text, 'value="lyncdir01.corp.example.com"', 'value="LYNCDIR01"')
    path = host(tmp_path, "bems01", text, encoding)
    result, doc = check(path)
    assert result.exit_code == 1
    bad = only(doc, "max-subscriptions-invalid")
    assert (bad["key"], bad["severity"], bad["line"]) == (MAX, "error", line_of(text, 'value="6000"'))
    lync = only(doc, "lync-server-not-fqdn")
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
    result, doc = check(path)
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
    result, doc = check(path)
    assert result.exit_code == 1
    assert only(doc, "max-subscriptions-invalid")["line"] == line_of(text, 'value="0"')


def test_multiline_add_element_reports_its_line(tmp_path: Path) -> None:
    settings = swap(
        TRUSTED_SETTINGS,
        '    <add key="MAX_SUBSCRIPTIONS_PER_ENDPOINT" value="2000" />\n',
        '    <add key="MAX_SUBSCRIPTIONS_PER_ENDPOINT"\n         value="12000" />\n',
    )
    text = dotnet_config(settings)
    path = host(tmp_path, "bems01", text)
    result, doc = check(path)
    assert result.exit_code == 1
    line = only(doc, "max-subscriptions-invalid")["line"]
    assert line in (line_of(text, 'key="MAX_SUBSCRIPTIONS_PER_ENDPOINT"', nth=2), line_of(text, "12000"))


# ---------------------------------------------------------------------------------------------
# Item 2: MAX_SUBSCRIPTIONS_PER_ENDPOINT


@pytest.mark.parametrize(
    "value", ["0", "5001", "10000", "-1", "2,000", "2.000", "1e3", "two thousand", "", " 2000"]
)
def test_max_subscriptions_out_of_range_or_not_integer(tmp_path: Path, value: str) -> None:
    text = swap(dotnet_config(), 'value="2000"', f'value="{value}"')
    path = host(tmp_path, "bems01", text, "utf-16")
    result, doc = check(path)
    assert result.exit_code == 1
    bad = only(doc, "max-subscriptions-invalid")
    assert (bad["key"], bad["severity"]) == (MAX, "error")
    assert bad["line"] == line_of(text, f'"{MAX}" value="{value}"')
    assert f'"{value}"' in bad["message"]
    assert doc["capacity"][0]["total"] is None


@pytest.mark.parametrize("value", ["1", "5000", "1000", "0250"])
def test_max_subscriptions_in_range(tmp_path: Path, value: str) -> None:
    text = swap(dotnet_config(), 'value="2000"', f'value="{value}"')
    path = host(tmp_path, "bems01", text)
    result, doc = check(path)
    assert result.exit_code == 0, doc["findings"]
    assert doc["capacity"][0]["max_subscriptions_per_endpoint"] == int(value)
    assert doc["capacity"][0]["total"] == 3 * int(value)


def test_max_subscriptions_absent_is_info_default_1000_at_appsettings(tmp_path: Path) -> None:
    # only the commented-out line mentions the key
    text = swap(dotnet_config(), '    <add key="MAX_SUBSCRIPTIONS_PER_ENDPOINT" value="2000" />\n', "")
    path = host(tmp_path, "bems01", text)
    result, doc = check(path)
    assert result.exit_code == 0
    info = only(doc, "max-subscriptions-default")
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
    result, doc = check(path)
    assert result.exit_code == 1
    bad = only(doc, "max-subscriptions-invalid")
    assert bad["key"].upper() == MAX
    assert bad["line"] == line_of(text, "value='7000'")
    assert rules_of(doc, "max-subscriptions-default") == []


def test_max_subscriptions_set_twice_last_wins_and_is_flagged(tmp_path: Path) -> None:
    settings = swap(
        TRUSTED_SETTINGS,
        '    <add key="SUBSCRIPTION_EXPIRATION_SECONDS" value="180" />\n',
        '    <add key="SUBSCRIPTION_EXPIRATION_SECONDS" value="180" />\n'
        "    <!-- raised for the Q3 rollout -->\n"
        '    <add key="MAX_SUBSCRIPTIONS_PER_ENDPOINT" value="4000" />\n',
    )
    text = dotnet_config(settings)
    path = host(tmp_path, "bems01", text)
    result, doc = check(path)
    assert result.exit_code == 1
    dup = only(doc, "setting-duplicate")
    assert (dup["key"], dup["severity"]) == (MAX, "warning")
    assert dup["line"] == line_of(text, 'value="4000"')
    assert str(line_of(text, 'value="2000"')) in dup["message"]
    assert doc["capacity"][0]["max_subscriptions_per_endpoint"] == 4000
    assert doc["capacity"][0]["total"] == 12000


# ---------------------------------------------------------------------------------------------
# Item 2: endpoint SIP addresses


def endpoints_block(*items: str) -> str:
    lines = "".join(f'      <add item="{item}" />\n' for item in items)
    return f"  <ucmaEndpointSips>\n    <collection>\n{lines}    </collection>\n  </ucmaEndpointSips>\n"


OWN_SIP = "sip:presence_bems01.corp.example.com@example.com"


def test_endpoint_not_a_sip_address_is_an_error(tmp_path: Path) -> None:
    bad = "presence_bems01-01.corp.example.com@example.com"
    text = dotnet_config(endpoints=endpoints_block(OWN_SIP, bad))
    path = host(tmp_path, "bems01", text, "utf-16")
    result, doc = check(path)
    assert result.exit_code == 1
    f = only(doc, "endpoint-sip-invalid")
    assert (f["key"], f["severity"], f["line"]) == (EPS, "error", line_of(text, f'"{bad}"'))
    assert doc["capacity"][0]["endpoints"] == 1


def test_endpoint_not_following_convention_is_a_warning(tmp_path: Path) -> None:
    odd = "sip:bems01-presence@example.com"
    text = dotnet_config(endpoints=endpoints_block(OWN_SIP, odd))
    path = host(tmp_path, "bems01", text)
    result, doc = check(path)
    assert result.exit_code == 1
    f = only(doc, "endpoint-sip-convention")
    assert (f["key"], f["severity"], f["line"]) == (EPS, "warning", line_of(text, odd))
    assert doc["capacity"][0]["endpoints"] == 2


def test_endpoint_without_host_fqdn_breaks_convention(tmp_path: Path) -> None:
    odd = "sip:presence_BEMS01@example.com"  # host name, not its FQDN
    text = dotnet_config(endpoints=endpoints_block(OWN_SIP, odd))
    path = host(tmp_path, "bems01", text)
    result, doc = check(path)
    assert result.exit_code == 1
    assert only(doc, "endpoint-sip-convention")["line"] == line_of(text, odd)


def test_endpoint_listed_twice_case_differs(tmp_path: Path) -> None:
    second = "sip:presence_bems01-01.corp.example.com@example.com"
    text = dotnet_config(endpoints=endpoints_block(OWN_SIP, second, second.upper().replace("SIP:", "sip:")))
    path = host(tmp_path, "bems01", text)
    result, doc = check(path)
    assert result.exit_code == 1
    f = only(doc, "endpoint-sip-duplicate")
    assert (f["key"], f["severity"]) == (EPS, "warning")
    assert f["line"] == line_of(text, "PRESENCE_BEMS01-01")
    assert str(line_of(text, second)) in f["message"]
    assert doc["capacity"][0]["endpoints"] == 2
    assert doc["capacity"][0]["total"] == 4000


def test_endpoint_in_other_sip_domain(tmp_path: Path) -> None:
    other = "sip:presence_bems01-01.corp.example.com@example.org"
    text = dotnet_config(endpoints=endpoints_block(OWN_SIP, other))
    path = host(tmp_path, "bems01", text)
    result, doc = check(path)
    assert result.exit_code == 1
    f = only(doc, "endpoint-sip-domain")
    assert (f["key"], f["severity"], f["line"]) == (EPS, "warning", line_of(text, other))
    assert "example.org" in f["message"] and "example.com" in f["message"]


def test_endpoint_domain_compare_ignores_case(tmp_path: Path) -> None:
    text = dotnet_config(
        endpoints=endpoints_block(OWN_SIP, "sip:presence_bems01-01.corp.example.com@EXAMPLE.COM")
    )
    result, doc = check(host(tmp_path, "bems01", text))
    assert rules_of(doc, "endpoint-sip-domain") == []
    assert result.exit_code == 0


def test_own_endpoint_sip_not_a_sip_address(tmp_path: Path) -> None:
    text = swap(
        dotnet_config(endpoints=""),
        'value = "sip:presence_bems01.corp.example.com@example.com"',
        'value = "presence_bems01.corp.example.com"',
    )
    path = host(tmp_path, "bems01", text)
    result, doc = check(path)
    assert result.exit_code == 1
    f = only(doc, "endpoint-sip-invalid")
    assert (f["key"], f["severity"], f["line"]) == (OWN, "error", line_of(text, 'key = "UCMA_ENDPOINT_SIP"'))
    assert doc["capacity"][0]["endpoints"] == 0


def test_single_endpoint_from_ucma_endpoint_sip_gives_capacity(tmp_path: Path) -> None:
    text = dotnet_config(endpoints="")
    path = host(tmp_path, "bems01", text)
    result, doc = check(path)
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
    result, doc = check(host(tmp_path, "bems01", text))
    assert result.exit_code == 0, doc["findings"]
    assert doc["capacity"][0]["endpoints"] == 2
    assert doc["capacity"][0]["total"] == 4000


def test_endpoints_section_before_appsettings(tmp_path: Path) -> None:
    # the section may sit anywhere; admins paste it right after configSections
    text = HEAD + TRUSTED_ENDPOINTS + swap(TRUSTED_SETTINGS, 'value="2000"', 'value="1500"') + TAIL
    path = host(tmp_path, "bems01", text)
    result, doc = check(path)
    assert result.exit_code == 0
    assert only(doc, "endpoints-fill-in-order")["line"] == line_of(text, "<ucmaEndpointSips>")
    assert doc["capacity"][0]["total"] == 4500


# ---------------------------------------------------------------------------------------------
# Item 2: AD_USERS_SOURCE, AD_USERS_SOURCE_DOMAIN


@pytest.mark.parametrize("value", ["ADLDS", "Global Catalog", "GC;LDAP"])
def test_ad_source_invalid(tmp_path: Path, value: str) -> None:
    text = swap(dotnet_config(), 'value="GC"', f'value="{value}"')
    path = host(tmp_path, "bems01", text)
    result, doc = check(path)
    assert result.exit_code == 1
    f = only(doc, "ad-source-invalid")
    assert (f["key"], f["severity"], f["line"]) == (
        "AD_USERS_SOURCE",
        "error",
        line_of(text, f'value="{value}"'),
    )


@pytest.mark.parametrize("source", ["LDAP", ""])
def test_ad_source_ldap_or_empty_with_domain_is_info(tmp_path: Path, source: str) -> None:
    text = swap(dotnet_config(), 'value="GC"', f'value="{source}"')
    path = host(tmp_path, "bems01", text)
    result, doc = check(path)
    assert result.exit_code == 0
    assert rules_of(doc, "ad-source-invalid") == []
    f = only(doc, "ad-source-domain-unused")
    assert (f["key"], f["severity"]) == ("AD_USERS_SOURCE_DOMAIN", "info")
    assert f["line"] == line_of(text, 'value="DC=EXAMPLE,DC=COM"')


def test_ad_source_absent_with_domain_is_info(tmp_path: Path) -> None:
    text = swap(dotnet_config(), '    <add key="AD_USERS_SOURCE" value="GC" />\n', "")
    result, doc = check(host(tmp_path, "bems01", text))
    assert result.exit_code == 0
    assert only(doc, "ad-source-domain-unused")["severity"] == "info"


@pytest.mark.parametrize(
    "domain", ["DC=EXAMPLE,DC=COM", "DC=corp, DC=example, DC=com", "EXAMPLE.COM", "corp.example.com"]
)
def test_ad_domain_valid_with_gc(tmp_path: Path, domain: str) -> None:
    text = swap(dotnet_config(), 'value="DC=EXAMPLE,DC=COM"', f'value="{domain}"')
    result, doc = check(host(tmp_path, "bems01", text, "utf-16"))
    assert result.exit_code == 0, doc["findings"]
    assert not [f for f in doc["findings"] if f["key"].startswith("AD_")]


@pytest.mark.parametrize(
    "domain", ["EXAMPLE", "DC=EXAMPLE", "CN=Users,DC=EXAMPLE,DC=COM", "DC=EXAMPLE;DC=COM", "example..com"]
)
def test_ad_domain_invalid(tmp_path: Path, domain: str) -> None:
    text = swap(dotnet_config(), 'value="DC=EXAMPLE,DC=COM"', f'value="{domain}"')
    path = host(tmp_path, "bems01", text)
    result, doc = check(path)
    assert result.exit_code == 1
    f = only(doc, "ad-source-domain-invalid")
    assert (f["key"], f["severity"], f["line"]) == (
        "AD_USERS_SOURCE_DOMAIN",
        "error",
        line_of(text, f'value="{domain}"'),
    )


def test_ad_domain_without_value_attribute_is_default(tmp_path: Path) -> None:
    # the guide: "No value attribute (default) - Domain the Good Presence resides"
    text = swap(
        dotnet_config(),
        '<add key="AD_USERS_SOURCE_DOMAIN" value="DC=EXAMPLE,DC=COM" />',
        '<add key="AD_USERS_SOURCE_DOMAIN" />',
    )
    result, doc = check(host(tmp_path, "bems01", text))
    assert result.exit_code == 0
    assert not [f for f in doc["findings"] if f["key"].startswith("AD_")]


# ---------------------------------------------------------------------------------------------
# Item 2: RESTRICT_CERT_BY_FRIENDLY_NAME, LYNC_SERVER


@pytest.mark.parametrize(
    "value",
    [" BEMS Presence 2024", "BEMS Presence 2024 ", "BEMS Presence 2024&#9;", "BEMS Presence 2024\u00a0"],
)
def test_friendly_name_with_surrounding_space(tmp_path: Path, value: str) -> None:
    text = swap(dotnet_config(), 'value="BEMS Presence 2024"', f'value="{value}"')
    path = host(tmp_path, "bems01", text, "utf-16")
    result, doc = check(path)
    assert result.exit_code == 1
    f = only(doc, "friendly-name-whitespace")
    assert (f["key"], f["severity"]) == ("RESTRICT_CERT_BY_FRIENDLY_NAME", "warning")
    assert f["line"] == line_of(text, "RESTRICT_CERT_BY_FRIENDLY_NAME")


@pytest.mark.parametrize("value", ["bems presence 2024", "BEMS  Presence", ""])
def test_friendly_name_inner_spaces_case_or_empty_are_fine(tmp_path: Path, value: str) -> None:
    text = swap(dotnet_config(), 'value="BEMS Presence 2024"', f'value="{value}"')
    result, doc = check(host(tmp_path, "bems01", text))
    assert result.exit_code == 0
    assert rules_of(doc, "friendly-name-whitespace") == []


@pytest.mark.parametrize(
    "value", ["LYNCDIR01", "lyncdir01", "10.20.30.40", "lyncdir01.corp.example.com:5061"]
)
def test_lync_server_not_fqdn(tmp_path: Path, value: str) -> None:
    text = swap(dotnet_config(), 'value="lyncdir01.corp.example.com"', f'value="{value}"')
    path = host(tmp_path, "bems01", text)
    result, doc = check(path)
    assert result.exit_code == 1
    f = only(doc, "lync-server-not-fqdn")
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
    result, doc = check(host(tmp_path, "bems01", text))
    assert result.exit_code == 0
    assert rules_of(doc, "lync-server-not-fqdn") == []


# ---------------------------------------------------------------------------------------------
# Item 2: trusted-application keys


@pytest.mark.parametrize("key", [APPNAME, POOL, OWN])
def test_trusted_key_removed_points_at_appsettings(tmp_path: Path, key: str) -> None:
    lines = [line for line in TRUSTED_SETTINGS.splitlines(keepends=True) if f'"{key}"' not in line]
    text = dotnet_config("".join(lines))
    path = host(tmp_path, "bems01", text)
    result, doc = check(path)
    assert result.exit_code == 1
    f = only(doc, "trusted-key-missing")
    assert (f["key"], f["severity"], f["line"]) == (key, "error", line_of(text, "<appSettings>"))


@pytest.mark.parametrize("key", [APPNAME, POOL, OWN])
def test_trusted_key_blank_points_at_its_line(tmp_path: Path, key: str) -> None:
    settings = "".join(
        (f'    <add key="{key}" value="   " />\n' if f'"{key}"' in line else line)
        for line in TRUSTED_SETTINGS.splitlines(keepends=True)
    )
    text = dotnet_config(settings)
    path = host(tmp_path, "bems01", text, "utf-16")
    result, doc = check(path)
    assert result.exit_code == 1
    f = only(doc, "trusted-key-missing")
    assert (f["key"], f["severity"], f["line"]) == (key, "error", line_of(text, f'"{key}"'))


def test_only_endpoint_collection_puts_file_in_trusted_mode(tmp_path: Path) -> None:
    text = dotnet_config(JABBER_SETTINGS, TRUSTED_ENDPOINTS)
    path = host(tmp_path, "bems01", text)
    result, doc = check(path)
    assert result.exit_code == 1
    missing = rules_of(doc, "trusted-key-missing")
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
    result, doc = check(path)
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
        ("endpoint-sip-convention", EPS, "warning", line_of(text, "bems-presence@")),
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
# Item 1 (as used by 3): unreadable and malformed files


def test_malformed_utf16_crlf_reports_file_line_column(tmp_path: Path) -> None:
    text = swap(
        dotnet_config(),
        '<add key="MAX_SUBSCRIPTIONS_PER_ENDPOINT" value="2000" />',
        '<add key="MAX_SUBSCRIPTIONS_PER_ENDPOINT" value="2000">',
    )
    path = host(tmp_path, "bems01", text, "utf-16")
    result = invoke("check", str(path), "--format", "json")
    assert result.exit_code == 2
    assert result.stdout == ""
    # the unclosed <add> is noticed at </appSettings>: line of it, column 5 (1-based)
    assert f"{path}:{line_of(text, '</appSettings>')}:5: malformed XML" in result.stderr


def test_malformed_column_counts_characters_after_non_ascii(tmp_path: Path) -> None:
    text = swap(
        dotnet_config(),
        '    <add key="SUBSCRIPTION_EXPIRATION_SECONDS" value="180" />',
        '    <!-- Jürgen --><add key="SUBSCRIPTION_EXPIRATION_SECONDS" value="180" / >',
    )
    path = host(tmp_path, "bems01", text)
    result = invoke("check", str(path))
    assert result.exit_code == 2
    line = line_of(text, "Jürgen")
    # expat stops at the space after "/"; columns count characters, not UTF-8 bytes
    col = text.splitlines()[line - 1].index("/ >") + 2
    assert f"{path}:{line}:{col}: malformed XML" in result.stderr


def test_every_bad_file_listed_and_nothing_on_stdout(tmp_path: Path) -> None:
    good = host(tmp_path, "bems01", dotnet_config())
    broken = host(tmp_path, "bems02", dotnet_config().replace("</configuration>", "</configuratoin>"))
    missing = tmp_path / "bems03" / "LyncPresenceProviderService.exe.config"
    result = invoke("check", str(good), str(broken), str(missing), "--format", "json")
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
    result = invoke("check", str(path), "--format", "json")
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
    result = invoke("check", str(path), "--format", "json")
    assert result.exit_code == 1, result.stderr
    doc = json.loads(result.stdout)
    assert only(doc, "max-subscriptions-invalid")["line"] == line_of(text, 'value="0"')


def test_ansi_bytes_in_a_file_declared_utf8_exit_2_naming_the_file(tmp_path: Path) -> None:
    # .NET refuses these bytes too; the checker must say which file, and print nothing on stdout
    text = swap(dotnet_config(), "    <!-- Skype for Business / Lync -->", "    <!-- geändert: Jürgen -->")
    path = host(tmp_path, "bems01", text, "cp1252")
    result = invoke("check", str(path), "--format", "json")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert str(path) in result.stderr


def test_no_appsettings_only_endpoints_lines_are_null(tmp_path: Path) -> None:
    text = HEAD + TRUSTED_ENDPOINTS + TAIL
    path = host(tmp_path, "bems01", text, "utf-16")
    result, doc = check(path)
    assert result.exit_code == 1
    missing = rules_of(doc, "trusted-key-missing")
    assert sorted(f["key"] for f in missing) == sorted([APPNAME, POOL, OWN])
    assert all(f["line"] is None and f["severity"] == "error" for f in missing)
    default = only(doc, "max-subscriptions-default")
    assert (default["line"], default["severity"]) == (None, "info")
    assert doc["capacity"][0] == {
        "file": str(path),
        "endpoints": 3,
        "max_subscriptions_per_endpoint": 1000,
        "total": 3000,
    }


# ---------------------------------------------------------------------------------------------
# Item 3: several hosts compared


def host_text(
    n: int, *, app: str = "urn:application:bemspresence", pool: str = "bemspool.corp.example.com"
) -> str:
    own = f"sip:presence_bems0{n}.corp.example.com@example.com"
    settings = swap(TRUSTED_SETTINGS, OWN_SIP, own)
    settings = swap(settings, 'value="urn:application:bemspresence"', f'value="{app}"')
    settings = swap(settings, 'value="bemspool.corp.example.com"', f'value="{pool}"')
    return dotnet_config(
        settings,
        endpoints_block(own, f"sip:presence_bems0{n}-01.corp.example.com@example.com"),
    )


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
    result, doc = check(*paths)
    assert result.exit_code == 0, doc["findings"]
    assert failing(doc) == []
    assert [c["file"] for c in doc["capacity"]] == [str(p) for p in paths]
    assert [c["total"] for c in doc["capacity"]] == [4000, 4000, 4000]
    assert len(rules_of(doc, "endpoints-fill-in-order")) == 3


def test_hosts_pool_differs_reported_on_later_file(tmp_path: Path) -> None:
    one = host_text(1)
    two = host_text(2, pool="bemspool2.corp.example.com")
    p1, p2 = host(tmp_path, "bems01", one), host(tmp_path, "bems02", two, "utf-16")
    result, doc = check(p1, p2)
    assert result.exit_code == 1
    f = only(doc, "hosts-pool-differs")
    assert (f["file"], f["key"], f["severity"], f["line"]) == (
        str(p2),
        POOL,
        "warning",
        line_of(two, "bemspool2"),
    )
    assert (f["other_file"], f["other_line"]) == (str(p1), line_of(one, f'"{POOL}"'))
    assert str(p1) in f["message"]
    assert rules_of(doc, "hosts-application-differs") == []


def test_hosts_application_differs_against_first_file_that_sets_it(tmp_path: Path) -> None:
    jabber = dotnet_config(JABBER_SETTINGS, "")
    one = host_text(1)
    three = host_text(3, app="urn:application:bemspresence-dr")
    p0 = host(tmp_path, "bems00", jabber)
    p1 = host(tmp_path, "bems01", one)
    p3 = host(tmp_path, "bems03", three)
    result, doc = check(p0, p1, p3)
    assert result.exit_code == 1
    f = only(doc, "hosts-application-differs")
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
    result, doc = check(p1, p2)
    assert result.exit_code == 1
    f = only(doc, "hosts-endpoint-shared")
    assert (f["file"], f["key"], f["severity"]) == (str(p2), EPS, "error")
    assert f["line"] == line_of(two, "PRESENCE_BEMS01-01")
    assert (f["other_file"], f["other_line"]) == (str(p1), line_of(one, shared))


def test_hosts_copied_config_shares_ucma_endpoint_sip(tmp_path: Path) -> None:
    # the classic: bems01's file copied to bems02 and only the collection edited
    one = dotnet_config(endpoints="")
    two = dotnet_config(endpoints="")
    p1, p2 = host(tmp_path, "bems01", one, "utf-16"), host(tmp_path, "bems02", two)
    result, doc = check(p1, p2)
    assert result.exit_code == 1
    f = only(doc, "hosts-endpoint-shared")
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
    result, doc = check(p1, p2)
    assert result.exit_code == 1
    f = only(doc, "hosts-endpoint-shared")
    assert (f["file"], f["key"], f["line"]) == (str(p2), EPS, line_of(two, f'item="{OWN_SIP}"'))
    assert (f["other_file"], f["other_line"]) == (str(p1), line_of(one, f'"{OWN}"'))


def test_table_format_has_the_same_exit_codes(tmp_path: Path) -> None:
    p1 = host(tmp_path, "bems01", host_text(1))
    p2 = host(tmp_path, "bems02", host_text(2))
    clean = invoke("check", str(p1), str(p2))
    assert clean.exit_code == 0
    assert "Subscription capacity" in clean.stdout
    p3 = host(tmp_path, "bems03", host_text(1))  # a copy of bems01's file
    clash = invoke("check", str(p1), str(p3))
    assert clash.exit_code == 1
    assert "hosts-endpoint-shared" in clash.stdout


def test_same_file_named_twice_is_checked_once(tmp_path: Path) -> None:
    p1 = host(tmp_path, "bems01", host_text(1))
    dotted = tmp_path / "bems01" / ".." / "bems01" / "LyncPresenceProviderService.exe.config"
    result, doc = check(p1, dotted)
    assert result.exit_code == 0, doc["findings"]
    assert rules_of(doc, "hosts-endpoint-shared") == []
    assert len(doc["capacity"]) == 1


def test_host_findings_come_after_per_file_findings(tmp_path: Path) -> None:
    one = host_text(1)
    two = swap(host_text(2, pool="otherpool.corp.example.com"), 'value="2000"', 'value="0"')
    p1, p2 = host(tmp_path, "bems01", one), host(tmp_path, "bems02", two)
    result, doc = check(p1, p2)
    assert result.exit_code == 1
    rules = [f["rule"] for f in doc["findings"]]
    assert rules.index("max-subscriptions-invalid") < rules.index("hosts-pool-differs")
    assert only(doc, "max-subscriptions-invalid")["file"] == str(p2)
    assert doc["capacity"][1]["total"] is None
    assert doc["capacity"][0]["total"] == 4000


# ---------------------------------------------------------------------------------------------
# Item 4: the domain whitelist


def test_whitelist_every_separator_mixed(tmp_path: Path) -> None:
    text = "Example.com, example1.com;partner.example.org  sub.partner.example.org\nlast.example.net;\n"
    result, doc = whitelist(text)
    assert result.exit_code == 0
    assert doc["domains"] == [
        "example.com",
        "example1.com",
        "partner.example.org",
        "sub.partner.example.org",
        "last.example.net",
    ]
    assert doc["findings"] == []


def test_whitelist_table_prints_paste_ready_list() -> None:
    result = invoke("whitelist", "a.example.com ;; B.example.com,\tc.example.com")
    assert result.exit_code == 0
    assert result.stdout == "a.example.com\nb.example.com\nc.example.com\n"


@pytest.mark.parametrize(
    "entry",
    [
        "*.example.com",
        "user@example.com",
        "https://example.com",
        "10.1.2.3",
        "localhost",
        "exa_mple.com",
        "bücher.example",
    ],
)
def test_whitelist_invalid_entry_is_dropped(entry: str) -> None:
    result, doc = whitelist(f"example.com;{entry};example.org")
    assert result.exit_code == 1
    f = only(doc, "whitelist-invalid")
    assert (f["key"], f["severity"], f["line"]) == (entry, "error", 1)
    assert doc["domains"] == ["example.com", "example.org"]


def test_whitelist_duplicates_case_insensitive_with_lines(tmp_path: Path) -> None:
    path = save(
        tmp_path / "whitelist.txt", "example.com\npartner.example.org\nEXAMPLE.COM, example.org\n", "utf-16"
    )
    result, doc = whitelist("--file", str(path))
    assert result.exit_code == 1
    f = only(doc, "whitelist-duplicate")
    assert (f["key"], f["severity"], f["line"], f["file"]) == ("EXAMPLE.COM", "warning", 3, str(path))
    assert "line 1" in f["message"]
    assert doc["domains"] == ["example.com", "partner.example.org", "example.org"]


def test_whitelist_from_stdin_with_bom_and_crlf() -> None:
    data = codecs.BOM_UTF8 + b"example.com\r\n\r\nbad domain.com!\r\n"
    result, doc = whitelist("-", input=data)
    assert result.exit_code == 1
    assert doc["domains"] == ["example.com"]
    bad = {(f["key"], f["line"]) for f in rules_of(doc, "whitelist-invalid")}
    assert bad == {("bad", 3), ("domain.com!", 3)}
    assert all(f["file"] == "<stdin>" for f in doc["findings"])


def test_whitelist_file_with_utf8_bom_and_stdin_utf16(tmp_path: Path) -> None:
    path = save(tmp_path / "whitelist.txt", "example.com;\nexample.org\n")  # utf-8-sig, CRLF
    result, doc = whitelist("--file", str(path))
    assert result.exit_code == 0
    assert doc["domains"] == ["example.com", "example.org"]
    data = codecs.BOM_UTF16_LE + "example.com\r\nexample.com".encode("utf-16-le")
    result, doc = whitelist("--file", "-", input=data)
    assert result.exit_code == 1
    f = only(doc, "whitelist-duplicate")
    assert (f["line"], f["file"]) == (2, "<stdin>")


@pytest.mark.parametrize("text", ["", "  ,; \n", "*.example.com; user@example.com"])
def test_whitelist_enabled_but_empty_blocks_everything(text: str) -> None:
    result, doc = whitelist(text)
    assert result.exit_code == 1
    f = only(doc, "whitelist-empty")
    assert (f["key"], f["severity"], f["line"]) == ("whitelist", "warning", None)
    assert doc["domains"] == []


def test_whitelist_disabled_empty_is_fine() -> None:
    result, doc = whitelist("", "--disabled")
    assert result.exit_code == 0
    assert doc == {"domains": [], "findings": []}


def test_whitelist_disabled_with_domains_is_info() -> None:
    result, doc = whitelist("example.com example.org", "--disabled")
    assert result.exit_code == 0
    f = only(doc, "whitelist-disabled")
    assert f["severity"] == "info"
    assert "2" in f["message"]
    assert doc["domains"] == ["example.com", "example.org"]


def test_whitelist_argument_and_file_conflict_exits_2(tmp_path: Path) -> None:
    path = save(tmp_path / "w.txt", "example.com")
    result = invoke("whitelist", "example.org", "--file", str(path), "--format", "json")
    assert result.exit_code == 2
    assert result.stdout == ""


def test_whitelist_missing_file_exits_2(tmp_path: Path) -> None:
    result = invoke("whitelist", "--file", str(tmp_path / "nope.txt"), "--format", "json")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "nope.txt" in result.stderr
