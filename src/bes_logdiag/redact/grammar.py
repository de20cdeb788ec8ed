"""Which text in a log line is personal, and what replaces it: one regex pass per block of lines.

The tokens (BES-LOGS.md sections 2 and 3):

- the ``{user}`` field after a line's timestamp and thread: an address (MAGT) or a display name
  (SYNC, CMNG);
- ``[Last, First:N]``, as the Synchronization Service writes its user (name and id);
- ``UserId=N`` (and ``UserConfigId``), ``PIN=`` eight hex digits, ``IMEI=`` fifteen digits;
- a mail subject (``Subject=...`` to the end of its record): every word of it, but for the
  words of the pattern library (`protected_words`), so that a subject quoting a milestone line
  stays what it was: quoted text, never that milestone;
- a mailbox DN (``/o=.../ou=.../cn=...``, or ``CN=...,OU=...,DC=...``): every value but the
  fixed ones of Exchange (`DN_KEPT`);
- an SMTP address anywhere (in a subject, a DN, a message); IPv4 and IPv6 addresses (not
  loopback, not a version number); host names ending in a known top-level domain;
- with ``--servers``, the BES server names (found in the file names) wherever they stand alone.

Speed: Python's regex engine skips ahead fast only when every alternative of a pattern starts
with a plain character.  So each token is found from a character that starts it or stands in it
(``(`` of the timestamp, ``[``, ``@``, ``.``, ``:``, ``=``, ``/``), keywords are checked by
lookbehinds from their ``=``, and an address's local part, a host's first labels and an IP's
first group are read backwards from there (`Redactor._email`, `_host`, `_ipv4`, `_ipv6`).  A line
with none of them costs one pass in C; the ``{user}`` field, on nearly every line, one dictionary
lookup (`Redactor.redact`).  Still, a match is a turn of a Python loop, and a log has one on
nearly every line: a log's plain lines are done a block at a time without it (`plainlines`,
`Redactor.redact_bytes`), and only the other lines go through the loop.

Text is matched as ``str``: a UTF-8 or cp1252 block is decoded with ``surrogateescape`` (bytes
that are not UTF-8 come back as they were), a UTF-16 one with ``surrogatepass``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator

from bes_logdiag.library import Library
from bes_logdiag.redact.plainlines import Flags, PlainLines, fits_plain_lines
from bes_logdiag.redact.pseudonyms import CACHE_LIMIT, Pseudonyms, kept_domain

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
    """A lookbehind: the `sep` (``=`` or ``:``) just matched ends one of `keywords` (with or
    without one space before it), and the keyword starts a word."""
    looks = [
        rf"(?<![A-Za-z]{_ci(k)}{gap}{sep})(?<={_ci(k)}{gap}{sep})" for k in keywords for gap in ("", " ")
    ]
    return "(?:" + "|".join(looks) + ")"


# ``0×`` is pasting damage the scan undoes (parse.normalise); U+DCD7 is a cp1252 × kept as a byte.
_THREAD = r"\{\s*0[xX\u00d7\udcd7][0-9A-Fa-f]+\s*\}"
_RDN = r"(?i:o|ou|cn|dc)"
_LDAP_KEY = r"(?i:cn|ou|dc|o|l|st|c|uid)"
_SUBJECT_END = r"(?:(?!\s\[\d{1,5}\]\s*\(\d|\s\(\d{1,2}/\d{1,2}\s)[^\r\n])*"
"""A subject runs to the end of its record: the line's end, or a second record pasted onto it."""

_TS = r"\s*\d{1,2}/\d{1,2}\s+\d{1,2}:\d{2}:\d{2}(?:[.,]\d{1,6})?\s*\)"
_BRACKET = r"\[(?P<bracket>(?P<bname>[^\[\]\r\n]+?):(?P<bid>\d+)\])"
# ":" after a hex digit or a colon, then "::" or two more colons: maybe inside an IPv6 address;
# never a time (12:30:45 has two colons in all)
_IPV6 = r":(?<=[0-9A-Fa-f:]:)(?=:|[0-9A-Fa-f]{0,4}:[0-9A-Fa-f]{0,4}:)(?P<ipv6>[0-9A-Fa-f:.]*)"
# "=" (and ":") ending a keyword: the letter before it is tried first (size=, Tag= are not)
_EQUALS = "=(?<=[DdNnIiTt ]=)"
_UID = rf"{_after('=', 'UserId', 'UserConfigId')}(?P<uid>\s*\d+)"
_PIN = rf"{_after('=', 'PIN', 'DevicePIN')}(?P<pin>\s*(?:0[xX])?[0-9A-Fa-f]{{8}})(?![0-9A-Za-z])"
_COLON = ":(?<=[NnIiTt ]:)"
_PIN2 = rf"{_after(':', 'PIN', 'DevicePIN')}(?P<pin2>\s*(?:0[xX])?[0-9A-Fa-f]{{8}})(?![0-9A-Za-z])"

BRANCHES = (
    # "(": the timestamp, and the {user} field after it and the thread, if there is one.  A
    # timestamp with no user is passed over whole: its digits, colons and dot are tried as
    # nothing else (each line has one).
    rf"\({_TS}(?:\s*:?\s*(?:{_THREAD}\s*)?(?!{_THREAD})\{{(?P<user>[^{{}}\r\n]*)\}})?",
    _BRACKET,
    r"@(?P<email>[\w-]+(?:\.[\w-]+)*)",
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
    rf"/(?P<dn>(?:{_RDN}=[^/\r\n,;\"<>]*?(?=/{_RDN}=)/)*{_RDN}=[^/\r\n,;\"<>\s]*)",
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

_LOCAL_MARKS = frozenset("._+'%-")
"""What an address's local part holds besides letters and digits."""
_HOST_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-"
_IP_ONLY = re.compile(r"[0-9A-Fa-f:.]+")
_BRACKET_PARTS = re.compile(r"\[([^\[\]\r\n]+?):(\d+)\]")
_OCTET_TAIL = re.compile(r"\d{1,3}$")
_HEX_TAIL = re.compile(r"[0-9A-Fa-f:]{1,39}$")
_V6 = re.compile(r"[0-9A-Fa-f:]*:[0-9A-Fa-f:]*(?:\d{1,3}(?:\.\d{1,3}){3})?")
_VERSION_BEFORE = re.compile(r"(?i)(?:version|ver\.?|build|release|v)\s*$")
_SURROGATE = re.compile("[\udc80-\udcff]")
_RDN_SPLIT = re.compile(rf"((?:^|/){_RDN}=)", re.IGNORECASE)
_LDAP_SPLIT = re.compile(rf"((?:^|,\s*){_LDAP_KEY}=)")
_FREE_WORDS = re.compile(r"(?P<hex>\b0[xX][0-9A-Fa-f]+\b)|(?P<word>[^\W\d_]+)|(?P<num>\d{5,})")
"""In free text: an error code (``0x8004011d``) is kept; a word is replaced (`Pseudonyms.text_word`);
a number of five digits or more (a phone or account number) too.  Shorter numbers (a date, a
time, a count) are kept: a subject that quotes ``Current Date: 2031/01/01`` must say what it said."""

Span = tuple[int, int, str]
"""Where a token starts and ends in the text, and what replaces it."""


def protected_words(library: Library) -> set[str]:
    """The words of the library's regexes and prefilter literals (lower case, two letters or
    more): a mail subject that quotes a milestone line keeps them, so a pattern finds there what
    it found before (and the quotes around it still tell the scan it is quoted text)."""
    words: set[str] = set()
    for p in library.patterns:
        texts = [p.regex.pattern, *(lit.decode("utf-8", "replace") for lit in p.prefilter)]
        for text in texts:
            words.update(w.lower() for w in re.findall(r"[A-Za-z][A-Za-z0-9]+", text))
    return words


def _server_branches(servers: Iterable[str]) -> list[str]:
    """The server names, found from their first character in either case (a branch must start
    with a plain character), standing alone: no letter or digit on either side.  Groups are
    named ``server0``, ``server1``, ... (a name may be used once in a pattern)."""
    by_first: dict[str, list[str]] = {}
    for name in sorted({s for s in servers if s}, key=lambda s: (-len(s), s)):
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


class Redactor:
    """The grammar compiled for one run: `redact` for log text, `free` for free text (a subject,
    a DN value, a note), where every other word is pseudonymised too."""

    def __init__(
        self, pseudonyms: Pseudonyms, servers: Iterable[str] = (), *, plain: bool = True, engine: str = "auto"
    ) -> None:
        """``plain``: redact a log's plain lines a block at a time (`redact_bytes`), finding the
        others with `engine` (as the scan's: auto, hyperscan, python).  The output is the same
        either way, only slower without (the tests compare them)."""
        self.ps = pseudonyms
        servers = list(servers)
        # One pattern per branch group, the servers' alternatives in between: each alternative
        # of the joined pattern starts with a plain character (see the module's docstring).
        server_branches = _server_branches(servers)
        self._regex = re.compile("|".join([*BRANCHES, *server_branches]))
        self._escaped = False
        self._users: dict[str, str] = {}
        assert self._regex.groupindex["user"] == 1  # (read by number in the hot loop of `redact`)
        self._handlers: dict[str, Callable[[re.Match[str], str, int], Span | None]] = {
            "user": self._user,
            "bracket": self._bracket,
            "email": self._email,
            "ipv4": self._ipv4,
            "host": self._host,
            "ipv6": self._ipv6,
            "uid": lambda m, s, lo: self._kept_prefix(m, "uid", self.ps.user_id),
            "pin": lambda m, s, lo: self._pin(m, "pin"),
            "pin2": lambda m, s, lo: self._pin(m, "pin2"),
            "imei": lambda m, s, lo: self._kept_prefix(m, "imei", self.ps.imei),
            "imei2": lambda m, s, lo: self._kept_prefix(m, "imei2", self.ps.imei),
            "subject": lambda m, s, lo: self._kept_prefix(
                m, "subject", lambda v: self.free(self._real(v, m))
            ),
            "subject2": lambda m, s, lo: self._kept_prefix(
                m, "subject2", lambda v: self.free(self._real(v, m))
            ),
            "ldap": self._ldap,
            "dn": self._dn,
        }
        for n in range(len(server_branches)):
            self._handlers[f"server{n}"] = lambda m, s, lo: (m.start(), m.end(), self.ps.server(m.group()))
        self._plain: PlainLines | None = None
        if plain and fits_plain_lines(servers):
            replace = [self._plain_uid, self._plain_pin, self._plain_pin, self._plain_bracket]
            tokens = list(zip(PLAIN_FIRST, replace))
            flags = Flags(self._regex, TLDS, servers, engine, plain=PLAIN_TOKENS.groupindex)
            self._plain = PlainLines(flags, self._plain_user, PLAIN_TOKENS, tokens)

    def redact(self, text: str, *, escaped: bool = False) -> str:
        """Log text with every token replaced.  ``escaped``: the text was decoded from UTF-8 with
        ``surrogateescape``; a line holding bytes that are not UTF-8 is cp1252 (as the scan reads
        it, `decode.decode_line`), and its names are read so before they are pseudonymised.

        One match of the grammar after the other (`redact_bytes` is the fast way for a log)."""
        self._escaped = escaped
        return self._redact(text)

    def redact_bytes(self, block: bytes) -> bytes:
        """Whole lines of UTF-8 or cp1252 (by the line) redacted as `redact` redacts their text
        decoded with ``surrogateescape``: plain lines a block at a time (`PlainLines`)."""
        if self._plain is None:
            return self._escaped_lines(block)
        return self._plain.redact(block, self._escaped_text, self._escaped_lines)

    def _escaped_lines(self, block: bytes) -> bytes:
        return self._escaped_text(block.decode("utf-8", "surrogateescape")).encode("utf-8", "surrogateescape")

    def _escaped_text(self, text: str) -> str:
        self._escaped = True
        return self._redact(text)

    # -- plain lines (`PlainLines`): a token's text (ASCII) in, its replacement out -----------

    def _plain_user(self, raw: str) -> str:
        """A {user} field, as `_user_name` reads it."""
        if not raw.strip():
            return raw
        return self.ps.address(raw) if "@" in raw else self.ps.display(raw)

    def _plain_pin(self, token: str) -> str:
        """``=2E219AE4``, ``: 0x2e219ae4``: the last eight characters are the PIN (`_pin`)."""
        return token[:-8] + self.ps.pin(token[-8:])

    def _plain_uid(self, token: str) -> str:
        """``=2573``, ``= 2573`` (`_kept_prefix`)."""
        digits = token[1:].lstrip()
        return token[: len(token) - len(digits)] + self.ps.user_id(digits)

    def _plain_bracket(self, token: str) -> str:
        """``[Dundas, Ian:2573]``, cut as `BRANCHES` cuts it (`_bracket`)."""
        m = _BRACKET_PARTS.fullmatch(token)
        new = self._bracket_text(m[1], m[2]) if m else None
        return token if new is None else new

    def _redact(self, text: str) -> str:
        out: list[str] = []
        append = out.append
        pos = 0
        users, handlers = self._users, self._handlers
        # (the loop of `_spans`, with the {user} field, on nearly every line, done inline)
        for m in self._regex.finditer(text):
            group = m.lastgroup
            if group is None:
                continue  # a timestamp with no user after it
            if group == "user":
                raw = m.group(1)
                new = users.get(raw)
                if new is None:
                    new = self._user_name(raw, m)
                    if new is None:
                        continue
                start, end = m.span(1)
            else:
                span = handlers[group or ""](m, text, pos)
                if span is None or span[0] < pos:
                    continue
                start, end, new = span
            append(text[pos:start])
            append(new)
            pos = end
        if not out:
            return text
        append(text[pos:])
        return "".join(out)

    def free(self, text: str) -> str:
        """Free text: the tokens above, then every other word and number."""
        out: list[str] = []
        pos = 0
        for start, end, new in self._spans(text):
            out.append(self._words(text[pos:start]))
            out.append(new)
            pos = end
        out.append(self._words(text[pos:]))
        return "".join(out)

    def _words(self, text: str) -> str:
        return _FREE_WORDS.sub(self._word, text)

    def _word(self, m: re.Match[str]) -> str:
        kind = m.lastgroup
        if kind == "word":
            return self.ps.text_word(m.group())
        return self.ps.digits(m.group()) if kind == "num" else m.group()

    def _spans(self, text: str) -> Iterator[Span]:
        pos = 0
        handlers = self._handlers
        for m in self._regex.finditer(text):
            if m.lastgroup is None:
                continue
            span = handlers[m.lastgroup](m, text, pos)
            if span is not None and span[0] >= pos:
                yield span
                pos = span[1]

    # -- the tokens: each gives (start, end, replacement), or None to leave the text ----------

    def _real(self, token: str, m: re.Match[str]) -> str:
        """`token` as the scan reads it: a cp1252 line's bytes decoded as cp1252."""
        if not self._escaped or token.isascii():
            return token
        s = m.string
        line = s[s.rfind("\n", 0, m.start()) + 1 : (s.find("\n", m.end()) + 1 or len(s) + 1) - 1]
        if _SURROGATE.search(line) is None:
            return token
        return token.encode("utf-8", "surrogateescape").decode("cp1252", "replace")

    def _user(self, m: re.Match[str], s: str, lo: int) -> Span | None:
        name = self._user_name(m["user"], m)
        return None if name is None else (m.start("user"), m.end("user"), name)

    def _user_name(self, raw: str, m: re.Match[str]) -> str | None:
        """The pseudonym of a ``{user}`` field: an address when it holds an ``@`` (as the scan
        reads it, `filescan._names_of`), else a display name."""
        if not raw.strip():
            return None
        user = self._real(raw, m)
        name = self.ps.address(user) if "@" in user else self.ps.display(user)
        if raw.isascii():  # (a non-ASCII one may read otherwise on a cp1252 line)
            if len(self._users) >= CACHE_LIMIT:
                self._users.clear()
            self._users[raw] = name
        return name

    def _bracket(self, m: re.Match[str], s: str, lo: int) -> Span | None:
        new = self._bracket_text(self._real(m["bname"], m), m["bid"])
        return None if new is None else (m.start(), m.end(), new)

    def _bracket_text(self, name: str, uid: str) -> str | None:
        if name.strip().isdigit():  # [12:30]: a time, not a user
            return None
        if _IP_ONLY.fullmatch(name):  # [2001:db8::1]: an address and its last group
            ip = self.ps.ipv6(f"{name}:{uid}")
            return f"[{ip}]" if ip else None
        return f"[{self.ps.display(name)}:{self.ps.user_id(uid)}]"

    def _email(self, m: re.Match[str], s: str, lo: int) -> Span | None:
        at = start = m.start()
        while start > lo and at - start < 64 and (s[start - 1].isalnum() or s[start - 1] in _LOCAL_MARKS):
            start -= 1  # back to the local part's start
        if start == at or kept_domain(m["email"]):
            return None
        return start, m.end(), self.ps.address(self._real(s[start : m.end()], m))

    def _host(self, m: re.Match[str], s: str, lo: int) -> Span | None:
        dot = m.start()
        start = dot
        # back to the host name's start, no further than `lo` (a line end stops it anyway)
        before = s[max(lo, s.rfind("\n", lo, dot) + 1) : dot]
        start -= len(before) - len(before.rstrip(_HOST_CHARS))
        while start < dot and s[start] in ".-":
            start += 1
        if start == dot or (start > 0 and s[start - 1] == "@"):
            return None  # no name before the top-level domain, or an address's domain
        name = s[start : m.end()]
        if kept_domain(name):
            return None
        return start, m.end(), self.ps.host(name)

    def _ipv4(self, m: re.Match[str], s: str, lo: int) -> Span | None:
        dot = m.start()
        first = _OCTET_TAIL.search(s, max(lo, dot - 3), dot)
        if first is None:
            return None
        start = first.start()
        if start > 0 and re.match(r"[\w.]", s[start - 1]):
            return None  # 1.2.3.4.5, or inside a word
        if _VERSION_BEFORE.search(s, max(0, start - 12), start):
            return None  # "Version 4.1.6.23": a version, not an address
        new = self.ps.ipv4(s[start : m.end()])
        return (start, m.end(), new) if new else None

    def _ipv6(self, m: re.Match[str], s: str, lo: int) -> Span | None:
        colon = m.start()
        before = _HEX_TAIL.search(s, max(lo, colon - 39), colon)
        start = before.start() if before else colon
        whole = _V6.match(s, start, m.end())
        if whole is None:
            return None
        end = whole.end()
        text = s[start:end]
        if (start > 0 and re.match(r"[\w.:]", s[start - 1])) or (end < len(s) and re.match(r"[\w]", s[end])):
            return None  # MAPIMailbox::Open, 12:30:45.5, a word
        if text.count(":") < 2:
            return None
        zone = re.match(r"%[\w.-]+", s[end:])
        if zone:
            end += zone.end()
            text = s[start:end]
        new = self.ps.ipv6(text)
        return (start, end, new) if new else None

    def _kept_prefix(self, m: re.Match[str], group: str, change: Callable[[str], str]) -> Span:
        value = m[group]
        body = value.lstrip()
        start = m.start(group) + len(value) - len(body)
        return start, m.end(group), change(body)

    def _pin(self, m: re.Match[str], group: str) -> Span:
        value = m[group]
        return m.end(group) - 8, m.end(group), self.ps.pin(value[-8:])

    def _dn(self, m: re.Match[str], s: str, lo: int) -> Span:
        # "o=Example/ou=Exchange/cn=Recipients/cn=jdoe" after the "/": keys kept, values redacted
        parts = _RDN_SPLIT.split(self._real(m["dn"], m))
        new = "".join(p if i % 2 or p.lower() in DN_KEPT else self.free(p) for i, p in enumerate(parts))
        return m.start("dn"), m.end("dn"), new

    def _ldap(self, m: re.Match[str], s: str, lo: int) -> Span:
        parts = _LDAP_SPLIT.split(self._real(m["ldap"], m))
        new = "".join(p if i % 2 or p.lower() in DN_KEPT else self.free(p) for i, p in enumerate(parts))
        return m.start("ldap"), m.end("ldap"), new
