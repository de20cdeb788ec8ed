"""The lnav log format for BES logs: the line grammar of `parse` for lnav, with the library's examples."""

from __future__ import annotations

import json
from typing import Any

from bes_logdiag.library import Library

FORMAT_NAME = "bes_log"
"""The format's name in lnav, and so the name of its SQL table (``SELECT ... FROM bes_log``)."""

# The pieces below spell `parse._HEADER` and `parse._TAG` in PCRE, the regex dialect of lnav.
# They cannot simply be copied: lnav wants the whole timestamp in one capture (and names groups
# ``(?<name>...)``), and it never runs `parse.normalise`, so the pasting damage that normalising
# undoes in the header (``0×``) is spelt out here.  tests/test_lnav_format_grammar.py checks on
# generated lines that these regexes and `parse.parse_line` read every part of a line alike.

_HEADER = (
    # Anything before the header: a UTF-8 byte-order mark that lnav keeps on the first line, or
    # text pasted in front of a record ("> ", a tab); the scan tolerates both (BES-LOGS.md section 2).
    r"^.*?"
    # [40000], the one-digit ids of very old builds ([3]), or none at all; the first digit is the level.
    r"(?:\[(?<event_id>(?<level>\d)\d{0,4})\]\s*)?"
    # (MM/DD HH:MM:SS.mmm), (MM/DD HH:MM:SS) in older builds, a comma before the milliseconds.
    r"\(\s*(?<timestamp>\d{1,2}/\d{1,2}\s+\d{1,2}:\d{2}:\d{2}(?:[.,]\d{1,6})?)\s*\)"
    r"\s*:?\s*"
    # {0x1AEC}, the pasted {0×1AEC}, or none.
    r"(?:\{\s*0(?:[xX]|×)(?<thread>[0-9A-Fa-f]+)\s*\}\s*)?"
)
_USER = (
    # {user}: an SMTP address where it holds an @ (MAGT), else a display name (CMNG, SYNC family);
    # an empty {} names nobody, as in the scan.
    r"(?:\{\s*(?:(?<email>[^{}@]*@[^{}]*?)|(?<display_name>[^{}]*?[^{}\s])|)\s*\}\s*)?"
)
_USER_ADDRESS = (
    # On a line that ends in [Last, First:N] the display name is that one; a {display name} there
    # (never seen in BES logs) is left in the line, not in a column.
    r"(?:\{\s*(?:(?<email>[^{}@]*@[^{}]*?)|[^{}]*?)\s*\}\s*)?"
)
_TAG = r"(?:\[(?<tag>[A-Za-z][\w.\-]*)\])?"
_NAMED = r"\[(?<display_name>[^\[\]]+?):(?<user_id>\d+)\]"
"""SYNC's ``[Last, First:N]``: the display name and the user id on one line (BES-LOGS.md section 3)."""
_NO_NAMED = r"(?![^\r\n]*\[[^\[\]]+?:\d+\])"
_USER_ID = r"\bUserId\s*=\s*(?<user_id>\d+)"
"""POLC's ``UserId=N`` (``SET_ITPOLICY_REQUEST request for UserId=2573``)."""
_NO_USER_ID = r"(?![^\r\n]*\bUserId\s*=\s*\d)"
_END = r"\r?$"

REGEXES: dict[str, str] = {
    # lnav keeps using the pattern that matched the line before, so the three never match the
    # same line: each has the lookaheads that leave the others' lines to them.
    "named": _HEADER + _USER_ADDRESS + r"(?<body>" + _TAG + r".*?" + _NAMED + r".*?)" + _END,
    "user_id": _HEADER + _USER + r"(?<body>" + _NO_NAMED + _TAG + r".*?" + _USER_ID + r".*?)" + _END,
    "line": _HEADER + _USER + r"(?<body>" + _NO_NAMED + _NO_USER_ID + _TAG + r".*?)" + _END,
}
"""The format's regexes by name, in PCRE; each line matches exactly one of them."""

TIMESTAMP_FORMATS = (
    "%m/%d %H:%M:%S.%L",
    "%m/%d %H:%M:%S,%L",
    "%m/%d %H:%M:%S",
    # Two spaces between the date and the time: lnav's time parser takes a space literally.
    "%m/%d  %H:%M:%S.%L",
    "%m/%d  %H:%M:%S,%L",
    "%m/%d  %H:%M:%S",
)
"""BES stamps carry no year: lnav takes it from the file's modification time (see README)."""

LEVELS = {"error": "^1", "warning": "^2", "info": "^3", "debug": "^4", "notice": "^5"}
"""The event id's first digit (BES-LOGS.md section 2): 1 error, 2 warning, 3 information,
4 debug, 5 service start and stop (lnav's ``notice``)."""

COLUMNS: dict[str, dict[str, Any]] = {
    "event_id": {
        "kind": "integer",
        "identifier": True,
        "description": "The BES event id; its first digit is the level. Null where the line lost it.",
    },
    "level": {"kind": "string", "hidden": True, "description": "The first digit of the event id."},
    "thread": {
        "kind": "string",
        "identifier": True,
        "description": "The thread id in hex, without 0x. A line that names no user (KEY_ACCEPT) "
        "belongs to the user last named on its thread.",
    },
    "email": {
        "kind": "string",
        "identifier": True,
        "description": "The user's SMTP address, from {user} (Messaging Agent lines).",
    },
    "display_name": {
        "kind": "string",
        "identifier": True,
        "description": "The user's display name: from [Last, First:N] (Synchronization Service) "
        "or a {user} without an @ (Management Connector).",
    },
    "user_id": {
        "kind": "integer",
        "identifier": True,
        "description": "The user's numeric id: N of [Last, First:N], or UserId=N (Policy Service).",
    },
    "tag": {
        "kind": "string",
        "identifier": True,
        "description": "The component tag that opens the message, such as SYNC-DSession.",
    },
}


def lnav_format(lib: Library) -> dict[str, Any]:
    """The lnav format document (lnav's format-v1 JSON schema) with the library's example and
    counter-example lines as its samples: lnav checks every sample when it loads the format."""
    samples = dict.fromkeys(line for p in lib.patterns for line in (*p.examples, *p.counter_examples))
    return {
        "$schema": "https://lnav.org/schemas/format-v1.schema.json",
        FORMAT_NAME: {
            "title": "BlackBerry Enterprise Server log",
            "description": "Logs of the BES services (MAGT, POLC, SYNC, CMNG, CTRL, DISP, ...): "
            "event id, thread, user (address, display name, user id) and message. Written by "
            "bes-logdiag lnav-format.",
            "regex": {name: {"pattern": pattern} for name, pattern in REGEXES.items()},
            "timestamp-format": list(TIMESTAMP_FORMATS),
            "level-field": "level",
            "level": dict(LEVELS),
            "value": {name: dict(column) for name, column in COLUMNS.items()},
            "sample": [{"line": line} for line in samples],
        },
    }


def lnav_format_json(lib: Library) -> str:
    """`lnav_format` as the text of ``contrib/lnav/bes_log.json``: UTF-8 JSON, indented, one
    newline at the end (the samples keep the seed's ``0×`` and curly quotes as they are)."""
    return json.dumps(lnav_format(lib), indent=2, ensure_ascii=False) + "\n"
