"""User maps (``--users`` CSV exports) redacted with the logs' pseudonyms, so that a redacted log set
and its redacted map still join: the same address, id and display name, cell for cell."""

from __future__ import annotations

import codecs
import csv
import io
import re

from bes_logdiag.decode import detect_encoding
from bes_logdiag.redact.grammar import Redactor
from bes_logdiag.usermap import _MAP_COLUMNS  # the header names the scan reads: one table for both

_NAMES = ("email", "user_id", "display_name")
_PIN_HEADERS = ("pin", "devicepin", "blackberrypin")
_IMEI_HEADERS = ("imei", "deviceimei")
_BOMS = (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


class NotAUserMap(ValueError):
    """The file cannot be read as a user map; the message says why."""


def redact_user_map(data: bytes, redactor: Redactor, *, servers: bool = False) -> bytes:
    """The bytes of a redacted copy of a CSV user map, in its encoding, byte-order mark and line
    ends: addresses, ids and display names as the logs' pseudonyms, the server column's names
    with ``servers``, and every other cell as free text (all its words)."""
    bom = next((b for b in _BOMS if data.startswith(b)), b"")
    encoding = detect_encoding(data[:4096])
    codec = {"utf-8-sig": "utf-8"}.get(encoding, encoding)
    text = _decode(data[len(bom) :], codec)
    if text is None:
        codec = "cp1252"
        text = _decode(data[len(bom) :], codec)
    if text is None:
        raise NotAUserMap("not text in UTF-8, UTF-16 or cp1252")
    newline = "\r\n" if "\r\n" in text else "\n"
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as e:
        raise NotAUserMap(f"not CSV ({e})") from e
    if not rows:
        raise NotAUserMap("the user map is empty")
    header = [re.sub(r"[\s_-]+", "", h).lower() for h in rows[0]]
    cols = {
        f: next((header.index(n) for n in names if n in header), None) for f, names in _MAP_COLUMNS.items()
    }
    if sum(cols[f] is not None for f in _NAMES) < 2:
        raise NotAUserMap("it needs two of the columns email, user id and display name")
    cells = {i: f for f, i in cols.items() if i is not None}
    cells.update({i: "pin" for i, h in enumerate(header) if h in _PIN_HEADERS})
    cells.update({i: "imei" for i, h in enumerate(header) if h in _IMEI_HEADERS})
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator=newline)
    writer.writerow(rows[0])
    for row in rows[1:]:
        writer.writerow([_cell(c, cells.get(i), redactor, servers) for i, c in enumerate(row)])
    return bom + out.getvalue().encode(codec, "surrogatepass" if codec.startswith("utf") else "replace")


def _decode(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        return None


def _cell(value: str, kind: str | None, redactor: Redactor, servers: bool) -> str:
    ps = redactor.ps
    v = value.strip()
    if not v:
        return value
    if kind == "email":
        return ps.address(v)
    if kind == "display_name":
        return ps.display(v)
    if kind == "user_id" and v.isdigit():
        return ps.user_id(v)
    if kind == "server":
        return ps.server(v) if servers else value
    if kind == "pin" and re.fullmatch(r"(?:0[xX])?[0-9A-Fa-f]{8}", v):
        return v[:-8] + ps.pin(v[-8:])
    if kind == "imei" and re.fullmatch(r"\d(?:[ -]?\d){13,16}", v):
        return ps.imei(v)
    return redactor.free(value)
