"""Which text in a log line is a token that may name someone: the grammar's regex, one alternative
per kind of token (`BRANCHES`), and the plain tokens found a block at a time (`PLAIN_TOKENS`).
What replaces each token is `grammar.Redactor`'s.

The tokens (BES-LOGS.md sections 2 and 3):

- the ``{user}`` field after a line's timestamp and thread: an address (MAGT) or a display name
  (SYNC, CMNG);
- ``[Last, First:N]``, as the Synchronization Service writes its user (name and id);
- ``UserId=N`` (and ``UserConfigId``), ``PIN=`` eight hex digits, ``IMEI=`` fifteen digits;
- a mail subject (``Subject=...`` to the end of its record): every word of it, but for the
  words of the pattern library (`grammar.protected_words`), so that a subject quoting a milestone line
  stays what it was: quoted text, never that milestone;
- a mailbox DN (``/o=.../ou=.../cn=...``, or ``CN=...,OU=...,DC=...``): every value but the
  fixed ones of Exchange (`DN_KEPT`); an X.400 address (``X400:c=US;a= ;p=...;s=...;g=...;``):
  every value but the country's and the carrier's;
- the user the Messaging Agent names in ``User Test_User not started``;
- an SMTP address anywhere (in a subject, a DN, a message); IPv4 and IPv6 addresses (not
  loopback, not a version number); host names ending in a known top-level domain;
- with ``--servers``, the BES server names (found in the file names) wherever they stand alone.

Speed: Python's regex engine skips ahead fast only when every alternative of a pattern starts
with a plain character.  So each token is found from a character that starts it or stands in it
(``(`` of the timestamp, ``[``, ``@``, ``.``, ``:``, ``=``, ``/``, the ``U`` of ``User ... not
started`` and the ``X`` of ``X400``), keywords are checked by
lookbehinds from their ``=``, and an address's local part, a host's first labels and an IP's
first group are read backwards from there (`grammar.Redactor._email`, `_host`, `_ipv4`,
`_ipv6`).  A line with none of them costs one pass in C; the ``{user}`` field, on nearly every
line, one dictionary lookup (`grammar.Redactor.redact`).  Still, a match is a turn of a Python
loop, and a log has one on nearly every line: a log's plain lines are done a block at a time
without it (`plainlines`, `grammar.Redactor.redact_bytes`), and only the other lines go through
the loop.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

TLDS = (
    "com net org edu gov mil int info biz name pro local lan corp internal intranet intra home "
    "localdomain example test invalid arpa mail "
    "de uk fr nl ca au eu ch at be se no dk fi it es pl cz jp cn ru br us io co nz ie za mx ar sg "
    "hk in kr tw il tr gr pt hu ro sk si hr lu lt lv ee is ae sa my ph id th vn"
).split()
"""The last labels that make a dotted word a host name.  Not file extensions (``ETP.DAT``,
``.txt``, ``.log``, ``.zip``, ``.dll``): a file name is no host."""
DN_KEPT = frozenset(
    {
        "exchange",
        "recipients",
        "configuration",
        "servers",
        "users",
        "administrative groups",
        "first administrative group",
        "exchange administrative group (fydibohf23spdlt)",
        "microsoft exchange",
    }
)
"""Values of a mailbox DN that every Exchange organisation has: kept, they name nobody."""


def _ci(word: str) -> str:
    """A case-insensitive fixed-width regex for `word` (``[Pp][Ii][Nn]``): lookbehinds need one."""
    return "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else re.escape(c) for c in word)


def _after(sep: str, *keywords: str) -> str:
    """A lookbehind: the `sep` (``=`` or ``:``) just matched ends one of `keywords` (with up to
    three white-space characters before it, as the patterns' ``UserId\\s*=`` reads a pasted
    ``UserId  =  N``), and the keyword starts a word."""
    looks = [
        rf"(?<![A-Za-z]{_ci(k)}{gap}{sep})(?<={_ci(k)}{gap}{sep})"
        for k in keywords
        for gap in ("", r"\s", r"\s\s", r"\s\s\s")
    ]
    return "(?:" + "|".join(looks) + ")"


# ``0×`` is pasting damage the scan undoes (parse.normalise); U+DCD7 is a cp1252 × kept as a byte.
_THREAD = r"\{\s*0[xX\u00d7\udcd7][0-9A-Fa-f]+\s*\}"
_GAP = r"[\s\udca0]*"
_RDN = r"(?i:o|ou|cn|dc)"
_LDAP_KEY = r"(?i:cn|ou|dc|o|l|st|c|uid)"
_SUBJECT_END = r"(?:(?!\s\[\d{1,5}\]\s*\(\d|\s\(\d{1,2}/\d{1,2}\s)[^\r\n])*"
"""A subject runs to the end of its record: the line's end, or a second record pasted onto it."""

_TS = r"\s*\d{1,2}/\d{1,2}\s+\d{1,2}:\d{2}:\d{2}(?:[.,]\d{1,6})?\s*\)"
_BRACKET = r"\[(?P<bracket>(?P<bname>(?:[^\[\]\r\n]|\[[^\[\]\r\n]*\])+?):(?P<bid>\d+)\])"
"""``[Last, First:N]``; the name may hold a bracketed tag (``[Dundas, Ian [EXT]:2573]``), as the
SYNC patterns read it."""
# ":" after a hex digit or a colon, then "::" or two more colons: maybe inside an IPv6 address;
# never a time (12:30:45 has two colons in all)
_IPV6 = r":(?<=[0-9A-Fa-f:]:)(?=:|[0-9A-Fa-f]{0,4}:[0-9A-Fa-f]{0,4}:)(?P<ipv6>[0-9A-Fa-f:.]*)"
# "=" (and ":") ending a keyword: the letter before it is tried first (size=, Tag= are not)
_EQUALS = r"=(?<=[DdNnIiTt\s]=)"
_UID = rf"{_after('=', 'UserId', 'UserConfigId')}(?P<uid>\s*\d+)"
_PIN = rf"{_after('=', 'PIN', 'DevicePIN')}(?P<pin>\s*(?:0[xX])?[0-9A-Fa-f]{{8}})(?![0-9A-Za-z])"
_COLON = r":(?<=[NnIiTt\s]:)"
_IN_LINE = r"(?:[^\S\r\n]|\udca0)"
"""White space within a line (the scan reads a pattern's ``\\s`` in one record)."""
_NOT_STARTED = (
    rf"(?:[Cc][Aa][Nn]{_IN_LINE}*[Nn][Oo][Tt]{_IN_LINE}+[Bb][Ee]|[Nn][Oo][Tt]){_IN_LINE}+"
    r"[Ss][Tt][Aa][Rr][Tt][Ee][Dd]\b"
)
_NAME_NOT_STARTED = r"[A-Z0-9][^\s{}\[\],@]*|[^\s{}\[\],@]*_[^\s{}\[\],@]*"
"""The user the Messaging Agent names in ``User Test_User not started`` (KB22568), as the pattern
``magt.user-not-started`` reads it: a word with a capital or a digit first, or with an underscore."""
NAME_NOT_STARTED = re.compile(_NAME_NOT_STARTED)
_WORDS_NOT_STARTED = rf"[^\s{{}}\[\],@]+(?:{_IN_LINE}+[^\s{{}}\[\],@]+){{0,3}}"
"""What stands there, up to four words: that name, or one the scan does not read (``Ian Dundas``)."""
_PIN2 = rf"{_after(':', 'PIN', 'DevicePIN')}(?P<pin2>\s*(?:0[xX])?[0-9A-Fa-f]{{8}})(?![0-9A-Za-z])"

BRANCHES = (
    # "(": the timestamp, and the {user} field after it and the thread, if there is one.  A
    # timestamp with no user is passed over whole: its digits, colons and dot are tried as
    # nothing else (each line has one).
    # (a no-break space of a cp1252 line is a kept byte, U+DCA0: white space, as the scan reads it)
    rf"\({_TS}(?:{_GAP}:?{_GAP}(?:{_THREAD}{_GAP})?(?!{_THREAD})\{{(?P<user>[^{{}}\r\n]*)\}})?",
    _BRACKET,
    r"@(?P<email>[\w\udc80-\udcff-]+(?:\.[\w\udc80-\udcff-]+)*)",
    # ".": an IPv4 address's last three groups, or the top-level domain of a host name
    r"\.(?:(?P<ipv4>\d{1,3}\.\d{1,3}\.\d{1,3}(?!\w|\.\d))"
    rf"|(?P<host>(?i:{'|'.join(TLDS)}))(?![\w@-]|\.[A-Za-z0-9]))",
    _IPV6,
    _EQUALS
    + "(?:"
    + "|".join(
        (
            _UID,
            _PIN,
            rf"{_after('=', 'IMEI')}(?P<imei>\s*\d(?:[ -]?\d){{13,16}})(?!\d)",
            rf"{_after('=', 'Subject')}(?P<subject>{_SUBJECT_END})",
            rf"(?<![A-Za-z])(?<=[Cc][Nn]=)(?P<ldap>(?:\\,|[^,=\r\n])*"
            rf"(?:,\s*{_LDAP_KEY}=(?:\\,|[^,=\r\n])*)*,\s*{_LDAP_KEY}=[^,=\s]*)",
        )
    )
    + ")",
    _COLON
    + "(?:"
    + "|".join(
        (
            _PIN2,
            rf"{_after(':', 'IMEI')}(?P<imei2>\s*\d(?:[ -]?\d){{13,16}})(?!\d)",
            rf"{_after(':', 'Subject')}(?P<subject2>{_SUBJECT_END})",
        )
    )
    + ")",
    # "User Test_User not started": the user's name, which the scan reads as a display name
    # (up to four words: one the scan reads as the user's name, or a name it does not, "Ian Dundas")
    rf"[Uu](?<![A-Za-z][Uu])(?=[Ss][Ee][Rr]{_IN_LINE}+(?:{_WORDS_NOT_STARTED}){_IN_LINE}+{_NOT_STARTED})"
    rf"[Ss][Ee][Rr]{_IN_LINE}+(?P<notstarted>{_WORDS_NOT_STARTED})(?={_IN_LINE}+{_NOT_STARTED})",
    # an X.400 address (an Exchange proxy address): "X400:c=US;a= ;p=Org;o=Exchange;s=Last;g=First;"
    r"[Xx](?<![A-Za-z0-9][Xx])400[ \t]{0,3}[=:]"
    r"(?P<x400>(?:[ \t]*[A-Za-z0-9-]{1,8}=[^;=\r\n]*;)+(?:[ \t]*[A-Za-z0-9-]{1,8}=[^;=\s]*)?)",
    # (the last value runs to the line's end, over spaces and commas, "cn=Dundas, Ian", unless a
    # key of the message follows, ", ServerDN=...", or a bracket, " (error)", or the DN is quoted,
    # "/o=...", bracketed, </o=...>, or ended by a semicolon)
    rf"/(?P<dn>(?:{_RDN}=[^/\r\n,;\"<>]*?(?=/{_RDN}=)/)*{_RDN}="
    r"[^/\r\n;\"<>]*?(?=[ \t]*(?:[\r\n]|$)|[,;][ \t]*[A-Za-z][\w.-]*=|[ \t]+\(|[\";>]))",
)
"""Each alternative starts with the plain character it is found from (see the module's docstring).
The ``:`` of an IPv6 address comes before the keywords' ``:``: a PIN written ``PIN: ...`` is
tried when the colon is no IPv6 one (the letter before it, ``N``, is no hex digit)."""
PLAIN_TOKENS = re.compile(
    rf"{_EQUALS}(?:{_UID}|{_PIN})|{_COLON}{_PIN2}|"
    + _BRACKET.replace("(?P<bname>", "(?:").replace("(?P<bid>", "(?:")
)
"""The tokens whose replacement is a function of their text alone (a user id, a PIN, ``[Last,
First:N]``), found as `BRANCHES` finds them where they start, each after its first character
(``=``, ``:``, ``[``; `re.split` then skips fast to those): the alternatives of `BRANCHES` tried
before them there are ruled out by their look-behinds (an IPv6 address's ``:`` follows a hex
digit or a colon, a keyword's never), and the others do not match in a message with no trigger
of theirs (`plainlines`).  A group per token, in this order: uid, pin, pin2, bracket."""
PLAIN_FIRST = ("=", "=", ":", "[")
"""What each group of `PLAIN_TOKENS` leaves out in front."""
RDN_SPLIT = re.compile(rf"((?:^|/){_RDN}=)", re.IGNORECASE)
"""A mailbox DN (`BRANCHES` ``dn``) cut into its keys and values."""
LDAP_SPLIT = re.compile(rf"((?:^|,\s*){_LDAP_KEY}=)")
"""An LDAP DN (`BRANCHES` ``ldap``) cut into its keys and values."""
X400_SPLIT = re.compile(r"((?:^|;)[ \t]*[A-Za-z0-9-]{1,8}=)")
"""An X.400 address (`BRANCHES` ``x400``) cut into its keys and values."""
X400_KEPT = frozenset({"c", "a"})
"""The keys of an X.400 address whose values name no one: the country and the public carrier
(``a= ``)."""
BRACKET_PARTS = re.compile(_BRACKET)
"""``[Last, First:N]`` as `BRANCHES` reads it: groups ``bname`` and ``bid``."""


def _as_cp1252_line(name: str) -> str:
    """A name as it stands in a cp1252 line, whose bytes past ASCII are kept as escapes
    (``SRVé`` as ``SRV\\udce9``); the name itself when cp1252 has no bytes for it."""
    try:
        return name.encode("cp1252").decode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return name


def server_branches(servers: Iterable[str]) -> list[str]:
    """The server names, found from their first character in either case (a branch must start
    with a plain character), standing alone: no letter or digit on either side.  Groups are
    named ``server0``, ``server1``, ... (a name may be used once in a pattern)."""
    by_first: dict[str, list[str]] = {}
    for name in sorted(
        {s for s in servers if s} | {_as_cp1252_line(s) for s in servers if s}, key=lambda s: (-len(s), s)
    ):
        by_first.setdefault(name[0].lower(), []).append(re.escape(name[1:]))
    out: list[str] = []
    for first, rests in sorted(by_first.items()):
        for c in sorted({first.upper(), first.lower()}):
            c = re.escape(c)
            out.append(
                rf"{c}(?<![A-Za-z0-9.]{c})(?P<server{len(out)}>(?i:{'|'.join(rests)}))"
                r"(?![A-Za-z0-9@]|\.[A-Za-z0-9])"
            )
    return out
