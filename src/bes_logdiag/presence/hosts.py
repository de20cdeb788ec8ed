"""Compare the Presence configuration files of several hosts: what they must share and must not."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

from bes_logdiag.presence.config import PresenceConfig, Setting, as_settings, whole_number
from bes_logdiag.presence.rules import Finding, PresenceRules


def check_hosts(configs: Sequence[PresenceConfig], rules: PresenceRules) -> Iterator[Finding]:
    """Findings that compare hosts: the same settings everywhere (application, pool, and every
    other known key but a host's own), and no endpoint shared by two hosts."""
    if len(configs) < 2:
        return
    keys = rules.keys
    # (a host whose settings are all in a file this check does not read has none to compare)
    settled = [c for c in configs if c.source is None or not c.source.instead]
    yield from _same_everywhere(settled, rules, keys.application_name, "hosts-application-differs")
    yield from _same_everywhere(settled, rules, keys.trusted_pool, "hosts-pool-differs")
    if len(settled) > 1:
        yield from _settings_agree(settled, rules)
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
            yield rules.setting_finding(
                rule_id,
                config.path,
                setting,
                other_value=reference[1].value,
                other_file=reference[0],
                other_line=reference[1].line,
            )


@dataclass(frozen=True)
class _Value:
    """What one host says about one key."""

    compared: str
    """The value as compared: no surrounding space, case folded; "" when the key is absent."""
    shown: str
    """For the message: the value in quotes, or `not set`."""
    line: int | None
    """The key's line, else the `<appSettings>` line (where it would go), else None."""


def _value_of(config: PresenceConfig, key: str, rules: PresenceRules) -> _Value:
    setting = config.get(key)
    line = config.line_of(key)
    folded = key.casefold()
    is_max = folded == rules.keys.max_subscriptions.casefold()
    if setting is None:
        if is_max:
            # An absent limit is the default: a host that spells the default out agrees with it.
            default = rules.max_subscriptions.default
            return _Value(str(default), f"not set (so {default})", line)
        compared = _LDAP if folded == rules.keys.ad_source.casefold() else ""
        return _Value(compared, "not set", line)
    compared = setting.value.strip().casefold()
    if is_max and rules.pattern("integer").fullmatch(compared):
        compared = whole_number(compared)
    elif folded == rules.keys.ad_source.casefold() and compared == "":
        compared = _LDAP
    elif folded == rules.keys.ad_source_domain.casefold():
        compared = _domain(compared)
    return _Value(compared, f'"{setting.value}"', line)


_LDAP = "ldap"
"""AD_USERS_SOURCE not set, empty, or LDAP: the local Active Directory, as the guide's comment in
the file says ("LDAP - Active Directory (default)")."""
_DC = re.compile(r"\s*dc\s*=\s*([^,=]+?)\s*(?:,|$)")


def _domain(value: str) -> str:
    """A domain as AD_USERS_SOURCE_DOMAIN names it, folded: ``DC=EXAMPLE, DC=COM`` (the guide's
    own spacing), ``DC=EXAMPLE,DC=COM`` and ``EXAMPLE.COM`` all as ``example.com``."""
    parts = _DC.findall(value)
    if parts and "".join(f"dc={p}," for p in parts).rstrip(",") == re.sub(r"\s+", "", value).rstrip(","):
        return ".".join(parts)
    return value


def _settings_agree(configs: Sequence[PresenceConfig], rules: PresenceRules) -> Iterator[Finding]:
    """Every known key (but a host's own, rules.toml's [hosts]) with the same value on every host.

    The value most hosts have is the reference (the first such file names it), so one odd host out
    of three gets one finding, not the two others. An absent key counts as an empty value.
    """
    keys = rules.keys
    skipped = {k.casefold() for k in (*rules.uncompared_keys, keys.application_name, keys.trusted_pool)}
    for key in rules.known_keys:
        if key.casefold() in skipped:
            continue
        values = [_value_of(config, key, rules) for config in configs]
        counts = Counter(v.compared for v in values)
        if len(counts) < 2:
            continue
        most = max(counts.values())
        ref = next(n for n, v in enumerate(values) if counts[v.compared] == most)
        reference, ref_file = values[ref], configs[ref].path
        where = f"{ref_file} (line {reference.line})" if reference.line is not None else ref_file
        for config, value in zip(configs, values):
            if value.compared != reference.compared:
                yield rules.finding(
                    "hosts-setting-differs",
                    file=config.path,
                    key=key,
                    line=value.line,
                    other_file=ref_file,
                    other_line=reference.line,
                    shown=value.shown,
                    other_shown=reference.shown,
                    other_where=where,
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
                yield rules.setting_finding(
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
    candidates += as_settings(rules.keys.endpoint_collection, config.endpoints)
    for endpoint in candidates:
        folded = endpoint.value.strip().casefold()
        if folded and folded not in seen:
            seen.add(folded)
            yield endpoint
