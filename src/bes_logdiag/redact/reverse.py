"""``redact --reverse``: a report made from redacted logs (or by ``scan --redact``) with the real names
again, from the ``--map-out`` file.  Any format: JSON and ndjson are translated value by value
(a user id stays a number), HTML and XML with the names escaped, anything else as text."""

from __future__ import annotations

import html
import json
import re
from typing import Any

from bes_logdiag.redact.mapping import Mapping
from bes_logdiag.redact.pseudonyms import cased
from bes_logdiag.render.json import dumps

_TOKENS = (
    r"(?P<address>[\w.+'%-]+@[\w.-]*\w)",
    r"(?P<ip6>(?<![\w:])[0-9a-f]{1,4}(?::[0-9a-f]{0,4}){2,7}(?![\w:]))",
    r"(?P<ip4>(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?![\w]|\.\d))",
    r"(?P<host>(?<![\w.-])(?:[a-z0-9-]+\.)+example(?![\w-]))",
    r"(?P<word>[^\W_]+)",
)


class Translator:
    """Pseudonyms back to originals: whole tokens first (an address, a display name, a host),
    then word by word, so that a pseudonym inside a text (a join, a note, a log line) is found too."""

    def __init__(self, mapping: Mapping) -> None:
        e = mapping.entries
        self._displays = e.get("display_name", {})
        self._whole: dict[str, str] = {}
        for kind in ("address", "host", "ip", "user_id", "imei", "server"):
            self._whole.update(e.get(kind, {}))
        self._pins = {k.upper(): v for k, v in e.get("pin", {}).items()}
        self._words = e.get("word", {})
        parts = list(_TOKENS)
        if self._displays:
            # longest first: a display name is tried before the words it is made of
            names = "|".join(re.escape(d) for d in sorted(self._displays, key=len, reverse=True))
            parts.insert(0, rf"(?P<display>(?<![\w])(?:{names})(?![\w]))")
        self._regex = re.compile("|".join(parts))

    def text(self, text: str, escape: bool = False) -> str:
        def one(m: re.Match[str]) -> str:
            original = self._token(m)
            return html.escape(original) if escape and original != m.group() else original

        return self._regex.sub(one, text)

    def _token(self, m: re.Match[str]) -> str:
        kind, found = m.lastgroup, m.group()
        if kind == "display":
            return self._displays[found]
        whole = self._whole.get(found)
        if whole is not None:
            return whole
        if kind == "address":
            local, _, domain = found.partition("@")
            return f"{self._words_of(local)}@{self._whole.get(domain, domain)}"
        if kind == "word":
            pin = self._pins.get(found.upper()) if len(found) == 8 else None
            return pin if pin is not None else self._word(found)
        return found

    def _words_of(self, text: str) -> str:
        return re.sub(r"[^\W_]+", lambda m: self._word(m.group()), text)

    def _word(self, word: str) -> str:
        original = self._words.get(word.lower())
        if original is None:
            return self._whole.get(word, word)
        return cased(original, word)

    def value(self, value: Any) -> Any:
        """A JSON value translated: strings, lists and objects through, a user id number back to
        the original number."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, dict):
            return {k: self.value(v) for k, v in value.items()}
        if isinstance(value, int) and not isinstance(value, bool):
            original = self._whole.get(str(value))
            return int(original) if original is not None and original.isdigit() else value
        return value


def reverse_report(text: str, mapping: Mapping, *, name: str = "") -> str:
    """`text`, a report in any format, with the pseudonyms of `mapping` replaced by the originals."""
    t = Translator(mapping)
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        translated = _json(text, t)
        if translated is not None:
            return translated
    if stripped.startswith("<") or name.lower().endswith((".html", ".htm", ".xml")):
        return t.text(text, escape=True)
    return t.text(text)


def _json(text: str, t: Translator) -> str | None:
    """JSON (one document) or ndjson (one per line), translated value by value; None when it is
    neither."""
    try:
        return dumps(t.value(json.loads(text))) + ("\n" if text.endswith("\n") else "")
    except ValueError:
        pass
    out = []
    try:
        for line in text.splitlines():
            out.append(dumps(t.value(json.loads(line))) if line.strip() else line)
    except ValueError:
        return None
    return "\n".join(out) + ("\n" if text.endswith("\n") else "")
