"""An internationalised domain in the whitelist is refused with its ASCII (xn--) form to use instead."""

from __future__ import annotations

import pytest
from builders import only_finding, presence_cli, presence_whitelist
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bes_logdiag.presence.rules import PresenceRules
from bes_logdiag.presence.whitelist import normalise_whitelist


@pytest.mark.parametrize(
    ("entry", "ascii_form"),
    [
        ("bücher.example", "xn--bcher-kva.example"),
        ("BÜCHER.Example", "xn--bcher-kva.example"),
        ("münchen.example.de", "xn--mnchen-3ya.example.de"),
        ("例え.テスト", "xn--r8jz45g.xn--zckzah"),
        # IDNA 2008, as registries and browsers now read them: IDNA 2003 made these strasse.de and
        # fass.de, other people's domains
        ("straße.de", "xn--strae-oqa.de"),
        ("Faß.de", "xn--fa-hia.de"),
        ("STRAẞE.de", "xn--strae-oqa.de"),
    ],
)
def test_an_idn_entry_names_its_xn_form(entry: str, ascii_form: str) -> None:
    result, doc = presence_whitelist(f"example.com; {entry}")
    assert result.exit_code == 1
    finding = only_finding(doc, "whitelist-idn")
    assert (finding["key"], finding["severity"], finding["line"]) == (entry, "error", 1)
    assert finding["message"] == (
        f'"{entry}" is an internationalised domain name; write it in its ASCII form, {ascii_form}. '
        "It was left out."
    )
    assert doc["domains"] == ["example.com"]
    # the suggestion is a domain the whitelist takes
    fixed, fixed_doc = presence_whitelist(f"example.com; {ascii_form}")
    assert fixed.exit_code == 0
    assert fixed_doc["domains"] == ["example.com", ascii_form]


@pytest.mark.parametrize(
    "entry",
    [
        "*.bücher.example",
        "bücher",
        "bü_cher.example",
        "a..ü.example",
        "-bü.example",
        "bü-.example",
        "exam\u200dple.com",  # (a zero-width joiner pasted along: no xn-- form to offer)
    ],
)
def test_an_entry_with_no_valid_ascii_form_is_just_invalid(entry: str) -> None:
    result = presence_cli("whitelist", f"example.com,{entry}", "-f", "json")
    assert result.exit_code == 1
    assert '"rule": "whitelist-idn"' not in result.stdout


def test_the_table_on_stderr_shows_the_xn_form() -> None:
    result = presence_cli("whitelist", "bücher.example example.com")
    assert result.stdout == "example.com\n"
    assert "xn--bcher-kva.example" in result.stderr


LETTERS = st.characters(whitelist_categories=("Ll", "Lu", "Lo"), max_codepoint=0x9FFF)


@settings(max_examples=80, deadline=None)
@given(labels=st.lists(st.text(LETTERS, min_size=1, max_size=12), min_size=1, max_size=3))
def test_every_suggestion_is_the_idna_form_and_accepted(rules: PresenceRules, labels: list[str]) -> None:
    entry = ".".join(labels) + ".example"
    assume(not entry.isascii())
    assume(not set(entry) & set("ßς"))  # (IDNA 2008's own forms: the cases above)
    report = normalise_whitelist(entry, rules)
    # (and whitelist-empty: the one entry was left out)
    [finding] = [f for f in report.findings if f.rule != "whitelist-empty"]
    try:
        expected: str | None = entry.encode("idna").decode("ascii").lower()
    except UnicodeError:
        expected = None
    if expected is not None and rules.pattern("fqdn").fullmatch(expected):
        assert finding.rule == "whitelist-idn"
        assert expected in finding.message
        assert normalise_whitelist(expected, rules).domains == (expected,)
    else:
        assert finding.rule == "whitelist-invalid"
