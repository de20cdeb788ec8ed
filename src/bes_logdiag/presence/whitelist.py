"""Normalise a Presence domain whitelist and flag invalid, repeated or missing domains."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from bes_logdiag.presence.check import FAILING
from bes_logdiag.presence.rules import Finding, PresenceRules

WHITELIST_KEY = "whitelist"


@dataclass(frozen=True)
class WhitelistEntry:
    text: str
    line: int
    """1-based line of the entry in the input (entries may be separated by new lines)."""


@dataclass(frozen=True)
class WhitelistReport:
    domains: tuple[str, ...]
    """Valid domains, lower-cased, first occurrence of each, in input order."""
    findings: tuple[Finding, ...]

    @property
    def failed(self) -> bool:
        """True when any finding is an error or a warning (exit code 1)."""
        return any(f.severity in FAILING for f in self.findings)


def split_whitelist(text: str, rules: PresenceRules) -> Iterator[WhitelistEntry]:
    """The entries of `text`, split on any run of the separators the Dashboard accepts."""
    start = 0
    for match in rules.whitelist_separator.finditer(text):
        if match.start() > start:
            yield _entry(text, start, match.start())
        start = match.end()
    if start < len(text):
        yield _entry(text, start, len(text))


def _entry(text: str, start: int, end: int) -> WhitelistEntry:
    return WhitelistEntry(text[start:end], text.count("\n", 0, start) + 1)


def ascii_domain(text: str, rules: PresenceRules) -> str | None:
    """The ASCII (``xn--``) form of an internationalised domain name such as ``bücher.example``,
    lower-cased; None when `text` is ASCII already or has no valid ASCII form (Python's ``idna``
    codec, IDNA 2003, but for the letters IDNA 2008 keeps, `_DEVIATIONS`)."""
    # A label may not start or end with a hyphen (the rule IDNA's STD3 check applies, which
    # Python's codec leaves out): "-bü.example" would otherwise come back as a valid-looking name.
    if text.isascii() or any(label.startswith("-") or label.endswith("-") for label in text.split(".")):
        return None
    try:
        encoded = ".".join(_ascii_label(label) for label in text.split(".")).lower()
    except UnicodeError:  # an empty or over-long label, a character IDNA refuses
        return None
    return encoded if rules.pattern("fqdn").fullmatch(encoded) else None


_DEVIATIONS = frozenset("ßẞς")
"""Letters IDNA 2003 maps away (``ß`` to ``ss``) and IDNA 2008, which DNS registries and browsers
use now, keeps: ``straße.de`` is ``xn--strae-oqa.de``, and ``strasse.de`` another domain."""
_JOINERS = frozenset("\u200c\u200d")
"""Zero-width joiners: IDNA 2003 drops them, IDNA 2008 allows them only after certain scripts'
viramas, never in a Latin name pasted with one; no ASCII form is offered."""


def _ascii_label(label: str) -> str:
    if label.isascii():
        return label
    if _JOINERS & set(label):
        raise UnicodeError("a zero-width joiner")
    if _DEVIATIONS & set(label):
        # (IDNA 2008's form: the label mapped as IDNA does, compatibility forms and case, then punycode)
        mapped = unicodedata.normalize("NFKC", label).lower()
        return "xn--" + mapped.encode("punycode").decode("ascii")
    return label.encode("idna").decode("ascii")


def normalise_whitelist(
    text: str, rules: PresenceRules, *, source: str = "<argument>", enabled: bool = True
) -> WhitelistReport:
    """Normalise a whitelist; `enabled`: whitelisting is switched on in the Dashboard."""
    domains: list[str] = []
    first_lines: dict[str, int] = {}
    findings: list[Finding] = []
    fqdn = rules.pattern("fqdn")
    for entry in split_whitelist(text, rules):
        domain = entry.text.lower()
        fields: dict[str, Any] = {}  # Any: mypy cannot tell these from finding()'s typed keywords
        if not fqdn.fullmatch(entry.text):
            ascii_form = ascii_domain(entry.text, rules)
            if ascii_form is not None:
                rule_id, fields = "whitelist-idn", {"ascii": ascii_form}
            else:
                rule_id = "whitelist-invalid"
        elif domain in first_lines:
            rule_id, fields = "whitelist-duplicate", {"first_line": first_lines[domain]}
        else:
            first_lines[domain] = entry.line
            domains.append(domain)
            continue
        findings.append(
            rules.finding(rule_id, file=source, key=entry.text, line=entry.line, entry=entry.text, **fields)
        )
    if enabled and not domains:
        findings.append(rules.finding("whitelist-empty", file=source, key=WHITELIST_KEY, line=None))
    if not enabled and domains:
        findings.append(
            rules.finding("whitelist-disabled", file=source, key=WHITELIST_KEY, line=None, count=len(domains))
        )
    return WhitelistReport(tuple(domains), tuple(findings))
