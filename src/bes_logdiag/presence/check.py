"""Check parsed Presence configuration files, each on its own and then across hosts; size their capacity."""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

from bes_logdiag.presence.config import (
    APP_SETTINGS,
    EndpointItem,
    PresenceConfig,
    Setting,
    as_settings,
    whole_number,
)
from bes_logdiag.presence.hosts import check_hosts
from bes_logdiag.presence.rules import ChecklistItem, Finding, PresenceRules, Severity

FAILING = frozenset({Severity.ERROR, Severity.WARNING})


@dataclass(frozen=True)
class Capacity:
    """How many presence subscriptions one host can hold."""

    file: str
    endpoints: int
    """Distinct well-formed endpoint SIPs: the ucmaEndpointSips items, else UCMA_ENDPOINT_SIP."""
    per_endpoint: int | None
    """MAX_SUBSCRIPTIONS_PER_ENDPOINT (or its default); None when the value is invalid."""
    total: int | None


@dataclass(frozen=True)
class CheckReport:
    findings: tuple[Finding, ...]
    """Grouped by file, in the order the files were given, and by line within a file."""
    capacity: tuple[Capacity, ...]
    checklist: tuple[ChecklistItem, ...] = ()
    """What to check outside the files; empty unless asked for."""

    @property
    def failed(self) -> bool:
        """True when any finding is an error or a warning (exit code 1)."""
        return any(f.severity in FAILING for f in self.findings)


def check_configs(
    configs: Sequence[PresenceConfig], rules: PresenceRules, *, checklist: bool = False
) -> CheckReport:
    """Check each file, then compare the files (one per BEMS host) with each other; `checklist`:
    add what the admin must still check outside the files."""
    findings = [f for config in configs for f in check_config(config, rules)]
    findings.extend(check_hosts(configs, rules))
    # A file's findings read top to bottom, whichever check found them; a finding without a line
    # (the file has no <appSettings>) concerns the whole file and comes first.
    order = {config.path: n for n, config in enumerate(configs)}
    findings.sort(key=lambda f: (order.get(f.file, len(order)), f.line or 0))
    return CheckReport(
        tuple(findings),
        tuple(capacity_of(c, rules) for c in configs),
        rules.checklist if checklist else (),
    )


def check_config(config: PresenceConfig, rules: PresenceRules) -> Iterator[Finding]:
    """Every finding about one file on its own."""
    for r in config.refused:
        yield rules.finding(
            r.rule, file=config.path, key=r.key, line=r.line,
            element=r.element, attribute=r.attribute, value=r.value, first_line=r.first_line,
        )  # fmt: skip
    source = config.source
    if source is not None:
        how = "the settings are in that file instead" if source.instead else "its settings override these"
        yield rules.finding("app-settings-elsewhere", file=config.path, key=APP_SETTINGS, line=source.line,
                            attribute=source.attribute, value=source.path, how=how)  # fmt: skip
    # (the settings all elsewhere: none is missing, invalid or default here, they were not seen)
    seen = source is None or not source.instead
    yield from _unknown_keys(config, rules)
    yield from _repeated_settings(config, rules)
    if seen:
        yield from _max_subscriptions(config, rules)
    yield from _endpoints(config, rules)
    if seen:
        yield from _ad_source(config, rules)
        yield from _friendly_name(config, rules)
        yield from _lync_server(config, rules)
        yield from _trusted_mode(config, rules)


def per_endpoint_limit(config: PresenceConfig, rules: PresenceRules) -> int | None:
    """MAX_SUBSCRIPTIONS_PER_ENDPOINT as a number, the default when absent, None when invalid."""
    setting = config.get(rules.keys.max_subscriptions)
    if setting is None:
        return rules.max_subscriptions.default
    if not rules.pattern("integer").fullmatch(setting.value):
        return None
    digits = whole_number(setting.value)
    if len(digits) > len(str(rules.max_subscriptions.max)):
        return None  # (more digits than the limit has: beyond it, however many thousand)
    number = int(digits)
    limits = rules.max_subscriptions
    return number if limits.min <= number <= limits.max else None


def effective_endpoints(config: PresenceConfig, rules: PresenceRules) -> list[EndpointItem]:
    """The distinct well-formed endpoints the service would use, first occurrence of each.

    The guide's multi-endpoint example lists the original endpoint inside ucmaEndpointSips, so a
    non-empty collection is taken as the full list; otherwise UCMA_ENDPOINT_SIP is the one endpoint.
    """
    items = list(config.endpoints)
    if not items:
        setting = config.get(rules.keys.endpoint_sip)
        items = [EndpointItem(setting.value, setting.line)] if setting else []
    seen: set[str] = set()
    unique = []
    for item in items:
        if rules.pattern("sip_uri").fullmatch(item.sip) and item.sip.casefold() not in seen:
            seen.add(item.sip.casefold())
            unique.append(item)
    return unique


def capacity_of(config: PresenceConfig, rules: PresenceRules) -> Capacity:
    endpoints = len(effective_endpoints(config, rules))
    per_endpoint = per_endpoint_limit(config, rules)
    total = endpoints * per_endpoint if per_endpoint is not None else None
    return Capacity(config.path, endpoints, per_endpoint, total)


SUGGEST_CUTOFF = 0.6
"""How alike an unknown key and a known one must be (difflib's ratio) for a "did you mean"; the
value `patterns check` uses for its own unknown keys."""


def _unknown_keys(config: PresenceConfig, rules: PresenceRules) -> Iterator[Finding]:
    """Every key the service does not know, with the known key it most resembles. A misspelt key
    is not an error to .NET: the line is ignored and the setting it meant keeps its default."""
    known = {key.casefold(): key for key in rules.known_keys}
    for setting in config.settings:
        if setting.key.casefold() in known:
            continue
        bare = setting.key.strip().casefold()
        if bare in known:  # (white space around a known key: .NET reads another key, and ignores it)
            suggestion = f'{known[bare]} (this key is "{setting.key}", with white space around it)'
            yield rules.setting_finding("setting-misspelt", config.path, setting, suggestion=suggestion)
            continue
        close = difflib.get_close_matches(setting.key.casefold(), list(known), n=1, cutoff=SUGGEST_CUTOFF)
        if close:
            yield rules.setting_finding("setting-misspelt", config.path, setting, suggestion=known[close[0]])
        else:
            yield rules.setting_finding("setting-unknown", config.path, setting)


def _repeated_settings(config: PresenceConfig, rules: PresenceRules) -> Iterator[Finding]:
    first_lines: dict[str, int] = {}
    for setting in config.settings:
        key = setting.key.casefold()
        if key not in first_lines:  # (the first of a key; a repeat on the same line is one too)
            first_lines[key] = setting.line
        else:
            first = first_lines[key]
            yield rules.finding(
                "setting-duplicate",
                file=config.path,
                key=setting.key,
                line=setting.line,
                first_line=first,
            )


def _max_subscriptions(config: PresenceConfig, rules: PresenceRules) -> Iterator[Finding]:
    key = rules.keys.max_subscriptions
    limits = rules.max_subscriptions
    setting = config.get(key)
    if setting is None:
        yield rules.finding(
            "max-subscriptions-default",
            file=config.path,
            key=key,
            line=config.app_settings_line,
            default=limits.default,
        )
    elif per_endpoint_limit(config, rules) is None:
        # The message names the key as rules.toml spells it, whatever its case in the file.
        named = replace(setting, key=key)
        yield rules.setting_finding(
            "max-subscriptions-invalid", config.path, named, min=limits.min, max=limits.max
        )


def _endpoints(config: PresenceConfig, rules: PresenceRules) -> Iterator[Finding]:
    sip_uri = rules.pattern("sip_uri")
    own = config.get(rules.keys.endpoint_sip)
    expected_domain = None
    if own is not None and own.value:
        own_match = sip_uri.fullmatch(own.value)
        if own_match is None:
            yield rules.setting_finding("endpoint-sip-invalid", config.path, own)
        else:
            expected_domain = own_match["domain"]
            yield from _convention(config, rules, own)

    collection = rules.keys.endpoint_collection
    first_lines: dict[str, int] = {}
    for entry in as_settings(collection, config.endpoints):
        match = sip_uri.fullmatch(entry.value)
        if match is None:
            yield rules.setting_finding("endpoint-sip-invalid", config.path, entry)
            continue
        sip = entry.value.casefold()
        if sip in first_lines:  # (a repeat, on the same line as the first or not)
            first = first_lines[sip]
            yield rules.setting_finding("endpoint-sip-duplicate", config.path, entry, first_line=first)
            continue
        first_lines[sip] = entry.line
        yield from _convention(config, rules, entry)
        if expected_domain and match["domain"].casefold() != expected_domain.casefold():
            yield rules.setting_finding(
                "endpoint-sip-domain",
                config.path,
                entry,
                domain=match["domain"],
                expected_domain=expected_domain,
                reference_key=rules.keys.endpoint_sip,
            )

    count = len(effective_endpoints(config, rules))
    if count > 1:
        per_endpoint = per_endpoint_limit(config, rules)
        yield rules.finding(
            "endpoints-fill-in-order",
            file=config.path,
            key=collection,
            line=config.endpoints_line,
            count=count,
            per_endpoint=per_endpoint if per_endpoint is not None else "its maximum number of",
        )


def _convention(config: PresenceConfig, rules: PresenceRules, endpoint: Setting) -> Iterator[Finding]:
    if not rules.pattern("endpoint_sip").fullmatch(endpoint.value):
        yield rules.setting_finding("endpoint-sip-convention", config.path, endpoint)


def _ad_source(config: PresenceConfig, rules: PresenceRules) -> Iterator[Finding]:
    keys = rules.keys
    source = config.get(keys.ad_source)
    if source is not None and source.value not in rules.ad_sources:
        allowed = ", ".join(f'"{v}"' for v in rules.ad_sources)
        yield rules.setting_finding("ad-source-invalid", config.path, source, allowed=allowed)
    domain = config.get(keys.ad_source_domain)
    if domain is None or not domain.value:
        if source is not None and source.value == rules.ad_domain_applies_to:
            # The guide sets the two together; a missing domain is reported where it belongs
            # (its own line when the key is there, empty) or beside AD_USERS_SOURCE.
            line = domain.line if domain is not None else source.line
            yield rules.finding(
                "ad-source-domain-missing",
                file=config.path,
                key=keys.ad_source_domain,
                line=line,
                source_key=keys.ad_source,
            )
        return
    if not (
        rules.pattern("distinguished_name").fullmatch(domain.value)
        or rules.pattern("fqdn").fullmatch(domain.value)
    ):
        yield rules.setting_finding("ad-source-domain-invalid", config.path, domain)
    source_value = source.value if source is not None else ""
    if source_value != rules.ad_domain_applies_to:
        yield rules.setting_finding("ad-source-domain-unused", config.path, domain, other_value=source_value)


def _friendly_name(config: PresenceConfig, rules: PresenceRules) -> Iterator[Finding]:
    setting = config.get(rules.keys.friendly_name)
    if setting is not None and rules.pattern("surrounding_space").fullmatch(setting.value):
        yield rules.setting_finding("friendly-name-whitespace", config.path, setting)


def _lync_server(config: PresenceConfig, rules: PresenceRules) -> Iterator[Finding]:
    setting = config.get(rules.keys.lync_server)
    if setting is not None and setting.value and not rules.pattern("fqdn").fullmatch(setting.value):
        yield rules.setting_finding("lync-server-not-fqdn", config.path, setting)


def trusted_markers(config: PresenceConfig, rules: PresenceRules) -> list[str]:
    """The markers that put this file in trusted-application mode (empty: not in that mode)."""
    found = []
    for marker in rules.trusted_markers:
        if marker == rules.keys.endpoint_collection:
            if config.endpoints:
                found.append(marker)
        elif config.value(marker).strip():
            found.append(marker)
    return found


def _trusted_mode(config: PresenceConfig, rules: PresenceRules) -> Iterator[Finding]:
    markers = trusted_markers(config, rules)
    if not markers:
        return
    for key in rules.trusted_required:
        if not config.value(key).strip():
            yield rules.finding(
                "trusted-key-missing",
                file=config.path,
                key=key,
                line=config.line_of(key),
                markers=", ".join(markers),
            )
