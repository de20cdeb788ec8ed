"""Names: folding them for comparison, and the address shapes a display name stands for."""

from __future__ import annotations

import re
import unicodedata

PASTING = str.maketrans(
    {
        "×": "x",  # 0×1294
        "–": "-",  # en dash
        "—": "-",  # em dash
        "‒": "-",
        "−": "-",
        "“": '"',
        "”": '"',
        "„": '"',
        "‘": "'",
        "’": "'",
        "\u00a0": " ",  # no-break space
        "\ufeff": "",  # a stray byte-order mark
    }
)
"""Damage that text picks up when it is pasted through mail, blogs or word processors (BES-LOGS.md
section 2; the seed itself shows 0×, en dashes and curly quotes): undone on every line read
(`parse.normalise`), and in names compared, so that a user map typed in a word processor (O’Brien)
meets the logs' O'Brien."""
_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "æ": "ae", "ø": "oe", "å": "aa"})


def fold(text: str) -> str:
    """Lower-case ASCII for comparing names: ü -> ue, é -> e."""
    if text.isascii():  # (most names: nothing to fold but the case)
        return text.lower()
    text = text.translate(PASTING).lower().translate(_FOLD)
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def fold_name(text: str) -> str:
    """``text`` folded (`fold`), its runs of spaces as one: how names are compared."""
    return " ".join(fold(text).split())


_TOKEN = re.compile(r"\[[^\[\]]*\]|\([^()]*\)|[^\s\[\]()]+")
"""A word of a name, or a bracketed tag as one (``[EXT]``, ``(Sales Team)``)."""


def is_initial(token: str) -> bool:
    """A middle initial with its dot, ``J.``."""
    return len(token) == 2 and token[1] == "." and token[0].isalpha()


def is_tag(token: str) -> bool:
    """A tag the directory adds to a name, ``[EXT]``, ``(Sales)``."""
    return token[:1] in "[(" and token[-1:] in "])"


def is_suffix(token: str) -> bool:
    """A generational suffix: ``Jr.`` or ``Sr`` in any case, ``II``, ``III``, ``IV`` in capitals
    (a pseudonym's syllables may spell a lower-case ``iv``, never ``jr``)."""
    word = token.rstrip(".")
    return word.casefold() in ("jr", "sr") or word in ("II", "III", "IV")


def is_affix(token: str) -> bool:
    """A word of a display name that no address spells: a middle initial (`is_initial`), a
    generational suffix (`is_suffix`), a tag the directory adds (`is_tag`)."""
    return is_initial(token) or is_suffix(token) or is_tag(token)


def name_tokens(part: str) -> list[str]:
    """The words and tags of a part of a display name (runs of spaces between them dropped)."""
    return _TOKEN.findall(part)


def first_last(display: str) -> tuple[str, str, str]:
    """``(first, separator, last)``: ``Last, First`` at its first comma, else ``First Last`` at the
    space before the last word that is no affix (``John Smith Jr.``: ``John`` and ``Smith Jr.``)."""
    if "," in display:
        last, sep, first = display.partition(",")
        return first, sep, last
    spans = [m for m in _TOKEN.finditer(display) if not is_affix(m.group())]
    if len(spans) < 2:
        first, sep, last = display.strip().rpartition(" ")
        return first, sep, last
    cut = spans[-1].start()
    head = display[:cut].rstrip()
    return head, display[len(head) : cut], display[cut:]


def part_key(part: str) -> str:
    """A part of a display name as an address spells it: folded, its words run together, its
    affixes (`is_affix`) and apostrophes left out (``O'Brien`` is ``obrien@``)."""
    return "".join(fold(t) for t in name_tokens(part) if not is_affix(t)).replace("'", "")


def name_keys(display: str) -> set[str]:
    """Address local parts a display name stands for: ``Dundas, Ian`` -> ``ian.dundas`` and kin;
    ``Dundas, Ian J. [EXT]`` too."""
    first, _, last = first_last(display)
    f, ln = part_key(first), part_key(last)
    if not f or not ln:
        return set()
    return {f"{f}.{ln}", f"{f}_{ln}", f"{f}-{ln}"}


def email_key(email: str) -> str:
    """The local part an address's name shape is read from: folded, without a ``+tag``
    (``ian.dundas+bb@`` is delivered to ``ian.dundas@``) or apostrophes (``o'brien@``, as
    `part_key` reads ``O'Brien``)."""
    return fold(email.partition("@")[0].partition("+")[0]).replace("'", "")


def clean_address(address: str | None) -> str | None:
    """An SMTP address as events and maps keep it: trimmed, lower case."""
    return address.strip().lower() or None if address else None


def clean_name(name: str | None) -> str | None:
    """A display name as events and maps keep it: runs of spaces as one."""
    return " ".join(name.split()) or None if name else None
