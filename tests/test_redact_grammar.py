"""What in a BES line is replaced and what stays (BES-LOGS.md section 2): the ``{user}`` field,
``[Last, First:N]``, ``UserId=``, PINs, IMEIs, mailbox DNs, addresses, IP addresses and host names
go; event ids, timestamps, threads, message words, error codes, versions and BlackBerry's relays
stay, so that every pattern of the library still finds its line, and finds nothing new."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from builders import bes_line, command_text, complete_text, encode, etp_text, policy_text

from bes_logdiag.library import Library
from bes_logdiag.pattern_check import matches_line
from bes_logdiag.redact.grammar import Redactor, protected_words
from bes_logdiag.redact.keys import load_key
from bes_logdiag.redact.logs import redact_stream
from bes_logdiag.redact.pseudonyms import Pseudonyms


@pytest.fixture(scope="module")
def redactor(library: Library, tmp_path_factory: pytest.TempPathFactory) -> Redactor:
    key = load_key(tmp_path_factory.mktemp("key") / "k")
    return Redactor(Pseudonyms(key, protected=protected_words(library)), servers=["BES_EU_01"])


def test_every_pattern_still_finds_its_examples_and_not_its_counter_examples(
    library: Library, redactor: Redactor
) -> None:
    checked = 0
    for p in library.patterns:
        for example in p.examples:
            assert matches_line(p, redactor.redact(example)), (p.id, redactor.redact(example))
            checked += 1
        for counter in p.counter_examples:
            assert not matches_line(p, redactor.redact(counter)), (p.id, redactor.redact(counter))
    assert checked >= len(library.patterns)


T = "03/12 09:00:01.123"

CASES = [
    # (line, what must be gone, what must stay)
    (bes_line(T, etp_text(), user="ian.dundas@example.net"), ["ian.dundas", "example.net"],
     ["[40000] (03/12 09:00:01.123):{0x1A2B} {", "Queuing DATA from network@etp1006.etp.na.blackberry.net"]),
    (bes_line(T, complete_text("Dundas, Ian", 2573), tid="5E01", eid=36023), ["Dundas", "Ian", "2573"],
     ["[36023] (03/12 09:00:01.123):{0x5E01} [SYNC-DSession] *** SLOWSYNC COMPLETE *** ["]),
    (bes_line(T, command_text("GetConfig", "Müller, Jörg", 4711)), ["Müller", "Jörg", "4711"],
     ['Received "GetConfig" command from device. [']),
    (bes_line(T, policy_text(1002, "–"), tid="E1C"), ["1002"],
     ["SCS::CheckITPolicyInGroup – Queuing SET_ITPOLICY_REQUEST request for UserId="]),
    (bes_line(T, "CheckResponseReceived - no changes detected.", user="Test User1", eid=40089), ["Test", "User1"],
     ["CheckResponseReceived - no changes detected."]),
    (bes_line(T, "Router: packet from device PIN=2E219AE4, size=1503"), ["2E219AE4"],
     ["Router: packet from device PIN=", ", size=1503"]),
    (bes_line(T, "Device IMEI: 356938035643809 registered"), ["356938035643809"], ["Device IMEI: ", " registered"]),
    (bes_line(T, "MAPIMailbox::MAPIMailbox - OpenMsgStore (0x8004011d) failed, MailboxDN=/o=Acme/ou=Exchange "
              "Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=ian.dundas", user="ian.dundas@acme.example"),
     ["Acme", "ian.dundas"],
     ["MAPIMailbox::MAPIMailbox - OpenMsgStore (0x8004011d) failed, MailboxDN=/o=",
      "/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn="]),
    (bes_line(T, "MAPIMailbox::MAPIMailbox - OpenMsgStore (0x8004011d) failed, MailboxDN=/o=Acme/ou=Exchange/"
              "cn=Recipients/cn=Dundas, Ian", user="cat@corp.example"), ["Acme", "Dundas", "Ian"],
     ["failed, MailboxDN=/o=", "/ou=Exchange/cn=Recipients/cn="]),
    (bes_line(T, "MAPIMailbox::MAPIMailbox - OpenMsgStore (0x8004011d) failed, MailboxDN=/o=Acme/ou=Exchange/"
              "cn=Recipients/CN=IAN DUNDAS", user="cat@corp.example"), ["Acme", "IAN", "DUNDAS"],
     ["failed, MailboxDN=/o=", "/ou=Exchange/cn=Recipients/CN="]),
    (bes_line(T, "OpenMsgStore failed, MailboxDN=/o=Acme/cn=Recipients/cn=Ian Dundas, Error=0x8004011d (retry)",
              user="cat@corp.example"), ["Acme", "Ian", "Dundas"],
     ["OpenMsgStore failed, MailboxDN=/o=", "/cn=Recipients/cn=", ", Error=0x8004011d (retry)"]),
    (bes_line(T, "LDAP lookup of CN=Dundas\\, Ian,OU=Sales,DC=acme,DC=example failed"), ["Dundas", "Sales", "acme"],
     ["LDAP lookup of CN=", ",OU=", ",DC=", " failed"]),
    (bes_line(T, "SRP connection to srp.na.blackberry.net:3101 from 10.20.30.40 via relay.acme.example is up"),
     ["10.20.30.40", "relay.acme.example"], ["SRP connection to srp.na.blackberry.net:3101 from ", " is up"]),
    (bes_line(T, "Listening on [fe80::1ff:fe23:4567:890a]:3101 and 2001:4860:4860::8888"),
     ["fe80::1ff:fe23:4567:890a", "2001:4860:4860::8888"], ["Listening on [", "]:3101 and "]),
    (bes_line(T, "Performing system health check (BlackBerry Controller Version 4.1.6.23) at 12:30:45"), [],
     ["Version 4.1.6.23) at 12:30:45"]),
    (bes_line(T, "MAPIMailbox::CheckForChanges - 0 new items", user="cat@corp.example"), ["cat@corp.example"],
     ["MAPIMailbox::CheckForChanges - 0 new items"]),
    (bes_line(T, 'Sending message to device, RefId=7, Subject="Lunch with Ian Dundas re: order 123456 *** '
              'SLOWSYNC COMPLETE *** [Reed, Ian:1003]"', user="cat@corp.example"),
     ["Lunch", "Dundas", "123456", "Reed", "1003"], ['Sending message to device, RefId=7, Subject="', "*** SLOWSYNC COMPLETE *** ["]),
    (bes_line(T, "BlackBerry Messaging Agent BES_EU_01 Agent 1 starting, log BES_EU_01_MAGT_01_20240312_0001.txt",
              eid=50000), ["BES_EU_01"], ["BlackBerry Messaging Agent ", " Agent 1 starting, log ", "_MAGT_01_20240312_0001.txt"]),
    (bes_line(T, "sending KEY_ACCEPT transID = 123456789", user=None), [], ["sending KEY_ACCEPT transID = 123456789"]),
    ("> " + bes_line(T, "Generating 3DES key", user="ian.dundas@example.net").replace("{0x", "{0×"), ["ian.dundas"],
     ["> [40000] (03/12 09:00:01.123):{0×1A2B} {", "} Generating 3DES key"]),
    # a pasted line, spaced as the pattern reads it (UserId\s*=): the id goes, or the join by it breaks
    (bes_line(T, policy_text(1002).replace("UserId=", "UserId  =  "), tid="E1C"), ["1002"],
     ["Queuing SET_ITPOLICY_REQUEST request for UserId  =  "]),
    (bes_line(T, policy_text(1002).replace("UserId=", "UserId\t="), tid="E1C"), ["1002"], ["request for UserId\t="]),
    # a one-word name of hex letters alone is no IPv6 address: the user's, as the scan reads it
    (bes_line(T, command_text("GetConfig", "Ada", 1001)), ["Ada", "1001"], ['Received "GetConfig" command from device. [']),
    # the "v" that ends a word is no version; an address and port in brackets keeps its port
    (bes_line(T, "connect from dev 192.168.44.81 to SRV 192.168.44.82 via [203.0.113.78:3101]"),
     ["192.168.44.81", "192.168.44.82", "203.0.113.78"], ["connect from dev ", " to SRV ", ":3101]"]),
    (bes_line(T, "Performing system health check (BlackBerry Controller v 4.1.6.23)"), [], ["v 4.1.6.23)"]),
    # a mailbox DN quoted, ended by a semicolon, or in angle brackets
    (bes_line(T, 'OpenMsgStore failed for "/o=Contoso/ou=First Administrative Group/cn=Recipients/cn=mquinton" (0x8004011d)'),
     ["Contoso", "mquinton"], ['OpenMsgStore failed for "/o=', '/cn=Recipients/cn=', '" (0x8004011d)']),
    (bes_line(T, "OpenMsgStore failed for /o=Contoso/ou=Exchange/cn=Recipients/cn=mquinton; error 0x8004011d"),
     ["Contoso", "mquinton"], ["; error 0x8004011d"]),
    (bes_line(T, "OpenMsgStore failed for </o=Contoso/ou=Exchange/cn=Recipients/cn=mquinton> now"),
     ["Contoso", "mquinton"], ["> now"]),
    # the user the Messaging Agent names (KB22568), a display name to the scan; an X.400 proxy address
    (bes_line(T, "User Siobhan_OBrien not started", user=None, eid=20154), ["Siobhan", "OBrien"],
     ["{0x1A2B} User ", " not started"]),
    (bes_line(T, "User TUser can not be started, ServerDN not defined", user=None), ["TUser"],
     ["{0x1A2B} User ", " can not be started, ServerDN not defined"]),
    # (a name the scan does not read there is no less a name: each word replaced, its case kept)
    (bes_line(T, "User Ian Dundas not started", user=None), ["Ian", "Dundas"], ["{0x1A2B} User ", " not started"]),
    (bes_line(T, "User jdoe not started", user=None), ["jdoe"], ["{0x1A2B} User ", " not started"]),
    (bes_line(T, "proxy SMTP=ahmed.alfarsi@contoso.ae;X400=c=US;a= ;p=Contoso;o=Exchange;s=Al-Farsi;g=Ahmed; set"),
     ["ahmed", "alfarsi", "Farsi", "Contoso", "Ahmed"], [";X400=c=US;a= ;p=", ";o=Exchange;s=", ";g=", "; set"]),
]  # fmt: skip


@pytest.mark.parametrize("line, gone, kept", CASES, ids=[c[0][40:75] for c in CASES])
def test_a_line_loses_its_names_and_keeps_the_rest(
    redactor: Redactor, line: str, gone: list[str], kept: list[str]
) -> None:
    out = redactor.redact(line)
    for text in gone:
        assert text not in out, out
    for text in kept:
        assert text in out, out


def test_a_name_in_a_subject_gets_the_pseudonym_it_has_elsewhere(redactor: Redactor) -> None:
    subject = redactor.redact(
        bes_line(T, 'Message delivered, Subject="FW: [Reed, Ian:1003]"', user="x@y.example")
    )
    sync = redactor.redact(bes_line(T, complete_text("Reed, Ian", 1003)))
    assert subject.split("[")[-1].rstrip('"') == sync.split("[")[-1]


@pytest.mark.parametrize(
    "how", ["utf-8", "utf-8-sig", "cp1252", "utf-16-le-bom", "utf-16-be-bom", "utf-16-le"]
)
def test_a_person_has_one_pseudonym_in_every_encoding_and_the_file_keeps_its_encoding(
    redactor: Redactor, how: str
) -> None:
    lines = [
        bes_line(T, command_text("GetConfig", "Müller, Jörg", 4711)),
        bes_line(T, "CheckResponseReceived - no changes detected.", user="Jörg Müller"),
        bes_line(T, "New mail has arrived, EntryId=1", user="joerg.mueller@example.eu"),
        # an address with letters past ASCII in free text: cp1252 keeps them as bytes
        bes_line(T, "Recipient jürgen.müller@bücher.example rejected", user="joerg.mueller@example.eu"),
        # a no-break space before the {user} field (the scan reads it as white space)
        f"[30000] ({T}):{{0x1AEC}}\xa0{{Quinton, Marcus}} CheckResponseReceived - no changes detected.",
    ]
    data = encode("\r\n".join(lines) + "\r\n", how)
    out = io.BytesIO()
    source = io.BytesIO(data)
    head = source.read(64)
    done = redact_stream(source, out, redactor, head)
    reference = redactor.redact("\r\n".join(lines) + "\r\n")
    assert out.getvalue() == encode(reference, how)
    assert done.lines == 5
    assert not {"Müller", "4711", "rgen", "Quinton"} & {
        w for w in ("Müller", "4711", "rgen", "Quinton") if w in reference
    }


def test_bytes_that_are_no_text_pass_through_unchanged(redactor: Redactor) -> None:
    data = b"[40000] (03/12 09:00:01.123):{0x1A} {x@y.example} odd \x81\x8d bytes \x00\x00 here\n\xff\xfe\n"
    out = io.BytesIO()
    redact_stream(io.BytesIO(data[10:]), out, redactor, data[:10])
    assert b"x@y.example" not in out.getvalue()
    assert out.getvalue().endswith(b" odd \x81\x8d bytes \x00\x00 here\n\xff\xfe\n")


def test_a_long_log_is_redacted_in_blocks_with_memory_to_match(redactor: Redactor, tmp_path: Path) -> None:
    import tracemalloc

    line = bes_line(T, "New mail has arrived, EntryId=1", user="ian.dundas@example.net") + "\r\n"
    path = tmp_path / "big.txt"
    with open(path, "wb") as f:
        for _ in range(40):
            f.write((line * 5000).encode())  # 40 x ~470 KB: ~19 MB
    tracemalloc.start()
    with open(path, "rb") as source, open(tmp_path / "out.txt", "wb") as sink:
        done = redact_stream(source, sink, redactor, source.read(4096))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert done.lines == 200_000
    assert peak < 8 * 1024 * 1024, peak  # a few blocks of 256 KiB, not the file's 19 MB
