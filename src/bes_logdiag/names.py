"""Names: folding them for comparison, and the address shapes a display name stands for."""

from __future__ import annotations

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


def name_keys(display: str) -> set[str]:
    """Address local parts a display name stands for: ``Dundas, Ian`` -> ``ian.dundas`` and kin."""
    if "," in display:
        last, _, first = display.partition(",")
    else:
        first, _, last = display.strip().rpartition(" ")
    first, last = fold(first).strip(), fold(last).strip()
    if not first or not last:
        return set()
    f, ln = first.replace(" ", ""), last.replace(" ", "")
    return {f"{f}.{ln}", f"{f}_{ln}", f"{f}-{ln}"}


def email_key(email: str) -> str:
    return fold(email.partition("@")[0])


def clean_address(address: str | None) -> str | None:
    """An SMTP address as events and maps keep it: trimmed, lower case."""
    return address.strip().lower() or None if address else None


def clean_name(name: str | None) -> str | None:
    """A display name as events and maps keep it: runs of spaces as one."""
    return " ".join(name.split()) or None if name else None
