"""Pseudonyms keep what the diagnosis joins on (README "Identities", BES-LOGS.md section 3) and
nothing else: an address still has the shape of the display name it had the shape of, and no
other; a user id, PIN or IMEI has one pseudonym no other one shares; the same key gives the same
pseudonyms, another key others; the key file is made once, private, and read back."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import stat
import sys
from pathlib import Path

import pytest
from builders import address_fold
from hypothesis import given, settings
from hypothesis import strategies as st

from bes_logdiag.names import clean_name, email_key, fold, name_keys
from bes_logdiag.redact import RedactError
from bes_logdiag.redact.keys import load_key
from bes_logdiag.redact.mapping import Mapping
from bes_logdiag.redact.permute import KeyedHash
from bes_logdiag.redact.pseudonyms import Pseudonyms


@pytest.fixture(scope="module")
def ps(tmp_path_factory: pytest.TempPathFactory) -> Pseudonyms:
    return Pseudonyms(load_key(tmp_path_factory.mktemp("key") / "k"))


# ---------------------------------------------------------------------------------------------
# names: the join by name shape holds exactly where it held
# ---------------------------------------------------------------------------------------------

letters = st.sampled_from(list("abcdefghijklmnopqrstuvwxyzäöüßéèçñøåłžÆÉ"))
word = st.text(letters, min_size=1, max_size=9).map(lambda w: w[0].upper() + w[1:])
part = st.lists(word, min_size=1, max_size=3).map(" ".join)  # "de Vries", "Anne Marie"
hyphenated = st.one_of(part, st.tuples(word, word).map("-".join))


def _shape_address(first: str, last: str, sep: str, domain: str) -> str:
    return f"{address_fold(first)}{sep}{address_fold(last)}@{domain}"


@settings(max_examples=300, deadline=None)
@given(
    first=hyphenated,
    last=hyphenated,
    other=hyphenated,
    sep=st.sampled_from([".", "_", "-", ""]),
    domain=st.sampled_from(["example.net", "corp.example", "Example.COM"]),
    comma=st.booleans(),
    own=st.booleans(),
)
def test_an_address_fits_a_display_name_after_redaction_exactly_when_it_did_before(
    ps: Pseudonyms, first: str, last: str, other: str, sep: str, domain: str, comma: bool, own: bool
) -> None:
    display = f"{last}, {first}" if comma else f"{first} {last}"
    address = _shape_address(first if own else other, last, sep, domain)
    before = email_key(address) in name_keys(clean_name(display) or "")
    after = email_key(ps.address(address)) in name_keys(ps.display(display))
    assert after == before


@pytest.mark.parametrize(
    "display, address",
    [
        ("Dundas, Ian", "ian.dundas@example.net"),
        ("Ian Dundas", "ian_dundas@example.net"),
        ("Müller, Jörg", "joerg.mueller@example.eu"),
        ("de Vries, Jan", "jan.devries@example.nl"),
        ("O'Brien, Seán", "sean.o'brien@example.ie"),
        ("Smith-Jones, Anne-Marie", "anne-marie.smith-jones@example.com"),
        ("Test User1", "test.user1@example.com"),
    ],
)
def test_the_seed_shapes_of_name_and_address_still_join(ps: Pseudonyms, display: str, address: str) -> None:
    assert email_key(address) in name_keys(display)
    pseudo_display, pseudo_address = ps.display(display), ps.address(address)
    assert email_key(pseudo_address) in name_keys(pseudo_display)
    assert fold(display) not in fold(pseudo_display) and address not in pseudo_address


def test_one_person_has_one_pseudonym_however_the_logs_space_or_case_the_name(ps: Pseudonyms) -> None:
    assert ps.display("Dundas,  Ian") == ps.display("Dundas, Ian") == ps.display(" Dundas, Ian ")
    assert fold(ps.display("DUNDAS, Ian")) == fold(ps.display("Dundas, Ian"))
    assert ps.address("Ian.Dundas@Example.NET") == ps.address("ian.dundas@example.net")
    assert ps.display("Dundas, Ian") != ps.display("Dundas, Ann")
    assert ps.address("ian.dundas@example.net") != ps.address("ian.dundas@example.com")


def test_a_pseudonymous_display_name_is_shown_with_its_spaces_and_case(ps: Pseudonyms) -> None:
    last, _, first = ps.display("de Vries, Jan").partition(", ")
    assert len(last.split(" ")) == 2 and last.split(" ")[0].islower() and last.split(" ")[1][0].isupper()
    assert first[0].isupper() and first[1:].islower() and first.isalpha()


def test_blackberry_relays_are_kept(ps: Pseudonyms) -> None:
    assert ps.address("network@etp1006.etp.na.blackberry.net") == "network@etp1006.etp.na.blackberry.net"
    assert ps.host("srp.na.blackberry.net") == "srp.na.blackberry.net"


def test_hosts_of_one_domain_stay_in_one_pseudonymous_domain(ps: Pseudonyms) -> None:
    mail, web = ps.host("mail.corp.example.com"), ps.host("web.corp.example.com")
    assert mail.endswith(".example") and web.endswith(".example")
    assert mail.split(".", 1)[1] == web.split(".", 1)[1] and mail != web
    assert ps.address("ian@corp.example.com").split("@")[1] == ps.host("corp.example.com")


# ---------------------------------------------------------------------------------------------
# numbers: one to one, and outside the originals
# ---------------------------------------------------------------------------------------------


def test_user_ids_have_pseudonyms_no_two_share_and_no_original_has(ps: Pseudonyms) -> None:
    originals = [str(n) for n in range(0, 3000)] + ["0042", "12345678", "123456789", "99999999999"]
    pseudonyms = [ps.user_id(u) for u in originals]
    assert len(set(pseudonyms)) == len(originals)
    assert all(p.isdigit() and p.startswith("9") and len(p) >= 10 for p in pseudonyms)
    assert not set(pseudonyms) & set(originals)


def test_pins_and_imeis_keep_their_form_and_are_one_to_one(ps: Pseudonyms) -> None:
    pins = [f"{n:08X}" for n in range(0x2000_0000, 0x2000_0000 + 2000)]
    out = [ps.pin(p) for p in pins]
    assert len(set(out)) == len(pins) and all(len(p) == 8 and int(p, 16) >= 0 for p in out)
    # the case kept (by no letter of the other case: a pseudonym may be digits only, with no letter)
    low, high = ps.pin("2e219ae4"), ps.pin("2E219AE4")
    assert low == low.lower() and high == high.upper() and low.upper() == high
    imei = ps.imei("35-693803-564380-9")
    digits = [int(c) for c in imei if c.isdigit()]
    assert imei[2] == "-" and imei[9] == "-" and len(digits) == 15
    # the check digit (Luhn) still checks
    total = sum(
        d if i % 2 == 0 else (2 * d - 9 if 2 * d > 9 else 2 * d) for i, d in enumerate(reversed(digits))
    )
    assert total % 10 == 0 and imei != "35-693803-564380-9"


def test_a_pin_in_mixed_case_comes_back_in_capitals_as_a_digits_only_one(ps: Pseudonyms) -> None:
    # (upper case: no lower-case letter; a pseudonym of digits only has none either)
    assert all(p == p.upper() for p in (ps.pin("2E219ae4"), ps.pin("12345678")))
    assert ps.pin("2E219ae4") == ps.pin("2E219AE4") != ps.pin("12345678")


@pytest.mark.parametrize("size", [1, 32, 64, 65, 200])
def test_the_keyed_hash_is_hmac_sha256_of_the_kind_and_value(size: int) -> None:
    secret = os.urandom(size)
    expected = hmac.new(secret, b"pin/0\x0012345", hashlib.sha256).digest()  # kind, NUL, value
    assert KeyedHash(secret).digest("pin/0", "12345") == expected


@settings(max_examples=30, deadline=None)
@given(st.sampled_from([1 << 32, 111_111_110, 10**14, 1000, 7]), st.data())
def test_a_permutation_gives_the_same_with_its_round_tables_as_without(
    size: int, data: st.DataObject
) -> None:
    secret = b"k" * 32
    tabled, untabled = KeyedHash(secret), KeyedHash(secret)
    untabled.permute("pin", 0, size)
    for _, rounds in untabled._networks.values():  # the tables taken away: every value computed
        rounds[:] = [(name, None) for name, _ in rounds]
    for x in data.draw(st.lists(st.integers(0, size - 1), min_size=1, max_size=20)):
        assert tabled.permute("pin", x, size) == untabled.permute("pin", x, size)


@pytest.mark.parametrize(
    "address, network",
    [("10.1.2.3", "10.0.0.0/8"), ("172.20.1.9", "172.16.0.0/12"), ("192.168.7.7", "192.168.0.0/16"),
     ("8.8.8.8", "240.0.0.0/4"), ("010.001.002.003", "10.0.0.0/8")],
)  # fmt: skip
def test_an_ip_address_stays_in_its_kind_of_range(ps: Pseudonyms, address: str, network: str) -> None:
    pseudo = ps.ipv4(address)
    assert pseudo is not None and pseudo != address
    assert ipaddress.IPv4Address(pseudo) in ipaddress.IPv4Network(network)


def test_loopback_and_unspecified_addresses_are_kept(ps: Pseudonyms) -> None:
    assert ps.ipv4("127.0.0.1") is None and ps.ipv4("0.0.0.0") is None and ps.ipv6("::1") is None
    v6 = ps.ipv6("fe80::1ff:fe23:4567:890a%eth0")
    assert v6 is not None and v6.endswith("%eth0")
    assert ipaddress.IPv6Address(v6.split("%")[0]) in ipaddress.IPv6Network("2001:db8::/32")


def test_server_names_keep_their_case_so_maps_still_match_them(ps: Pseudonyms) -> None:
    upper, lower = ps.server("BBPROD01"), ps.server("bbprod01")
    assert upper.isupper() and lower.islower() and upper.lower() == lower
    assert ps.server("BES_EAST_02") != upper and len(ps.server("BES_EAST_02")) == len("BES_EAST_02")


# ---------------------------------------------------------------------------------------------
# the key, and the mapping
# ---------------------------------------------------------------------------------------------


def test_the_key_file_is_made_once_and_gives_the_same_pseudonyms_again(tmp_path: Path) -> None:
    key = load_key(tmp_path / "bes.key")
    assert key.created
    again = load_key(tmp_path / "bes.key")
    assert not again.created and again.secret == key.secret
    assert Pseudonyms(again).address("ian.dundas@example.net") == Pseudonyms(key).address(
        "ian.dundas@example.net"
    )
    other = load_key(tmp_path / "other.key")
    assert Pseudonyms(other).address("ian.dundas@example.net") != Pseudonyms(key).address(
        "ian.dundas@example.net"
    )
    assert key.secret.hex() not in repr(key)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_a_new_key_file_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    load_key(tmp_path / "bes.key")
    assert stat.S_IMODE(os.stat(tmp_path / "bes.key").st_mode) == 0o600


@pytest.mark.parametrize("content", [b"", b"not a key\n", b"bes-logdiag redaction key\nzz\n"])
def test_a_file_that_holds_no_key_is_refused_by_name(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "users.csv"
    path.write_bytes(content)
    with pytest.raises(RedactError, match=r"users\.csv: not a bes-logdiag redaction key"):
        load_key(path)


def test_the_mapping_gives_every_pseudonym_its_original(tmp_path: Path) -> None:
    mapping = Mapping()
    ps = Pseudonyms(load_key(tmp_path / "k"), mapping=mapping)
    address, display, uid = (
        ps.address("Ian.Dundas@example.net"),
        ps.display("Dundas,  Ian"),
        ps.user_id("2573"),
    )
    entries = mapping.entries
    assert entries["address"][address] == "ian.dundas@example.net"
    assert entries["display_name"][display] == "Dundas, Ian"
    assert entries["user_id"][uid] == "2573"
    assert {entries["word"][w.lower()] for w in display.split(", ")} == {"dundas", "ian"}
