"""One name to its pseudonym: addresses, display names, user ids, PINs, IMEIs, IPs, hosts, servers.

Every pseudonym is a pure function of the key and the original (`permute`), so a person has the
same pseudonym in every file, service, server, process and run.  Each keeps the shape that the
joins of the diagnosis compare (README "Identities"; `bes_logdiag.names`):

- a name is pseudonymised word by word: each word (a run of letters and digits, folded as
  `names.fold` folds it) becomes a made-up word of ten letters, and what lies between words
  (``.``, ``_``, ``-``) stays; an apostrophe, which the join leaves out, goes.  So
  ``ian.dundas@...`` becomes ``<ian>.<dundas>@...`` and ``Dundas, Ian`` becomes ``<Dundas>,
  <Ian>``: the address still has the shape of the name, and an address that did not fit a name
  still does not;
- a display name is cut into first and last name exactly as `names.name_keys` cuts it
  (`names.first_last`: at the first comma, else before the last word that is no affix), and a
  part of several words (``de Vries``) is one word for the join, so it is pseudonymised as one and
  shown with its spaces again; a part with an affix (an initial, a suffix, a tag: `names.is_affix`)
  or an apostrophe is shown as one word, its affixes beside it;
- user ids, PINs and IMEIs go through a keyed permutation: no two can ever share a pseudonym.

Two spellings that fold alike (``jörg`` and ``joerg``) get one pseudonym for the word: the
diagnosis reads them as one name, and so do two that differ by an apostrophe (``o'brien`` and
``obrien``).  Two addresses are two mailboxes to the scan, however alike they fold: the one
spelled otherwise than its folded shape gets a ``+tag`` of its own (``<jorg>.<meier>+<tag>@``),
which the join by name shape leaves out (`names.email_key`).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable

from bes_logdiag.names import (
    clean_address,
    clean_name,
    first_last,
    fold,
    is_affix,
    is_initial,
    is_tag,
    name_tokens,
    part_key,
)
from bes_logdiag.parse import normalise
from bes_logdiag.redact.keys import RedactionKey
from bes_logdiag.redact.mapping import Mapping
from bes_logdiag.redact.permute import KeyedHash

_CONSONANTS = "bcdfghjklmnprstvwxyz"
_VOWELS = "aeiou"
WORD_SYLLABLES = 5
"""Ten letters: 10**10 words, so thousands of names are told apart with near certainty."""
_WORD = re.compile(r"[^\W_]+")
_HOST_LABELS = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*")
KEPT_DOMAINS = ("blackberry.net", "blackberry.com", "rim.net", "rim.com")
"""BlackBerry's own relays and services (``network@etp1006.etp.na.blackberry.net``,
``srp.na.blackberry.net``): public infrastructure, not personal, and the activation milestone
``Queuing DATA from network@...`` names one."""
PSEUDO_TLD = "example"
"""Every pseudonymous host ends in the domain RFC 2606 reserves for examples."""
ID_SHORT = 8
"""User ids of up to this many digits share one permuted range: their pseudonyms are ``9`` and nine
digits, outside the ids BES gives (issue 18: no original id may show up as another's pseudonym)."""
_ID_RANGE = (10 ** (ID_SHORT + 1) - 10) // 9
"""How many digit strings have 1 to ID_SHORT digits."""
_PRIVATE_V4 = (
    (ipaddress.IPv4Network("10.0.0.0/8"), 24),
    (ipaddress.IPv4Network("172.16.0.0/12"), 20),
    (ipaddress.IPv4Network("192.168.0.0/16"), 16),
    (ipaddress.IPv4Network("169.254.0.0/16"), 16),
)
"""Private ranges stay in their range (a pseudonymous address still says "inside the company")."""
_PUBLIC_V4 = int(ipaddress.IPv4Address("240.0.0.0"))
"""Other IPv4 addresses go to 240.0.0.0/4, reserved and never routed: clearly not anybody's."""
_V6_PREFIX = int(ipaddress.IPv6Address("2001:db8::"))
"""IPv6 addresses go to the documentation prefix 2001:db8::/32 (RFC 3849)."""
CACHE_LIMIT = 200_000
"""Distinct originals remembered per kind; past it a cache starts over (memory stays flat)."""


def cased(pseudo: str, like: str) -> str:
    """`pseudo` in the case of `like`: ``DUNDAS`` -> upper, ``Dundas`` -> capitalised, else lower."""
    if len(like) > 1 and like.isupper():
        return pseudo.upper()
    if like[:1].isupper():
        return pseudo[:1].upper() + pseudo[1:]
    return pseudo


_KEPT = frozenset([*KEPT_DOMAINS, "localhost"])
_KEPT_ENDS = tuple("." + k for k in KEPT_DOMAINS)


def kept_domain(domain: str) -> bool:
    d = domain.lower().rstrip(".")
    return d in _KEPT or d.endswith(_KEPT_ENDS)


class Pseudonyms:
    """Pseudonyms under one key.  ``mapping``, when given, is told every pseudonym made (for
    ``--map-out``); ``protected`` words (lower case) are left as they are in free text (`text_word`)."""

    def __init__(
        self,
        key: RedactionKey,
        *,
        mapping: Mapping | None = None,
        protected: Iterable[str] = (),
    ) -> None:
        self._keyed = KeyedHash(key.secret)
        self.mapping = mapping
        self.protected = frozenset(w.lower() for w in protected)
        self._caches: dict[str, dict[str, str]] = {}
        self._pins: dict[str, str] = {}

    # -- plumbing ---------------------------------------------------------------------------

    def _cached(self, kind: str, value: str, make: Callable[[str], str]) -> str:
        cache = self._caches.get(kind)
        if cache is None:
            cache = self._caches[kind] = {}
        out = cache.get(value)
        if out is None:
            if len(cache) >= CACHE_LIMIT:
                cache.clear()
            out = cache[value] = make(value)
        return out

    def _record(self, kind: str, pseudo: str, original: str) -> None:
        if self.mapping is not None:
            self.mapping.add(kind, pseudo, original)

    # -- words and names --------------------------------------------------------------------

    def word(self, folded: str) -> str:
        """One folded word (letters and digits) to ten lower-case letters."""
        return self._cached("word", folded, self._make_word)

    def _make_word(self, folded: str) -> str:
        out = self._spoken("word", folded)
        self._record("word", out, folded)
        return out

    def _spoken(self, kind: str, value: str) -> str:
        """Ten letters, consonant and vowel in turn, keyed by ``kind`` and ``value``."""
        n = self._keyed.number(kind, value, 100**WORD_SYLLABLES)
        letters = []
        for _ in range(WORD_SYLLABLES):
            n, s = divmod(n, 100)
            letters.append(_CONSONANTS[s // 5] + _VOWELS[s % 5])
        return "".join(letters)

    def shaped(self, folded: str) -> str:
        """Each word of folded text pseudonymised, what lies between words kept: ``ian.dundas``
        -> ``<ian>.<dundas>``.  The shape of the text is the shape of its pseudonym."""
        return _WORD.sub(lambda m: self.word(m.group()), folded)

    def address(self, raw: str) -> str:
        """An SMTP address (or a ``{user}`` field holding an ``@``) to its pseudonym, in lower case
        as reports keep addresses; BlackBerry's relays are kept (`KEPT_DOMAINS`)."""
        clean = clean_address(normalise(raw)) or ""
        if not clean:
            return raw
        return self._cached("address", clean, self._make_address)

    def _make_address(self, clean: str) -> str:
        local, at, domain = clean.partition("@")
        if at and kept_domain(domain):
            return clean
        # (an apostrophe is no separator to the join, `names.email_key`: o'brien@ is one word)
        shape = fold(local).replace("'", "")
        out = self.shaped(shape)
        if shape != local:
            # Another spelling of a name that another mailbox may hold in plain ASCII (jörg.meier@
            # and joerg.meier@, o'brien@ and obrien@): the scan keeps two addresses apart, so
            # their pseudonyms differ too, by a +tag that the join by name shape leaves out.
            out += "+" + self._spoken("spelling", local)
        out += at + (self.host(domain) if at else "")
        self._record("address", out, clean)
        return out

    def display(self, raw: str) -> str:
        """A display name (``Dundas, Ian``, ``Ian Dundas``, ``Test User1``) to its pseudonym,
        with single spaces as reports keep display names."""
        clean = clean_name(normalise(raw)) or ""
        if not clean:
            return raw
        return self._cached("display", clean, self._make_display)

    def _make_display(self, clean: str) -> str:
        # Cut where names.name_keys cuts (names.first_last): the first comma (Last, First), else
        # the space before the last word that is no affix; written back in the name's own order.
        first, sep, last = first_last(clean)
        if sep == ",":
            out = self._name_part(last) + sep + self._name_part(first)
        else:
            out = self._name_part(first) + sep + self._name_part(last)
        self._record("display_name", out, clean)
        return out

    def _name_part(self, part: str) -> str:
        core = part.strip()
        if not core:
            return part
        lead, trail = part[: len(part) - len(part.lstrip())], part[len(part.rstrip()) :]
        tokens = name_tokens(core)
        if "'" in core or any(is_affix(t) for t in tokens):
            return lead + self._with_affixes(tokens) + trail
        # names.name_keys joins the words of a part: "de Vries" is "devries" for the join
        q = self.shaped(fold(core).strip().replace(" ", ""))
        pieces = core.split(" ")
        cuts = _cuts(len(q), [len(fold(p)) for p in pieces])
        if cuts is None:
            return lead + cased(q, core) + trail
        segments = [q[a:b] for a, b in zip([0, *cuts], [*cuts, len(q)])]
        return lead + " ".join(cased(s, p) for s, p in zip(segments, pieces)) + trail

    def _with_affixes(self, tokens: list[str]) -> str:
        """A part with affixes (``Ian J.``, ``Smith Jr.``, ``Anna [EXT]``) or an apostrophe
        (``O'Brien``): its words run together into one pseudonym, as `names.part_key` reads them
        (apostrophes left out), where the first word stood;
        a suffix kept, an initial another letter, a tag's words made up (`names.is_affix`
        still tells each for an affix)."""
        words = [t for t in tokens if not is_affix(t)]
        joined = cased(self.shaped(part_key(" ".join(words))), words[0]) if words else ""
        out = []
        for t in tokens:
            if not is_affix(t):
                if t is words[0]:
                    out.append(joined)
            elif is_initial(t):
                letter = "abcdefghijklmnopqrstuvwxyz"[self._keyed.number("initial", fold(t[0]), 26)]
                out.append(cased(letter, t[0]) + ".")
            elif is_tag(t):
                out.append(_WORD.sub(lambda m: self.text_word(m.group()), t))
            else:
                out.append(t)
        return " ".join(out)

    def text_word(self, word: str) -> str:
        """A word of free text (a mail subject, a DN): letters become a made-up word in the same
        case, digits other digits; a word of the pattern library (`protected`), and a single
        letter (the ``x`` of ``0x1A``), stay."""
        if word.isdigit():
            return self.digits(word)
        if len(word) < 2 or word.lower() in self.protected:
            return word
        return cased(self.shaped(fold(word)), word)

    def digits(self, text: str) -> str:
        """Digits to as many other digits (no join rests on them: numbers in a subject)."""
        out = ""
        n = 0
        while len(out) < len(text):
            out += str(int.from_bytes(self._keyed.digest(f"digits/{n}", text), "big"))[1:]
            n += 1
        return out[: len(text)]

    # -- numbers ----------------------------------------------------------------------------

    def user_id(self, raw: str) -> str:
        """A user id to ``9`` and nine digits (ids of up to eight digits), one to one."""
        return self._cached("user_id", raw, self._make_user_id)

    def _make_user_id(self, raw: str) -> str:
        if len(raw) <= ID_SHORT:
            index = (10 ** len(raw) - 10) // 9 + int(raw)  # the digit strings, shortest first
            out = "9" + f"{self._keyed.permute('user_id', index, _ID_RANGE):0{ID_SHORT + 1}d}"
        else:  # longer ids: one more digit than any short one's pseudonym has
            out = (
                "9"
                + f"{self._keyed.permute(f'user_id/{len(raw)}', int(raw), 10 ** len(raw)):0{len(raw) + 1}d}"
            )
        self._record("user_id", out, raw)
        return out

    def pin(self, raw: str) -> str:
        """A device PIN (eight hex digits) to another, one to one, in the same case."""
        # (`_cached`, inline: a Router log may name a new device on every line)
        out = self._pins.get(raw)
        if out is None:
            if len(self._pins) >= CACHE_LIMIT:
                self._pins.clear()
            out = f"{self._keyed.permute('pin', int(raw, 16), 1 << 32):08X}"
            if raw.lower() == raw and not raw.isdigit():
                out = out.lower()
            if self.mapping is not None:
                self.mapping.add("pin", out, raw.upper())
            self._pins[raw] = out
        return out

    def imei(self, raw: str) -> str:
        """An IMEI to another of as many digits (and its check digit), its spaces and dashes kept."""
        return self._cached("imei", raw, self._make_imei)

    def _make_imei(self, raw: str) -> str:
        digits = "".join(c for c in raw if c.isdigit())
        if len(digits) == 15:
            body = f"{self._keyed.permute('imei', int(digits[:14]), 10**14):014d}"
            new = body + _luhn(body)
        else:
            size = len(digits)
            new = f"{self._keyed.permute(f'imei/{size}', int(digits), 10**size):0{size}d}"
        it = iter(new)
        out = "".join(next(it) if c.isdigit() else c for c in raw)
        self._record("imei", out, digits)
        return out

    # -- network ----------------------------------------------------------------------------

    def ipv4(self, raw: str) -> str | None:
        """An IPv4 address to a pseudonym, or None to keep it (not an address, loopback,
        0.0.0.0, broadcast)."""
        parts = raw.split(".")
        if len(parts) != 4 or not all(p.isdigit() and int(p) < 256 for p in parts):
            return None
        value = int.from_bytes(bytes(int(p) for p in parts), "big")
        address = ipaddress.IPv4Address(value)
        if address.is_loopback or address.is_unspecified or value == 0xFFFFFFFF:
            return None
        return self._cached("ipv4", str(address), self._make_ipv4)

    def _make_ipv4(self, canonical: str) -> str:
        address = ipaddress.IPv4Address(canonical)
        value = int(address)
        for net, bits in _PRIVATE_V4:
            if address in net:
                inside = self._keyed.permute(f"ipv4/{net}", value & ((1 << bits) - 1), 1 << bits)
                out = str(ipaddress.IPv4Address(int(net.network_address) | inside))
                break
        else:
            out = str(ipaddress.IPv4Address(_PUBLIC_V4 | self._keyed.number("ipv4", canonical, 1 << 28)))
        self._record("ip", out, canonical)
        return out

    def ipv6(self, raw: str) -> str | None:
        """An IPv6 address (a ``%zone`` kept) to one in 2001:db8::/32, or None to keep it."""
        text, pct, zone = raw.partition("%")
        try:
            address = ipaddress.IPv6Address(text)
        except ValueError:
            return None
        if address.is_loopback or address.is_unspecified:
            return None
        return self._cached("ipv6", address.compressed, self._make_ipv6) + pct + zone

    def _make_ipv6(self, canonical: str) -> str:
        low = self._keyed.number("ipv6", canonical, 1 << 96)
        out = ipaddress.IPv6Address(_V6_PREFIX | low).compressed
        self._record("ip", out, canonical)
        return out

    def host(self, raw: str) -> str:
        """A host or domain name to ``h<...>.d<...>.example``: each label from the name it ends,
        so hosts of one domain stay in one pseudonymous domain.  BlackBerry's are kept."""
        name = raw.lower().rstrip(".")
        return self._cached("host", name, self._make_host)

    def _make_host(self, name: str) -> str:
        if kept_domain(name):
            return name
        if not _HOST_LABELS.fullmatch(name):
            return self.shaped(fold(name))
        labels = name.split(".")
        out = [
            ("d" if i == len(labels) - 2 else "h") + self._letters("host", ".".join(labels[i:]), 7)
            for i in range(len(labels) - 1)
        ]
        if len(labels) == 1:
            out = ["h" + self._letters("host", name, 7)]
        else:
            out.append(PSEUDO_TLD)
        result = ".".join(out)
        self._record("host", result, name)
        return result

    def server(self, raw: str) -> str:
        """A BES server name to ``BES`` and letters, as long as the original (eight at least),
        in its case: servers are compared without case (user maps), and told apart with it."""
        return self._cached("server", raw, self._make_server)

    def _make_server(self, raw: str) -> str:
        core = "bes" + self._letters("server", raw.lower(), max(5, len(raw) - 3))
        if not any(c.islower() for c in raw):
            out = core.upper()
        elif not any(c.isupper() for c in raw):
            out = core
        else:
            letters = [c for c in raw if c.isalpha()] or ["a"]
            out = "".join(
                c.upper() if letters[min(i, len(letters) - 1)].isupper() else c for i, c in enumerate(core)
            )
        self._record("server", out, raw)
        return out

    def _letters(self, kind: str, value: str, count: int) -> str:
        n = self._keyed.number(kind, value, 26**count)
        out = []
        for _ in range(count):
            n, r = divmod(n, 26)
            out.append(chr(97 + r))
        return "".join(out)


def _cuts(length: int, weights: list[int]) -> list[int] | None:
    """Where to put the spaces back into a pseudonymised multi-word part, in proportion to the
    original words' lengths; None when they would not all fall strictly inside."""
    if len(weights) < 2:
        return None
    total = sum(weights) or 1
    cuts, run = [], 0
    for w in weights[:-1]:
        run += w
        cuts.append(round(length * run / total))
    if any(not 0 < c < length for c in cuts) or len(set(cuts)) != len(cuts) or cuts != sorted(cuts):
        return None
    return cuts


def _luhn(body: str) -> str:
    """The check digit an IMEI ends in."""
    total = 0
    for i, c in enumerate(reversed(body)):
        d = int(c)
        if i % 2 == 0:
            d *= 2
            d = d - 9 if d > 9 else d
        total += d
    return str((10 - total % 10) % 10)
