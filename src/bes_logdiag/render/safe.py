"""Text for a terminal: what came from a log, a file name, a map or a config, shown and never obeyed.

Log text is written by whoever sends mail or names a mailbox (STYLE.md point 15): an ESC in a
subject can clear the admin's screen and scrollback (``ESC[2J ESC[3J``), set the window title
(OSC 0), plant a link (OSC 8) or recolour the rest of the output, a C1 CSI (U+009B) does the same on
terminals that take 8-bit controls, and a right-to-left override (U+202E) turns an address around.
`terminal` shows every such character as a Python-style escape (``\\x1b``, ``\\x9b``, ``\\u202e``),
so the sequence is printed, not interpreted.  It is the one helper for this destination: the
renderers for people and every line on stderr use it.  Rich markup is a separate matter: data
reaches rich only inside ``rich.text.Text`` objects (`terminal_text`), never in a markup string.
Machine formats (json, ndjson, csv, junit) keep the data as it came; JSON writes the characters
a terminal would obey or hide as ``\\u`` escapes (`json_safe`), which any reader decodes back.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # rich is imported by the renderers that use it: stderr lines do not pay for it
    from rich.text import Text

# Shown as escapes: C0 controls and DEL; C1 controls (U+0080-U+009F, 8-bit CSI/OSC/ST); every
# format character of Unicode (category Cf: the soft hyphen, zero-width spaces and joiners, the
# bidi embeddings, overrides and isolates, and the TAG characters U+E0000-U+E007F, which spell a
# whole hidden ASCII message inside an address); the line and paragraph separators (U+2028,
# U+2029); characters that print as nothing though Python counts them printable (U+034F, the
# Hangul fillers U+115F, U+1160, U+3164, U+FFA0, the variation selectors U+FE00-U+FE0F and
# U+E0100-U+E01EF); and lone surrogates, which a file name undecodable in the file system's
# encoding brings and no terminal encoding can write.
INVISIBLE = (
    "\x7f-\x9f\u00ad\u034f\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u115f\u1160\u180e"
    "\u200b-\u200f\u2028-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff9-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0000-\U000e007f\U000e0100-\U000e01ef"
)
"""DEL, the C1 controls and the invisible, bidi and separator characters (a character class's body)."""
_HIDDEN = re.compile(f"[\x00-\x1f{INVISIBLE}\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": " "}
"""A newline inside a field is shown as such; a tab is one space (rich would only expand it into
spaces, and pasted logs often start with one)."""


def _shown(m: re.Match[str]) -> str:
    c = m.group()
    if c in _NAMED:
        return _NAMED[c]
    n = ord(c)
    return f"\\x{n:02x}" if n < 0x100 else f"\\u{n:04x}" if n < 0x10000 else f"\\U{n:08x}"


def is_terminal(out: object) -> bool:
    """Whether ``out`` is a terminal (not when it is None, closed, or has no ``isatty``): where log
    text must be shown, never obeyed."""
    try:
        return out is not None and hasattr(out, "isatty") and bool(out.isatty())
    except (OSError, ValueError):
        return False


def terminal(text: str) -> str:
    """``text`` safe to write to a terminal: control characters, escape sequences, invisible and
    bidi controls shown as escapes (``\\x1b[2J``, ``\\x9b``, ``\\u202e``, ``\\n``), a tab as a space.

    A backslash already in the text stays as it is (Windows paths), so the shown text is for
    reading, not for parsing back: the JSON output carries the original.
    """
    if text.isascii() and text.isprintable():  # the common case, at C speed: nothing to show
        return text
    return _HIDDEN.sub(_shown, text)


_RAW_IN_JSON = re.compile(f"[{INVISIBLE}]")
"""What `_HIDDEN` holds that ``json.dumps(ensure_ascii=False)`` leaves as it is (it escapes C0
controls itself; lone surrogates are the output stream's to replace)."""


def json_safe(text: str) -> str:
    """JSON text with DEL, the C1 controls and the invisible and bidi format characters written as
    ``\\u`` escapes: the same data for any JSON reader, and a ``\\u202e`` in an address printed
    to a terminal is shown, not obeyed (an 8-bit CSI, U+009B, neither)."""
    if text.isascii() and "\x7f" not in text:  # the common case, at C speed
        return text
    return _RAW_IN_JSON.sub(_json_escape, text)


def _json_escape(m: re.Match[str]) -> str:
    n = ord(m.group())
    if n < 0x10000:
        return f"\\u{n:04x}"
    n -= 0x10000  # (JSON writes a character past U+FFFF as its UTF-16 surrogate pair)
    return f"\\u{0xD800 + (n >> 10):04x}\\u{0xDC00 + (n & 0x3FF):04x}"


def terminal_text(text: str, style: str = "") -> Text:
    """`terminal` as a rich ``Text`` in ``style``: brackets in the data are shown, never read as
    markup (never put data in a markup string)."""
    from rich.text import Text

    return Text(terminal(text), style=style)
