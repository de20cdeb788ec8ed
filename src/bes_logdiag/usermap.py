"""The CSV user maps: BES exports of users, read into entries that tie an address, an id and a name."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bes_logdiag.errors import InputError
from bes_logdiag.names import clean_name

# Header names a BES user export may use (BES configuration database, BAS/BlackBerry Manager exports),
# compared in lower case with spaces, underscores and hyphens taken out ("Server Name" is servername).
_MAP_COLUMNS = {
    "email": ("email", "mailboxsmtpaddr", "smtpaddress", "smtp"),
    "user_id": ("userid", "id", "userconfigid"),
    "display_name": ("displayname", "name"),
    # The BES instance the user is on (the BlackBerry Enterprise Server column of a BlackBerry
    # Manager export, ServerName in a query of the configuration database): the <server> of its
    # log file names (BES-LOGS.md section 1).
    "server": (
        "server",
        "servername",
        "besserver",
        "besservername",
        "blackberryserver",
        "blackberryservername",
        "blackberryenterpriseserver",
    ),
}
_NAMES = ("email", "user_id", "display_name")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class MapEntry:
    """One row of a user map: the names one user has in one BES configuration database."""

    email: str | None
    user_id: str | None
    display_name: str | None
    server: str | None = None
    """The BES the row belongs to (its server column, or the SERVER of ``--users SERVER=FILE``);
    ``None``: a row for every server, which the identity join trusts only as far as that
    server's own logs bear it out (`identities._join_server`)."""
    source: str = ""
    """The file the row was read from, as given (``users.csv``; ``SERVER=users.csv`` for
    ``--users SERVER=FILE``)."""
    line: int = 0
    """The row's line in that file."""


def load_user_map(sources: Sequence[tuple[str | None, Path]]) -> tuple[list[MapEntry], list[str]]:
    """Read every ``--users`` file, each with the server it was given for (``None``: its rows say,
    in a server column, or they are for every server).  Returns all the entries in the order given
    and the notes of every file."""
    entries: list[MapEntry] = []
    notes: list[str] = []
    for server, path in sources:
        e, n = read_map_file(path, server)
        entries += e
        notes += n
    return entries, notes


def read_map_file(path: Path, server: str | None = None) -> tuple[list[MapEntry], list[str]]:
    """Read a CSV export of users (UTF-8, UTF-16 or cp1252; header names in any case).

    ``server`` (``--users SERVER=FILE``) is the server of every row; a row whose server column
    names another one is left out with a note.  Returns the entries and a note for every row left
    out (an id that is not a number, a quote left open); a file that is not a user map at all
    raises InputError naming it.
    """
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise InputError(f"{path}: cannot read the user map: {e.strerror or e}") from e
    text = _decode_map(raw, path)
    try:
        rows = list(_csv_rows(text))
    except csv.Error as e:
        raise InputError(f"{path}: not a CSV user map ({e})") from e
    if not rows:
        raise InputError(f"{path}: the user map is empty")
    header = [re.sub(r"[\s_-]+", "", h).lower() for h in rows[0][1]]
    cols = {
        field_: next((header.index(n) for n in names if n in header), None)
        for field_, names in _MAP_COLUMNS.items()
    }
    if sum(cols[f] is not None for f in _NAMES) < 2:
        raise InputError(
            f"{path}: the user map needs two of the columns email/MailboxSMTPAddr, "
            f"user_id/UserId/Id/UserConfigId, display_name/DisplayName "
            f"(found: {', '.join(rows[0][1])[:200]})"
        )
    label = f"{server}={path}" if server else str(path)

    def cell(row: list[str], field_: str) -> str | None:
        i = cols[field_]
        if i is None or i >= len(row):
            return None
        return row[i].strip() or None

    entries, notes = [], []
    for n, r in rows[1:]:
        if not any(c.strip() for c in r):
            continue
        user_id = cell(r, "user_id")
        row_server = cell(r, "server")
        if any("\n" in c for c in r):
            notes.append(f"{path}: line {n}: a quote is left open; this row and the lines it "
                         f"swallowed are left out of the user map")  # fmt: skip
        elif user_id is not None and not user_id.isdigit():
            notes.append(f"{path}: line {n}: user id {user_id!r} is not a number; row left out")
        elif server and row_server and row_server.lower() != server.lower():
            notes.append(f"{path}: line {n}: the row is for server {row_server!r}, but the file was given "
                         f"as --users {server}={path}; row left out")  # fmt: skip
        else:
            entries.append(MapEntry(
                email=(cell(r, "email") or "").lower() or None,
                user_id=user_id,
                display_name=clean_name(cell(r, "display_name")),
                server=server or row_server,
                source=label,
                line=n,
            ))  # fmt: skip
    return entries, notes


def _decode_map(raw: bytes, path: Path) -> str:
    from bes_logdiag.decode import detect_encoding

    encoding = detect_encoding(raw[:4096])
    problem = "no encoding fits its bytes"
    for codec in (encoding, "cp1252") if encoding == "utf-8" else (encoding,):
        try:
            text = raw.decode(codec).lstrip("\ufeff")
        except UnicodeDecodeError as e:
            problem = f"{e.reason} at byte {e.start}"
            continue
        control = _CONTROL.search(text)
        if control is None:
            return text
        line = text.count("\n", 0, control.start()) + 1
        problem = f"control character {control.group()!r} in line {line}"
    raise InputError(f"{path}: the user map is not text (UTF-8, UTF-16 or cp1252): {problem}")


def _csv_rows(text: str) -> Iterable[tuple[int, list[str]]]:
    """Rows with the line each starts on; a quote open at the end closes there."""
    import io

    reader = csv.reader(io.StringIO(text.replace("\0", "")))
    start = 1
    for row in reader:
        yield start, row
        start = reader.line_num + 1
