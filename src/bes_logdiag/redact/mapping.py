"""The mapping file (``--map-out``): every pseudonym a run gave, with the original, kept locally."""

from __future__ import annotations

import json
import os
import tempfile
from contextlib import suppress
from pathlib import Path

from bes_logdiag.redact import RedactError

FORMAT = "bes-logdiag-redaction-map"
VERSION = 1
KINDS = ("address", "display_name", "user_id", "pin", "imei", "ip", "host", "server", "word")
"""What a pseudonym stands for.  ``word``: one word of a name (``ian`` of ``ian.dundas@...``),
folded to lower-case ASCII as names are compared (`bes_logdiag.names.fold`)."""


class Mapping:
    """Pseudonym -> original, per kind.  The originals are as reports show them: an address
    trimmed and in lower case, a display name with single spaces."""

    def __init__(self) -> None:
        self.entries: dict[str, dict[str, str]] = {k: {} for k in KINDS}

    def add(self, kind: str, pseudonym: str, original: str) -> None:
        if pseudonym != original:
            self.entries[kind].setdefault(pseudonym, original)

    def merge(self, other: Mapping) -> None:
        for kind, pairs in other.entries.items():
            mine = self.entries.setdefault(kind, {})
            for pseudonym, original in pairs.items():
                mine.setdefault(pseudonym, original)

    def write(self, path: Path) -> None:
        """Write the file whole or not at all, readable by its owner only."""
        doc = {"format": FORMAT, "version": VERSION, "pseudonyms": self.entries}
        try:
            fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        except OSError as e:
            raise RedactError(f"{path}: cannot write the mapping file: {e.strerror or e}") from e
        try:
            with open(fd, "w", encoding="utf-8", errors="surrogatepass") as f:
                json.dump(doc, f, ensure_ascii=False, indent=1, sort_keys=True)
                f.write("\n")
            os.replace(temporary, path)
        except BaseException:
            with suppress(OSError):
                os.unlink(temporary)
            raise


def load_mapping(path: Path) -> Mapping:
    """Read a mapping file written by `Mapping.write`; anything else raises `RedactError`."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8", errors="surrogatepass"))
    except OSError as e:
        raise RedactError(f"{path}: cannot read the mapping file: {e.strerror or e}") from e
    except ValueError as e:
        raise RedactError(f"{path}: not a mapping file written by bes-logdiag redact --map-out ({e})") from e
    if (
        not isinstance(doc, dict)
        or doc.get("format") != FORMAT
        or not isinstance(doc.get("pseudonyms"), dict)
    ):
        raise RedactError(f"{path}: not a mapping file written by bes-logdiag redact --map-out")
    if doc.get("version") != VERSION:
        raise RedactError(f"{path}: mapping file version {doc.get('version')!r}; this tool reads {VERSION}")
    mapping = Mapping()
    for kind, pairs in doc["pseudonyms"].items():
        if isinstance(pairs, dict):
            mapping.entries[kind] = {str(k): str(v) for k, v in pairs.items()}
    return mapping
