"""A log redacted a block at a time (plain lines split in C, the others found by hyperscan or by the
grammar) is byte for byte what the grammar's own loop makes of it, line by line: for generated
blocks of lines in BES's form and out of it, with every kind of token, pasted records, line ends
of every kind, bytes that are not ASCII or not UTF-8; for tricky lines one by one; and for
``sample_logs/``.  And hyperscan's triggers fire on every message the grammar finds a token in."""

from __future__ import annotations

from pathlib import Path

import pytest
from builders import SAMPLE_LOGS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bes_logdiag.prefilter import hyperscan_available
from bes_logdiag.redact import plainlines
from bes_logdiag.redact.grammar import Redactor
from bes_logdiag.redact.keys import load_key
from bes_logdiag.redact.plainlines import Flags, fits_plain_lines
from bes_logdiag.redact.pseudonyms import Pseudonyms
from bes_logdiag.redact.tokens import TLDS

ENGINES = ["python", *(["hyperscan"] if hyperscan_available() else [])]
SERVERS = ["BES_EU_01", "bbprod01"]
PLAIN = ("pin", "pin2", "uid", "bracket")


@pytest.fixture(scope="module")
def redactors(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Redactor]:
    """The grammar's loop alone (``loop``), and block by block with each engine; one key."""
    ps = Pseudonyms(load_key(tmp_path_factory.mktemp("key") / "k"), protected={"queuing", "data"})
    out = {"loop": Redactor(ps, SERVERS, plain=False)}
    out.update({e: Redactor(ps, SERVERS, engine=e) for e in ENGINES})
    return out


@pytest.fixture(scope="module")
def triggers(redactors: dict[str, Redactor]) -> Flags:
    return Flags(redactors["loop"]._regex, TLDS, SERVERS, "hyperscan", plain=PLAIN)


def assert_same(redactors: dict[str, Redactor], block: bytes) -> None:
    expected = redactors["loop"].redact_bytes(block)
    for engine in ENGINES:
        assert redactors[engine].redact_bytes(block) == expected, engine


HEADERS = [
    "[30000] (12/30 00:00:00.095):{0x92A} ",
    "[3] (2/5 1:10:00):{0xa} ",
    "(12/30 00:00:00,5):{0x1F}",
    "[40000] (12/30 00:00:00.095):{0x92A}  ",  # two spaces: not BES's form
    "[40000] (12/30 00:00:00.095):{0X92A} ",
    "[40000] (12/30 00:00:00.095):{0×92A} ",
    "[40000] (12/30 00:00:00.095): ",
    "[40000] (12/30  00:00:00.095):{0x1} ",
    "> [40000] (12/30 00:00:00.095):{0x1} ",
    "\t[40000] (12/30 00:00:00.095):{0x1} ",
    "[40000] (12/30 00:00:00.095):{0x1}\x1c",
]
USERS = [
    "", "{ian.dundas@example.net}", "{Dundas, Ian}", "{Test User1}", "{}", "{ }", "{0x5F}", "{ 0x5 }",
    "{Müller, Jörg}", "{M\udcfcller}", "{joerg@corp.example", "{a{b}", "{x@srp.na.blackberry.net}",
    "{UserId=12}", "{PIN=2E219AE4}", "{[Reed, Ian:1003]}", "{BES_EU_01}", "{(12/30 00:00:00.1)}",
]  # fmt: skip
WORDS = [
    " ", "New mail has arrived", ",", " RefId=91190", " status=0", " size=3438", "MAPIMailbox::Notify",
    " PIN=2E219AE4", " DevicePIN: 0x2e219ae4", "PIN =2e219ae4x", " UserId=2573", " UserId =", " UserConfigId=77",
    " [Dundas, Ian:2573]", " [12:30]", " [fe80::1:3101]", " a.b@corp.example", " @", " x@y",
    " relay.acme.example", " srp.na.blackberry.net:3101", " ETP.DAT", " 10.20.30.40", " 127.0.0.1",
    " Version 4.1.6.23", " 1.2.3.4.5", " fe80::1ff:fe23:4567:890a", " 2001:db8::1%eth0", " 12:30:45",
    " CN=Dundas\\, Ian,OU=Sales,DC=acme,DC=example", " /o=Acme/ou=Exchange/cn=Recipients/cn=jdoe",
    ' Subject="Lunch with Ian re: 123456"', " Subject: hi", " IMEI=356938035643809", " IMEI: 35 693803 564380 9",
    " (0x8004011d)", " (12/30 00:00:01.000):{0x1} {x@y.example} pasted", " [30000] (12/30 00:00:01.000)",
    "} {z@q.example}", " {", "}", " BES_EU_01", " bbprod01_MAGT", " Müller", " \udce9t\udce9", " \x85",
    "\u00a0{nb@sp.example}", " =", " :", "(", "\x1c", "\r", "\x00", " Current Date: 2031/01/01",
    " User Test_User not started", " User\tTUser can not be started", " User", " Ann_Lee not", " started",
    " X400:c=US;a= ;p=Acme;o=Exchange;s=Dundas;g=Ian;", " x400 = s=Reed", " X400=",
]  # fmt: skip
ENDS = ["\n", "\r\n", "\r\n", "\n", "\r"]


def _encode(text: str) -> bytes:
    """UTF-8, and each escaped byte (U+DC80..U+DCFF) as the byte: cp1252 text in a UTF-8 log."""
    return text.encode("utf-8", "surrogateescape")


lines = st.builds(
    lambda head, user, words, end: head + user + "".join(words) + end,
    st.sampled_from(HEADERS),
    st.sampled_from(USERS),
    st.lists(st.sampled_from(WORDS), max_size=5),
    st.sampled_from(ENDS),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(lines, min_size=1, max_size=12),
    st.booleans(),
    st.sampled_from(["utf-8", "latin-1"]),
)
def test_a_block_redacted_at_once_is_byte_for_byte_the_grammars_redaction(
    redactors: dict[str, Redactor], block: list[str], cut: bool, encoding: str
) -> None:
    text = "".join(block)
    if cut:  # the last line without its line end (the end of a file)
        text = text.rstrip("\r\n")
    data = _encode(text) if encoding == "utf-8" else text.encode(encoding, "replace")
    assert_same(redactors, data)


TRICKY = [
    # a token's spaces run over the line end into the next line (the grammar reads it so)
    "[30000] (12/30 00:00:00.095):{0x1} {a@b.example} configuration refreshed for UserId=\n2573 x\n",
    "[30000] (12/30 00:00:00.095):{0x1} done\n(12/30\n 00:00:01.000):{0x2} {c@d.example} y\n",
    "[30000] (12/30 00:00:00.095):{0x1} done (\n12/30 00:00:01.000):{0x2} {Dundas, Ian} y\n",
    "[30000] (12/30 00:00:00.095):{0x1} PIN=\n2E219AE4\n",
    # the white space of the grammar's \\s before "=", the separators \\x1c-\\x1f included
    "[30000] (12/30 00:00:00.095):{0x1} x for UserId\x1c=2573 and IMEI\x1f= 353456789012355\n",
    # a timestamp cut at a line end, whose next line's message reads as its rest
    "[30000] (12/30 00:00:00.095):{0x1} {a} hi (12/30\n"
    "[30000] (12/30 00:00:00.095):{0x1} {b} 00:00:01.000):{0x2} {x@y.example} z\n",
    # the seed's form: no space between the thread and the user
    "[40000] (03/12 09:00:01.123):{0x1A2B}{ian.dundas@example.net} Queuing DATA from network@etp1006.etp\n",
    # a version before an address on the line before
    "[30000] (12/30 00:00:00.095):{0x1} Controller Version\n10.1.2.3 up\n",
    # a cp1252 line: its name read as cp1252, and a UTF-8 one
    "[30000] (12/30 00:00:00.095):{0x1} {M\udcfcller, J\udcf6rg} x@y.example\n",
    "[30000] (12/30 00:00:00.095):{0x1} {Müller, Jörg} hi\n[30000] (12/30 00:00:00.095):{0x1} {Müller, Jörg} hi\n",
    # ends and odd line ends
    "[30000] (12/30 00:00:00.095):{0x1} {a@b.example} x\r[30000] (12/30 00:00:00.095):{0x1} {c@d.example} y\n",
    "\n\n[30000] (12/30 00:00:00.095):{0x1} {a@b.example} x\n\n",
    "[30000] (12/30 00:00:00.095):{0x1} {a@b.example}",
    "",
]


@pytest.mark.parametrize("text", TRICKY, ids=range(len(TRICKY)))
def test_tricky_lines_are_redacted_as_the_grammar_does(redactors: dict[str, Redactor], text: str) -> None:
    assert_same(redactors, _encode(text))


def test_the_sample_logs_are_redacted_as_the_grammar_does(redactors: dict[str, Redactor]) -> None:
    files = [p for p in sorted(SAMPLE_LOGS.rglob("*.txt")) if p.is_file()]
    assert files
    for path in files:
        assert_same(redactors, path.read_bytes())


messages = st.lists(
    st.one_of(
        st.sampled_from(WORDS),
        st.text(alphabet="PINUserIdIMEISubjectCNou=:@./()[]{}019aAfFx \t\r\n\x1c", max_size=12),
    ),
    max_size=6,
).map("".join)


@pytest.mark.skipif(not hyperscan_available(), reason="hyperscan is not installed")
@settings(max_examples=500, deadline=None)
@given(st.lists(messages, min_size=1, max_size=6))
def test_hyperscans_triggers_fire_on_every_message_the_grammar_finds_a_token_in(
    redactors: dict[str, Redactor], triggers: Flags, rests: list[str]
) -> None:
    grammar = redactors["loop"]._regex
    data = [_encode(r) for r in rests]
    hard, plain, wide = triggers.find(data)
    # each message as the grammar reads it in its line (what comes before it is a header's end)
    kinds = [{m.lastgroup for m in grammar.finditer(r)} - {None} for r in rests]
    assert {i for i, k in enumerate(kinds) if k} <= hard | plain | wide
    assert {i for i, k in enumerate(kinds) if k - set(PLAIN)}.isdisjoint(plain)
    assert wide == {i for i, r in enumerate(data) if not r.isascii()}


def test_a_server_name_that_could_stand_in_a_header_turns_plain_lines_off() -> None:
    assert fits_plain_lines(["BES_EU_01", "bbprod01"])
    assert not fits_plain_lines(["30000"])
    assert not fits_plain_lines(["cafe"])
    # a name past ASCII is no trigger of its own (its bytes depend on the line's encoding): the
    # line's "not ASCII" trigger reads such a line whole
    assert fits_plain_lines(["SRVé"])
    assert [p for p, _, _ in plainlines.triggers([], ["SRVé", "BES01"]) if "SRV" in p or "BES01" in p] == [
        "BES01"
    ]


def test_a_log_redacted_through_the_command_is_the_grammars_redaction(tmp_path: Path) -> None:
    from builders import run_cli

    log = tmp_path / "in" / "BES_EU_01_MAGT_01_20240312_0001.txt"
    log.parent.mkdir()
    log.write_bytes(_encode("".join(TRICKY[:-2]) * 3))
    outs = []
    for engine in ENGINES:
        out = tmp_path / f"out-{engine}"
        result = run_cli(
            "redact", log.parent, "-o", out, "--key", tmp_path / "k", env={"BES_LOGDIAG_ENGINE": engine}
        )
        assert result.exit_code == 0, result.stderr
        outs.append((out / "in" / log.name).read_bytes())
    assert len(set(outs)) == 1
    assert b"a@b.example" not in outs[0] and b"2573" not in outs[0]
