"""What replaces each token of a log line (`tokens`: which text is one), one regex pass per block of
lines: `Redactor`, and the words a redaction keeps (`protected_words`).

Text is matched as ``str``: a UTF-8 or cp1252 block is decoded with ``surrogateescape`` (bytes
that are not UTF-8 come back as they were), a UTF-16 one with ``surrogatepass``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator

from bes_logdiag.library import Library
from bes_logdiag.redact.plainlines import Flags, PlainLines, fits_plain_lines
from bes_logdiag.redact.pseudonyms import CACHE_LIMIT, Pseudonyms, kept_domain
from bes_logdiag.redact.tokens import (
    BRACKET_PARTS,
    BRANCHES,
    DN_KEPT,
    LDAP_SPLIT,
    NAME_NOT_STARTED,
    PLAIN_FIRST,
    PLAIN_TOKENS,
    RDN_SPLIT,
    TLDS,
    X400_KEPT,
    X400_SPLIT,
    server_branches,
)

_LOCAL_MARKS = frozenset("._+'%-#&!$^~") | frozenset(map(chr, range(0xDC80, 0xDD00)))
"""What an address's local part holds besides letters and digits: marks, and the bytes of a cp1252
line past ASCII (kept as escapes, `_real`), the letters of ``jürgen.müller@``."""
_HOST_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-"
_IP_ONLY = re.compile(r"[0-9A-Fa-f:.]+")
_OCTET_TAIL = re.compile(r"\d{1,3}$")
_HEX_TAIL = re.compile(r"[0-9A-Fa-f:]{1,39}$")
_V6 = re.compile(r"[0-9A-Fa-f:]*:[0-9A-Fa-f:]*(?:\d{1,3}(?:\.\d{1,3}){3})?")
_VERSION_BEFORE = re.compile(r"(?i)\b(?:version|ver\.?|build|release|v)\s*$")
"""(a word of its own: the "v" that ends "dev" or "SRV" is no version)"""
_IPV4_ONLY = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")
_SURROGATE = re.compile("[\udc80-\udcff]")
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
        # of the joined pattern starts with a plain character (see `tokens`).
        servers_found = server_branches(servers)
        self._regex = re.compile("|".join([*BRANCHES, *servers_found]))
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
            "x400": self._x400,
            "notstarted": self._not_started,
        }
        for n in range(len(servers_found)):
            self._handlers[f"server{n}"] = lambda m, s, lo: (
                m.start(),
                m.end(),
                self.ps.server(self._real(m.group(), m)),
            )
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
        """A {user} field's pseudonym: an address when it holds an ``@``, else a display name (a
        parsed line's, `_user_name`, and a plain line's)."""
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
        m = BRACKET_PARTS.fullmatch(token)
        new = self._bracket_text(m["bname"], m["bid"]) if m else None
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
        name = self._plain_user(self._real(raw, m))
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
        if _IPV4_ONLY.fullmatch(name):  # [203.0.113.78:3101]: an address and its port
            ip = self.ps.ipv4(name)
            return f"[{ip}:{uid}]" if ip else None
        if _IP_ONLY.fullmatch(name):  # [2001:db8::1]: an address and its last group
            ip = self.ps.ipv6(f"{name}:{uid}")
            if ip:
                return f"[{ip}]"
            if not any(c.isalpha() for c in name):
                return None
            # (no address: a name of hex letters alone, [Ada:1001], is a user's as the scan reads it)
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
        # back to the host name's start, no further than `lo`, 64 characters at a time: a match
        # costs the length of its name, never that of the line before it
        while start > lo:
            floor = max(lo, start - 64)
            before = s[floor:start]
            kept = before.rstrip(_HOST_CHARS)
            start = floor + len(kept)
            if kept:
                break
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
        return self._dn_values(m, "dn", RDN_SPLIT)

    def _ldap(self, m: re.Match[str], s: str, lo: int) -> Span:
        return self._dn_values(m, "ldap", LDAP_SPLIT)

    def _not_started(self, m: re.Match[str], s: str, lo: int) -> Span:
        """``User Test_User not started``: a name the scan reads as the user's (one word, a
        capital, digit or underscore in it) is a display name's pseudonym; other words (``Ian
        Dundas``, ``jdoe``) each get a word's, their case kept, and the scan still reads none."""
        name = self._real(m["notstarted"], m)
        new = self.ps.display(name) if NAME_NOT_STARTED.fullmatch(name) else self._words(name)
        return m.start("notstarted"), m.end("notstarted"), new

    def _x400(self, m: re.Match[str], s: str, lo: int) -> Span:
        """An X.400 address: its keys kept, and the values but the country's and the carrier's
        (`X400_KEPT`) redacted as free text."""
        parts = X400_SPLIT.split(self._real(m["x400"], m))
        new = [parts[0]]
        for key, value in zip(parts[1::2], parts[2::2]):
            kept = key.strip("; \t=").lower() in X400_KEPT or value.lower() in DN_KEPT
            new += [key, value if kept else self.free(value)]
        return m.start("x400"), m.end("x400"), "".join(new)

    def _dn_values(self, m: re.Match[str], group: str, keys: re.Pattern[str]) -> Span:
        """A DN cut at its `keys`: the keys kept, each value redacted as free text but for
        Exchange's fixed ones (`DN_KEPT`)."""
        parts = keys.split(self._real(m[group], m))
        new = "".join(p if i % 2 or p.lower() in DN_KEPT else self.free(p) for i, p in enumerate(parts))
        return m.start(group), m.end(group), new
