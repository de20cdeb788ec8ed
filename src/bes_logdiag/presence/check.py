"""Check parsed Presence configuration files, alone and against each other; size their capacity."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace

from bes_logdiag.presence.config import EndpointItem, PresenceConfig, Setting
from bes_logdiag.presence.rules import Finding, PresenceRules, Severity

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
    capacity: tuple[Capacity, ...]

    @property
    def failed(self) -> bool:
        """True when any finding is an error or a warning (exit code 1)."""
        return any(f.severity in FAILING for f in self.findings)


def check_configs(configs: Sequence[PresenceConfig], rules: PresenceRules) -> CheckReport:
    """Check each file, then compare the files (one per BEMS host) with each other."""
    findings: list[Finding] = []
    for config in configs:
        findings.extend(sorted(check_config(config, rules), key=lambda f: f.line or 0))
    findings.extend(check_hosts(configs, rules))
    return CheckReport(tuple(findings), tuple(capacity_of(c, rules) for c in configs))


def check_config(config: PresenceConfig, rules: PresenceRules) -> Iterator[Finding]:
    """Every finding about one file on its own."""
    yield from _repeated_settings(config, rules)
    yield from _max_subscriptions(config, rules)
    yield from _endpoints(config, rules)
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
    number = int(setting.value)
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


def _finding(
    rules: PresenceRules,
    rule_id: str,
    file: str,
    setting: Setting,
    *,
    other_file: str | None = None,
    other_line: int | None = None,
    **fields: object,
) -> Finding:
    """The finding `rule_id` about one setting of `file`: its key, line and value. An endpoint
    item counts as a setting too: its key the collection (or UCMA_ENDPOINT_SIP), its value the SIP."""
    return rules.finding(
        rule_id,
        file=file,
        key=setting.key,
        line=setting.line,
        value=setting.value,
        other_file=other_file,
        other_line=other_line,
        **fields,
    )


def _repeated_settings(config: PresenceConfig, rules: PresenceRules) -> Iterator[Finding]:
    first_lines: dict[str, int] = {}
    for setting in config.settings:
        first = first_lines.setdefault(setting.key.casefold(), setting.line)
        if first != setting.line:
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
        yield _finding(rules, "max-subscriptions-invalid", config.path, named, min=limits.min, max=limits.max)


def _endpoints(config: PresenceConfig, rules: PresenceRules) -> Iterator[Finding]:
    sip_uri = rules.pattern("sip_uri")
    own = config.get(rules.keys.endpoint_sip)
    expected_domain = None
    if own is not None and own.value:
        own_match = sip_uri.fullmatch(own.value)
        if own_match is None:
            yield _finding(rules, "endpoint-sip-invalid", config.path, own)
        else:
            expected_domain = own_match["domain"]
            yield from _convention(config, rules, own)

    collection = rules.keys.endpoint_collection
    first_lines: dict[str, int] = {}
    for entry in _as_settings(collection, config.endpoints):
        match = sip_uri.fullmatch(entry.value)
        if match is None:
            yield _finding(rules, "endpoint-sip-invalid", config.path, entry)
            continue
        first = first_lines.setdefault(entry.value.casefold(), entry.line)
        if first != entry.line:
            yield _finding(rules, "endpoint-sip-duplicate", config.path, entry, first_line=first)
            continue
        yield from _convention(config, rules, entry)
        if expected_domain and match["domain"].casefold() != expected_domain.casefold():
            yield _finding(
                rules,
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


def _as_settings(key: str, items: Iterable[EndpointItem]) -> Iterator[Setting]:
    """Endpoint items as settings of `key`, so one helper words the findings about either."""
    for item in items:
        yield Setting(key, item.sip, item.line)


def _convention(config: PresenceConfig, rules: PresenceRules, endpoint: Setting) -> Iterator[Finding]:
    if not rules.pattern("endpoint_sip").fullmatch(endpoint.value):
        yield _finding(rules, "endpoint-sip-convention", config.path, endpoint)


def _ad_source(config: PresenceConfig, rules: PresenceRules) -> Iterator[Finding]:
    keys = rules.keys
    source = config.get(keys.ad_source)
    if source is not None and source.value not in rules.ad_sources:
        allowed = ", ".join(f'"{v}"' for v in rules.ad_sources)
        yield _finding(rules, "ad-source-invalid", config.path, source, allowed=allowed)
    domain = config.get(keys.ad_source_domain)
    if domain is None or not domain.value:
        return
    if not (
        rules.pattern("distinguished_name").fullmatch(domain.value)
        or rules.pattern("fqdn").fullmatch(domain.value)
    ):
        yield _finding(rules, "ad-source-domain-invalid", config.path, domain)
    source_value = source.value if source is not None else ""
    if source_value != rules.ad_domain_applies_to:
        yield _finding(rules, "ad-source-domain-unused", config.path, domain, other_value=source_value)


def _friendly_name(config: PresenceConfig, rules: PresenceRules) -> Iterator[Finding]:
    setting = config.get(rules.keys.friendly_name)
    if setting is not None and rules.pattern("surrounding_space").fullmatch(setting.value):
        yield _finding(rules, "friendly-name-whitespace", config.path, setting)


def _lync_server(config: PresenceConfig, rules: PresenceRules) -> Iterator[Finding]:
    setting = config.get(rules.keys.lync_server)
    if setting is not None and setting.value and not rules.pattern("fqdn").fullmatch(setting.value):
        yield _finding(rules, "lync-server-not-fqdn", config.path, setting)


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


def check_hosts(configs: Sequence[PresenceConfig], rules: PresenceRules) -> Iterator[Finding]:
    """Findings that compare hosts: same application and pool everywhere, no shared endpoint."""
    if len(configs) < 2:
        return
    keys = rules.keys
    yield from _same_everywhere(configs, rules, keys.application_name, "hosts-application-differs")
    yield from _same_everywhere(configs, rules, keys.trusted_pool, "hosts-pool-differs")
    yield from _shared_endpoints(configs, rules)


def _same_everywhere(
    configs: Sequence[PresenceConfig], rules: PresenceRules, key: str, rule_id: str
) -> Iterator[Finding]:
    # The first file that sets the key is the reference; unset keys are trusted-key-missing's job.
    reference = None
    for config in configs:
        setting = config.get(key)
        if setting is None or not setting.value.strip():
            continue
        if reference is None:
            reference = (config.path, setting)
        elif setting.value.strip().casefold() != reference[1].value.strip().casefold():
            yield _finding(
                rules,
                rule_id,
                config.path,
                setting,
                other_value=reference[1].value,
                other_file=reference[0],
                other_line=reference[1].line,
            )


def _shared_endpoints(configs: Sequence[PresenceConfig], rules: PresenceRules) -> Iterator[Finding]:
    owners: dict[str, tuple[str, int]] = {}
    for config in configs:
        for endpoint in _all_endpoints(config, rules):
            folded = endpoint.value.strip().casefold()
            owner = owners.get(folded)
            if owner is None:
                owners[folded] = (config.path, endpoint.line)
            elif owner[0] != config.path:
                yield _finding(
                    rules,
                    "hosts-endpoint-shared",
                    config.path,
                    endpoint,
                    other_file=owner[0],
                    other_line=owner[1],
                )


def _all_endpoints(config: PresenceConfig, rules: PresenceRules) -> Iterator[Setting]:
    """UCMA_ENDPOINT_SIP and every collection item, each SIP once, blank ones left out."""
    seen: set[str] = set()
    own = config.get(rules.keys.endpoint_sip)
    # Named as rules.toml spells the key, whatever its case in the file.
    candidates = [replace(own, key=rules.keys.endpoint_sip)] if own else []
    candidates += _as_settings(rules.keys.endpoint_collection, config.endpoints)
    for endpoint in candidates:
        folded = endpoint.value.strip().casefold()
        if folded and folded not in seen:
            seen.add(folded)
            yield endpoint
