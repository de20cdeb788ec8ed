"""Load the Presence rule data (rules.toml, beside this module) and turn rule ids into findings."""

from __future__ import annotations

import dataclasses
import enum
import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any

from bes_logdiag.presence.config import Setting
from bes_logdiag.presence.template import PLURAL, fill

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

from bes_logdiag.errors import PatternError

if TYPE_CHECKING:
    from importlib.abc import Traversable

# Every rule id and pattern name the code refers to; the loader insists the data has exactly these
# rules, so a renamed rule fails at load time instead of at the first finding.
RULE_IDS = frozenset(
    {
        "app-settings-name",
        "app-settings-repeated",
        "app-settings-element",
        "app-settings-text",
        "app-settings-elsewhere",
        "endpoints-section-name",
        "endpoints-section-repeated",
        "endpoint-attribute-unknown",
        "setting-attribute-unknown",
        "setting-key-missing",
        "max-subscriptions-invalid",
        "max-subscriptions-default",
        "endpoint-sip-invalid",
        "endpoint-sip-convention",
        "endpoint-sip-duplicate",
        "endpoint-sip-domain",
        "endpoints-fill-in-order",
        "ad-source-invalid",
        "ad-source-domain-invalid",
        "ad-source-domain-unused",
        "ad-source-domain-missing",
        "friendly-name-whitespace",
        "lync-server-not-fqdn",
        "trusted-key-missing",
        "setting-duplicate",
        "setting-misspelt",
        "setting-unknown",
        "hosts-application-differs",
        "hosts-pool-differs",
        "hosts-setting-differs",
        "hosts-endpoint-shared",
        "whitelist-invalid",
        "whitelist-idn",
        "whitelist-duplicate",
        "whitelist-empty",
        "whitelist-disabled",
    }
)
PATTERN_NAMES = frozenset(
    {"integer", "fqdn", "distinguished_name", "sip_uri", "endpoint_sip", "surrounding_space"}
)


class Severity(str, enum.Enum):
    """How bad a finding is; error and warning make the command exit 1."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class Finding:
    """One problem (or note) about a configuration file or a whitelist."""

    file: str
    key: str
    """The appSettings key, `ucmaEndpointSips`, or the whitelist entry the finding is about."""
    severity: Severity
    rule: str
    message: str
    line: int | None = None
    """1-based line of the key or item; for a missing key, the `<appSettings>` line (or None)."""
    other_file: str | None = None
    """For a finding that compares two files: the other file."""
    other_line: int | None = None


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    message: str
    """A str.format template; see the header of rules.toml for the field names."""


@dataclass(frozen=True)
class NamedPattern:
    name: str
    regex: re.Pattern[str]
    examples: tuple[str, ...]
    counter_examples: tuple[str, ...]


@dataclass(frozen=True)
class Keys:
    """The configuration key names the checks use, as spelled in rules.toml's [keys]."""

    max_subscriptions: str
    ad_source: str
    ad_source_domain: str
    friendly_name: str
    lync_server: str
    application_name: str
    trusted_pool: str
    endpoint_sip: str
    endpoint_collection: str


@dataclass(frozen=True)
class Limits:
    min: int
    max: int
    default: int


@dataclass(frozen=True)
class ChecklistItem:
    """One thing to check outside the configuration files (`presence check --checklist`)."""

    topic: str
    text: str


@dataclass(frozen=True)
class PresenceRules:
    """Everything rules.toml says, validated and compiled once."""

    source: str
    keys: Keys
    known_keys: tuple[str, ...]
    """Every appSettings key the service is known to read, spelt as the rule file (or
    --known-key) spells it; compared without regard to case."""
    uncompared_keys: tuple[str, ...]
    """Known keys that may differ from host to host."""
    max_subscriptions: Limits
    ad_sources: tuple[str, ...]
    ad_domain_applies_to: str
    trusted_markers: tuple[str, ...]
    trusted_required: tuple[str, ...]
    whitelist_separator: re.Pattern[str]
    patterns: Mapping[str, NamedPattern]
    rules: Mapping[str, Rule]
    checklist: tuple[ChecklistItem, ...]

    def pattern(self, name: str) -> re.Pattern[str]:
        return self.patterns[name].regex

    def accepting(self, keys: Iterable[str]) -> PresenceRules:
        """These rules with `keys` known too (`--known-key`)."""
        known = {k.casefold() for k in self.known_keys}
        extra = [k for k in dict.fromkeys(keys) if k.casefold() not in known]
        return dataclasses.replace(self, known_keys=(*self.known_keys, *extra))

    def setting_finding(
        self,
        rule_id: str,
        file: str,
        setting: Setting,
        *,
        other_file: str | None = None,
        other_line: int | None = None,
        **fields: object,
    ) -> Finding:
        """The finding `rule_id` about one setting of `file`: its key, line and value. An endpoint
        item counts as a setting too: its key the collection (or UCMA_ENDPOINT_SIP), its value the
        SIP."""
        return self.finding(
            rule_id,
            file=file,
            key=setting.key,
            line=setting.line,
            value=setting.value,
            other_file=other_file,
            other_line=other_line,
            **fields,
        )

    def finding(
        self,
        rule_id: str,
        *,
        file: str,
        key: str,
        line: int | None,
        other_file: str | None = None,
        other_line: int | None = None,
        **fields: object,
    ) -> Finding:
        """Build the finding for `rule_id`, filling its message template from `fields`."""
        rule = self.rules[rule_id]
        values = {"key": key, "other_file": other_file, "other_line": other_line, **fields}
        return Finding(
            file=file,
            key=key,
            severity=rule.severity,
            rule=rule.id,
            message=fill(rule.message, values),
            line=line,
            other_file=other_file,
            other_line=other_line,
        )


def presence_rules_path() -> Traversable:
    """Where rules.toml is: inside the package, in an installed wheel and a checkout alike."""
    return resources.files("bes_logdiag.presence") / "rules.toml"


def load_presence_rules(path: Traversable | None = None) -> PresenceRules:
    """Read, validate and compile the rule file; raises PatternError naming the file."""
    source = path if path is not None else presence_rules_path()
    name = str(source)
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except OSError as e:
        raise PatternError(f"{name}: cannot read the presence rules: {e}") from e
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise PatternError(f"{name}: invalid TOML: {e}") from e
    try:
        return _build(name, data)
    except (KeyError, TypeError, ValueError) as e:
        raise PatternError(f"{name}: {e}") from e


def _build(name: str, data: Mapping[str, Any]) -> PresenceRules:
    patterns = {pid: _pattern(name, pid, table) for pid, table in _table(data, "patterns").items()}
    _require_same("pattern", PATTERN_NAMES, patterns)
    rules = {rid: _rule(name, rid, table) for rid, table in _table(data, "rules").items()}
    _require_same("rule", RULE_IDS, rules)
    limits = _table(data, "max_subscriptions")
    ad_source = _table(data, "ad_source")
    trusted = _table(data, "trusted_mode")
    whitelist = _table(data, "whitelist")
    keys = _keys(_table(data, "keys"))
    known = _table(data, "known_keys")
    known_keys = (*_strings(known, "documented"), *_strings(known, "tooling"))
    _require_known(keys, known_keys)
    return PresenceRules(
        source=name,
        keys=keys,
        known_keys=known_keys,
        uncompared_keys=_strings(_table(data, "hosts"), "not_compared"),
        max_subscriptions=Limits(
            min=_int(limits, "min"), max=_int(limits, "max"), default=_int(limits, "default")
        ),
        ad_sources=_strings(ad_source, "allowed"),
        ad_domain_applies_to=_str(ad_source, "domain_applies_to"),
        trusted_markers=_strings(trusted, "markers"),
        trusted_required=_strings(trusted, "required"),
        whitelist_separator=_compile(name, "whitelist.separator", _str(whitelist, "separator")),
        patterns=patterns,
        rules=rules,
        checklist=_checklist(data.get("checklist")),
    )


def _require_known(keys: Keys, known_keys: tuple[str, ...]) -> None:
    """Every appSettings key [keys] names is a known key (the collection is an element, not a key)."""
    known = {k.casefold() for k in known_keys}
    named = [getattr(keys, f.name) for f in dataclasses.fields(Keys) if f.name != "endpoint_collection"]
    missing = [key for key in named if key.casefold() not in known]
    if missing:
        raise ValueError(f"[known_keys] lacks keys that [keys] names: {', '.join(missing)}")


def _checklist(value: Any) -> tuple[ChecklistItem, ...]:
    if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
        raise TypeError("[[checklist]] is missing or not a list of tables")
    return tuple(
        ChecklistItem(
            topic=_str(item, "topic", f"checklist #{n}"), text=_str(item, "text", f"checklist #{n}")
        )
        for n, item in enumerate(value, start=1)
    )


def _keys(table: Mapping[str, Any]) -> Keys:
    wanted = {f.name for f in dataclasses.fields(Keys)}
    _require_same("[keys] entry", wanted, table)
    return Keys(**{field: _str(table, field) for field in wanted})


def _pattern(name: str, pid: str, table: Any) -> NamedPattern:
    if not isinstance(table, Mapping):
        raise TypeError(f"pattern {pid}: expected a table")
    return NamedPattern(
        name=pid,
        regex=_compile(name, f"pattern {pid}", _str(table, "regex")),
        examples=_strings(table, "examples", f"pattern {pid}"),
        counter_examples=_strings(table, "counter_examples", f"pattern {pid}"),
    )


def _rule(name: str, rid: str, table: Any) -> Rule:
    if not isinstance(table, Mapping):
        raise TypeError(f"rule {rid}: expected a table")
    try:
        severity = Severity(_str(table, "severity"))
    except ValueError as e:
        choices = ", ".join(s.value for s in Severity)
        raise ValueError(f"rule {rid}: severity must be one of {choices}") from e
    message = _str(table, "message")
    try:
        fields = list(string.Formatter().parse(message))
    except ValueError as e:
        raise ValueError(f"rule {rid}: bad message template: {e}") from e
    for _, field, spec, _ in fields:
        if field is not None and not field.isidentifier():
            raise ValueError(f"rule {rid}: bad message template: {{{field}}} is not a field name")
        if spec and spec.count(PLURAL) > 1:
            raise ValueError(
                f"rule {rid}: bad message template: {{{field}:{spec}}} needs one {PLURAL}, "
                f"between the singular and the plural text"
            )
    return Rule(id=rid, severity=severity, message=message)


def _compile(name: str, what: str, regex: str) -> re.Pattern[str]:
    try:
        return re.compile(regex)
    except re.error as e:
        raise PatternError(f"{name}: {what}: bad regex: {e}") from e


def _require_same(what: str, wanted: frozenset[str] | set[str], got: Mapping[str, Any]) -> None:
    missing = sorted(wanted - got.keys())
    unknown = sorted(got.keys() - wanted)
    if missing:
        raise ValueError(f"{what} missing: {', '.join(missing)}")
    if unknown:
        raise ValueError(f"unknown {what}: {', '.join(unknown)}")


def _table(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key)
    if not isinstance(value, Mapping):
        raise TypeError(f"[{key}] is missing or not a table")
    return value


def _str(table: Mapping[str, Any], key: str, where: str = "") -> str:
    value = table.get(key)
    if not isinstance(value, str):
        raise TypeError(f"{where + ': ' if where else ''}{key} must be a string")
    return value


def _int(table: Mapping[str, Any], key: str) -> int:
    value = table.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{key} must be an integer")
    return value


def _strings(table: Mapping[str, Any], key: str, where: str = "") -> tuple[str, ...]:
    value = table.get(key)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TypeError(f"{where + ': ' if where else ''}{key} must be a list of strings")
    return tuple(value)


def check_patterns(rules: PresenceRules) -> list[str]:
    """Each example a pattern fails to match, or counter-example it matches, as one line."""
    problems: list[str] = []
    for pattern in rules.patterns.values():
        problems.extend(
            f"{rules.source}: pattern {pattern.name}: example {ex!r} does not match"
            for ex in pattern.examples
            if not pattern.regex.fullmatch(ex)
        )
        problems.extend(
            f"{rules.source}: pattern {pattern.name}: counter-example {ex!r} matches"
            for ex in pattern.counter_examples
            if pattern.regex.fullmatch(ex)
        )
    return problems
