"""Plain lines: most lines of a log, whose names are their header's {user} field and maybe a PIN, a
user id or ``[Last, First:N]``, redacted a block at a time by regex splits and dictionary
look-ups in C, with no Python code per line.

A line whose header is in BES's own form, ``[30000] (12/30 00:00:00.095):{0x92A} {user} ...`` or
the same with no {user}, is cut by one `re.split` (`HEADER`) into its header, its {user} field and
the rest of the line.  The grammar reads such a header exactly so (its first alternative, up to
the ``}`` of the user field or to the ``)``), so the {user} fields are replaced through a
dictionary of those already seen (a BES has a few thousand users), and the rests are kept as
they are: unless the grammar may find a token in one.  Those rests are told by one pass over
them all (`Flags`): hyperscan with a trigger for every alternative of the grammar where it can
start (`TRIGGERS`, each firing wherever its alternative can match, and sometimes where it
cannot), or, without hyperscan, the grammar itself.  The rests whose only tokens can be PINs,
user ids and ``[Last, First:N]`` (`PLAIN_TRIGGERS`) are cut by one more split and replaced
through dictionaries too (`tokens.PLAIN_TOKENS`); the others go through the grammar's loop, all
at once.  A line with a byte that is not ASCII goes through it whole (the grammar reads its names
as UTF-8 or cp1252, by the line).  A line not in BES's form is text of the rest before it.

The output is the grammar's own, byte for byte (tests/test_redact_plain_lines.py).
"""

from __future__ import annotations

import re
import threading
from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from itertools import accumulate
from typing import Any

from bes_logdiag.prefilter import uses_hyperscan

Replace = Callable[[str], str]
"""A token's text to the text that replaces it (itself, when it names nobody)."""
_WS = rb"\t\n\x0b\x0c\r\x1c-\x1f "
"""The ASCII characters that ``\\s`` matches in the grammar's ``str`` patterns."""
_WS_IN_LINE = r"\t\x0b\x0c\r\x1c-\x1f "

HEADER = re.compile(
    rb"(\n(?:\[[0-9]+\] )?\([0-9]{1,2}/[0-9]{1,2} [0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:[.,][0-9]{1,6})?\)"
    rb":\{0x[0-9A-Fa-f]+\} *)"
    # a {user} field (unless it is a second thread: the grammar reads no user then), or none
    rb"(?:\{(?![" + _WS + rb"]*0[xX][0-9A-Fa-f]+[" + _WS + rb"]*\})([^{}\r\n]*)\}|(?=[^" + _WS + rb"{]))"
)
"""A line in BES's form, after the line end before it: the header and its {user} field.
`re.split` gives, per line, its header, its user (None when it has none) and the text up to
the next such line: the rest of the line, and any lines that are not in this form."""
HEADER_ALPHABET = frozenset("[]0123456789 ()/:.{}xabcdefABCDEF")
"""What BES's header is made of: a server name made of it alone could be found in a header."""

TRIGGERS: tuple[tuple[str, bool], ...] = (
    # "(": a timestamp (a record pasted into the line); its spaces may go on to the next line
    (rf"\([{_WS_IN_LINE}]*(?:\n|[0-9]{{1,2}}/)", False),
    ("@", False),  # an address
    (r"\.[0-9]{1,3}\.[0-9]", False),  # an IPv4 address
    ("", True),  # a host name's top-level domain (`tokens.TLDS`, filled in by `triggers`)
    (r"[0-9A-Fa-f:]:(?::|[0-9A-Fa-f]{0,4}:[0-9A-Fa-f]{0,4}:)", False),  # an IPv6 address
    (rf"(?:imei|subject|cn)[{_WS_IN_LINE}]{{0,3}}=", True),  # keywords and "=" (CN=: an LDAP DN)
    (rf"(?:imei|subject)[{_WS_IN_LINE}]{{0,3}}:", True),  # keywords and ":"
    (r"/(?:o|ou|cn|dc)=", True),  # an Exchange DN
    (rf"x400[{_WS_IN_LINE}]{{0,3}}[=:]", True),  # an X.400 address
    (rf"(?:not|be)[{_WS_IN_LINE}]+started", True),  # "User Test_User not started"
)
"""Where the alternatives of `tokens.BRANCHES` may start in a line's rest, but for the plain
tokens': (pattern, caseless) for hyperscan.  With ``--servers``, each server name is one more."""
PLAIN_TRIGGERS: tuple[tuple[str, bool], ...] = (
    (r"\[(?:[^\[\]\r\n]|\[[^\[\]\r\n]*\])*:[0-9]+\]", False),  # [Last, First:N], [Last, First [TAG]:N]
    (rf"(?:user(?:config)?id|pin)[{_WS_IN_LINE}]{{0,3}}=", True),
    (rf"pin[{_WS_IN_LINE}]{{0,3}}:", True),
)
"""Where the plain tokens (`tokens.PLAIN_TOKENS`) may start."""
_HARD, _WIDE, _PLAIN = 0, 1, 2
SEEN_LIMIT = 1 << 15
"""Tokens remembered per kind with their replacement (a speed-up only: `Pseudonyms` keeps its
own): far more users and devices than a BES has, far less memory than a Router log's PINs."""


def triggers(tlds: Iterable[str], servers: Iterable[str]) -> list[tuple[str, int, bool]]:
    """Every pattern of the hyperscan database: (pattern, id, caseless)."""
    host = r"\.(?:" + "|".join(re.escape(t) for t in sorted(tlds)) + ")"
    out = [(p or host, _HARD, caseless) for p, caseless in TRIGGERS]
    # (a name past ASCII is left to the line's "not ASCII" trigger: its bytes depend on the
    # line's encoding, ``SRVé`` two in UTF-8, one in cp1252, and every line holding it has one)
    out += [(re.escape(s), _HARD, True) for s in sorted(set(servers)) if s and s.isascii()]
    out += [(p, _PLAIN, caseless) for p, caseless in PLAIN_TRIGGERS]
    out.append((r"[\x80-\xff][^\n]*\n", _WIDE, False))  # not ASCII (reported once per line)
    return out


def fits_plain_lines(servers: Iterable[str]) -> bool:
    """Whether no server name could stand inside BES's header (`HEADER_ALPHABET`)."""
    return not any(s and set(s) <= HEADER_ALPHABET for s in servers)


class Flags:
    """Which rests of lines the grammar may find a token in, and which hold a byte that is not
    ASCII: hyperscan's triggers, or the grammar itself (`grammar`, a ``str`` regex whose groups
    named in `plain` are the plain tokens).  `engine` as the scan's (``auto``: hyperscan when it
    imports); the database is compiled when first used (a process that only redacts file names
    never needs it)."""

    def __init__(
        self,
        grammar: re.Pattern[str],
        tlds: Iterable[str],
        servers: Iterable[str],
        engine: str = "auto",
        *,
        plain: Iterable[str] = (),
    ) -> None:
        self._grammar = grammar
        self._plain = frozenset(plain)
        self._patterns = triggers(tlds, servers)
        self._hyperscan = uses_hyperscan(engine)
        self._db: Any = None
        self._local = threading.local()

    def find(self, rests: list[bytes]) -> tuple[set[int], set[int], set[int]]:
        """The indexes of the rests a token may be in, of those where it can only be a plain
        token, and of those not ASCII (in no particular order; the first two do not meet)."""
        blob = b"\n".join(rests) + b"\n"  # (a line end after each, as in the log)
        if self._hyperscan:
            hard, plain, wide = self._triggered(blob, rests)
        else:
            hard, plain, wide = self._matched(blob, rests)
        return hard, plain.difference(hard), wide

    def _matched(self, blob: bytes, rests: list[bytes]) -> tuple[set[int], set[int], set[int]]:
        hard: set[int] = set()
        plain: set[int] = set()
        wide: set[int] = set()
        if not blob.isascii():
            wide.update(i for i, r in enumerate(rests) if not r.isascii())
        starts = _starts(rests)
        # Latin-1: one character per byte, so offsets are the blob's; a rest not ASCII is in `wide`.
        for m in self._grammar.finditer(blob.decode("latin-1")):
            # A match may run on into the next rest (its spaces): both are the grammar's to read.
            first = bisect_right(starts, m.start()) - 1
            last = bisect_right(starts, max(m.end() - 1, m.start())) - 1
            (plain if first == last and m.lastgroup in self._plain else hard).update(range(first, last + 1))
        return hard, plain, wide

    def _triggered(self, blob: bytes, rests: list[bytes]) -> tuple[set[int], set[int], set[int]]:
        import hyperscan

        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            if self._db is None:
                self._db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
                self._db.compile(
                    expressions=[p.encode("ascii") for p, _, _ in self._patterns],
                    ids=[i for _, i, _ in self._patterns],
                    elements=len(self._patterns),
                    flags=[
                        hyperscan.HS_FLAG_CASELESS if caseless else 0 for _, _, caseless in self._patterns
                    ],
                )
            scratch = self._local.scratch = hyperscan.Scratch(self._db)
        ends: list[tuple[int, int]] = []

        def on_match(index: int, start: int, end: int, flags: int, context: object) -> None:
            ends.append((end, index))

        self._db.scan(blob, match_event_handler=on_match, scratch=scratch)
        found: tuple[set[int], set[int], set[int]] = (set(), set(), set())
        if ends:
            starts = _starts(rests)
            for end, index in ends:  # (a trigger ends in its rest, or on the line end after it)
                found[index].add(bisect_right(starts, end - 1) - 1)
        return found[_HARD], found[_PLAIN], found[_WIDE]


class PlainLines:
    """`HEADER`'s split of a block, `Flags`, and the {user} fields seen so far (up to
    `SEEN_LIMIT` per kind, then started afresh: memory stays flat)."""

    def __init__(
        self,
        flags: Flags,
        user: Replace,
        tokens: re.Pattern[str],
        replace: Sequence[tuple[str, Replace]],
    ) -> None:
        """`user`: the pseudonym of an ASCII {user} field (itself when it names nobody);
        `tokens`: the plain tokens' regex, a group per token (`tokens.PLAIN_TOKENS`), and per
        group what the split leaves out in front of it and the replacement of the whole."""
        if tokens.groups != len(replace):
            raise ValueError("one replacement per group of the plain tokens' regex")
        self._flags = flags
        self._user = user
        self._seen: dict[bytes | None, bytes] = {None: b""}
        self._tokens = tokens
        self._token_seen: list[tuple[dict[str | None, str], str, Replace]] = [
            ({None: ""}, first, r) for first, r in replace
        ]

    def redact(self, block: bytes, rests: Callable[[str], str], lines: Callable[[bytes], bytes]) -> bytes:
        """`block` (whole lines, ASCII-compatible) redacted.  `rests`: the grammar's loop on
        ASCII text; `lines`: the grammar's loop on whole lines, read as the scan reads them."""
        # Per line in BES's form: [.., header, user or None, rest, ..]; the line end before the
        # first line makes it one too, and comes off at the end (no token ever starts with it).
        parts: list[bytes | None] = HEADER.split(b"\n" + block)
        found: list[bytes] = parts[::3]  # type: ignore[assignment]
        users = parts[2::3]
        hard, plain, wide = self._flags.find(found)
        if not block.isascii():
            wide.update(i + 1 for i, u in enumerate(users) if u is not None and not u.isascii())
        seen = self._seen
        new = set(users).difference(seen)
        if new:
            if len(seen) + len(new) > SEEN_LIMIT:
                seen.clear()
                seen[None] = b""
                new = set(users)
            for u in new:
                seen[u] = self._user_field(u)  # type: ignore[arg-type]
        parts[2::3] = map(seen.__getitem__, users)
        for i in wide:  # the whole line, user and all (and any after it not in BES's form)
            line = found[i]
            if i:
                head, user = parts[3 * i - 2], users[i - 1]
                line = head + (b"" if user is None else b"{" + user + b"}") + line  # type: ignore[operator]
                parts[3 * i - 2] = parts[3 * i - 1] = b""
            parts[3 * i] = lines(line)
        for todo, redact in ((hard, rests), (plain, self._plain_tokens)):
            todo = todo.difference(wide)
            if todo:  # all at once, a line of their own between them (`_APART`)
                order = sorted(todo)
                done = redact(_APART.join(found[i].decode("ascii") for i in order)).split(_APART)
                if len(done) != len(order):
                    raise AssertionError("a redacted rest holds the separator")
                for i, text in zip(order, done):
                    parts[3 * i] = text.encode("utf-8", "surrogateescape")
        return b"".join(parts)[1:]  # type: ignore[arg-type]

    def _plain_tokens(self, text: str) -> str:
        """Rests whose only tokens are plain ones: cut out, replaced through dictionaries."""
        parts: list[str | None] = self._tokens.split(text)  # type: ignore[assignment]
        stride = len(self._token_seen) + 1
        for column, (seen, first, replace) in enumerate(self._token_seen, 1):
            found = parts[column::stride]
            new = set(found).difference(seen)
            if new:
                if len(seen) + len(new) > SEEN_LIMIT:
                    seen.clear()
                    seen[None] = ""
                    new = set(found)
                for t in new:
                    seen[t] = replace(first + t)  # type: ignore[operator]  # (never None: seen)
            parts[column::stride] = map(seen.__getitem__, found)
        return "".join(parts)  # type: ignore[arg-type]

    def _user_field(self, raw: bytes) -> bytes:
        if not raw.isascii():
            return b""  # (its line is redacted whole)
        return b"{" + self._user(raw.decode("ascii")).encode("utf-8", "surrogateescape") + b"}"


def _starts(rests: list[bytes]) -> list[int]:
    """Where each rest starts in their blob (a line end after each)."""
    return list(accumulate(map(_ONE.__add__, map(len, rests)), initial=0))  # (in C)


_ONE = 1
_APART = "\n\udcff\n"
"""Between two rests given to the grammar at once: a line of one escaped byte (no rest holds one,
being ASCII).  No token of the grammar runs over a line end into it (nothing after spaces is
one), nor over it; every token's line, and every look back, stops at its line ends."""
