"""The CSV user maps: BES exports of users, read into entries that tie an address, an id and a name."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bes_logdiag.errors import InputError
from bes_logdiag.names import clean_address, clean_name
from bes_logdiag.words import plural

# Header names a BES user export may use (BES configuration database, BAS/BlackBerry Manager exports),
# compared in lower case with spaces, underscores and hyphens taken out ("Server Name" is servername).
_MAP_COLUMNS = {
    "email": ("email", "emailaddress", "mail", "mailboxsmtpaddr", "smtpaddress", "smtp"),
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


@dataclass(frozen=True, slots=True)  # (no __dict__: a map may hold a million rows)
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
    names another one is left out.  Returns the entries and, for each kind of row left out (an
    id that is not a number, a quote left open), one note that counts them and gives their first
    lines (`_LeftOut`); a file that is not a user map at all raises InputError naming it.

    The rows are read one at a time: memory follows the rows kept, not the file's (a 1,000,000-row
    export held as lists of cells took 826 MB).
    """
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise InputError(f"{path}: cannot read the user map: {e.strerror or e}") from e
    text = _decode_map(raw, path)
    del raw  # (the text is all that is read from now on)
    rows = _csv_rows(text)
    try:
        first = next(rows, None)
    except csv.Error as e:
        raise InputError(f"{path}: not a CSV user map ({e})") from e
    if first is None:
        raise InputError(f"{path}: the user map is empty")
    header = [re.sub(r"[\s_-]+", "", h).lower() for h in first[1]]
    cols = {
        field_: next((header.index(n) for n in names if n in header), None)
        for field_, names in _MAP_COLUMNS.items()
    }
    if sum(cols[f] is not None for f in _NAMES) < 2:
        raise InputError(
            f"{path}: the user map needs two of the columns email/Email Address/MailboxSMTPAddr, "
            f"user_id/UserId/Id/UserConfigId, display_name/DisplayName "
            f"(found: {', '.join(first[1])[:200]})"
        )
    label = f"{server}={path}" if server else str(path)

    def cell(row: list[str], field_: str) -> str | None:
        i = cols[field_]
        if i is None or i >= len(row):
            return None
        return row[i].strip() or None

    entries = []
    left_out = _LeftOut(path)
    servers: dict[str, str] = {}
    """Each server's name once: a million rows name a handful of servers."""
    try:
        for n, r in rows:
            if not any(c.strip() for c in r):
                continue
            user_id = cell(r, "user_id")
            row_server = cell(r, "server")
            if any("\n" in c for c in r):
                left_out.add(
                    "a quote is left open; each such row and the lines it swallowed are left out", n,
                    f"{path}: line {n}: a quote is left open; this row and the lines it swallowed "
                    "are left out of the user map",
                )  # fmt: skip
            elif user_id is not None and not user_id.isdigit():
                left_out.add(
                    "user id not a number", n,
                    f"{path}: line {n}: user id {user_id!r} is not a number; row left out",
                    example=user_id,
                )  # fmt: skip
            elif server and row_server and row_server.lower() != server.lower():
                left_out.add(
                    f"the row is for another server than the file was given for (--users {server}={path})",
                    n,
                    f"{path}: line {n}: the row is for server {row_server!r}, but the file was given "
                    f"as --users {server}={path}; row left out",
                    example=row_server,
                )  # fmt: skip
            else:
                row_server = servers.setdefault(row_server, row_server) if row_server else None
                entries.append(MapEntry(
                    email=clean_address(cell(r, "email")),
                    user_id=user_id,
                    display_name=clean_name(cell(r, "display_name")),
                    server=server or row_server,
                    source=label,
                    line=n,
                ))  # fmt: skip
    except csv.Error as e:
        raise InputError(f"{path}: not a CSV user map ({e})") from e
    return entries, left_out.notes()


LINES_SHOWN = 5
"""Rows left out of a user map named by line, for each reason; the note counts the rest."""


@dataclass
class _Kind:
    note: str
    """The note of the first row left out for this reason: all that is said when it is the only one."""
    example: str | None
    count: int = 0
    lines: list[int] = field(default_factory=list)


class _LeftOut:
    """The rows of one map left out, by reason: one note per reason, not one per row (a broken
    export may leave out 400,000 rows)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._kinds: dict[str, _Kind] = {}

    def add(self, reason: str, line: int, note: str, *, example: str | None = None) -> None:
        kind = self._kinds.get(reason)
        if kind is None:
            kind = self._kinds[reason] = _Kind(note, example)
        kind.count += 1
        if len(kind.lines) < LINES_SHOWN:
            kind.lines.append(line)

    def notes(self) -> list[str]:
        """``users.csv: 412 rows left out: user id not a number (lines 3, 7, 9, 12, 15, ...; the
        first: 'abc')``; a reason with one row gives that row's own note."""
        out = []
        for reason, kind in self._kinds.items():
            if kind.count == 1:
                out.append(kind.note)
                continue
            lines = ", ".join(map(str, kind.lines)) + (", ..." if kind.count > len(kind.lines) else "")
            first = f"; the first: {kind.example!r}" if kind.example is not None else ""
            out.append(f"{self._path}: {plural(kind.count, 'row')} left out: {reason} (lines {lines}{first})")
        return out


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


def _csv_rows(text: str) -> Iterator[tuple[int, list[str]]]:
    """Rows with the line each starts on; a quote open at the end closes there.  The reader is fed
    the text line by line (an io.StringIO would copy it, four bytes a character); the text holds
    no NUL (`_decode_map` refuses control characters)."""
    reader = csv.reader(_lines(text))
    start = 1
    for row in reader:
        yield start, row
        start = reader.line_num + 1


def _lines(text: str) -> Iterator[str]:
    """The lines of `text`, each with its newline (as a file opened with ``newline=""`` gives them)."""
    start, size = 0, len(text)
    while start < size:
        end = text.find("\n", start)
        end = size if end < 0 else end + 1
        yield text[start:end]
        start = end
