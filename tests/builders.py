"""Builders for the tests: BES lines in every spelling, files with BES names, day folders, whole
worlds of servers, days and users, presence configuration files, and the one way to run the CLI.

Everything is written from BES-LOGS.md (section 1: files and folders, section 2: one line,
section 3: the seed's milestone lines) and never from sample_logs, so the tests do not share the
tool's own reading of the logs.  Sections:

- paths of the repository and of tests/data;
- one line (``bes_line``), the seed's milestone texts, the damage mail and blogs do to lines;
- files: BES names, encodings, day folders, one server's logs (``write_server``), mail flow;
- one activation as a site logs it (``Activation``, ``activation``, ``write_activation``) and the
  explicit errors of the KB table;
- whole worlds: ``random_world`` (one server, seeded, for the property tests) and ``busy_day``
  (three servers, sixty users with every outcome and every kind of identity join);
- presence configuration files (LyncPresenceProviderService.exe.config as admins leave it);
- running the CLI through CliRunner (``run_cli``, ``run_json``, ``scan_json``) or the core
  (``scan_report``), and reading what a report says (``rows``, ``one``, ``tries``).
"""

from __future__ import annotations

import codecs
import json
import os
import random
import signal
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from typer.testing import CliRunner, Result

# ---------------------------------------------------------------------------------------------
# paths
# ---------------------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
SAMPLE_LOGS = ROOT / "sample_logs"


SEED_KBS = (
    "KB04829", "KB13840", "KB10321", "KB13843", "KB04533", "KB03410",
    "KB03964", "KB10496", "KB13847", "KB13461", "KB02276",
)  # fmt: skip
"""The articles of the seed's KB table (BES-LOGS.md section 4), in its order."""


def data_file(name: str) -> Path:
    """A file of tests/data; a missing one fails loudly instead of skipping."""
    path = DATA / name
    if not path.exists():
        raise FileNotFoundError(f"test data missing: {path}")
    return path


# ---------------------------------------------------------------------------------------------
# one line (BES-LOGS.md section 2): [EEEEE] (MM/DD HH:MM:SS.mmm):{0xTID} {user} [TAG] message
# ---------------------------------------------------------------------------------------------


def stamp(t: datetime | str, *, ms: bool = True) -> str:
    """``MM/DD HH:MM:SS.mmm`` (or without milliseconds, as older builds write); a string is taken as is."""
    if isinstance(t, str):
        return t
    s = t.strftime("%m/%d %H:%M:%S")
    return f"{s}.{t.microsecond // 1000:03d}" if ms else s


def bes_line(
    t: datetime | str,
    msg: str,
    *,
    tid: str | None = "1A2B",
    user: str | None = None,
    eid: int | str | None = 40000,
    ms: bool = True,
    gap: bool = True,
) -> str:
    """``[EEEEE] (MM/DD HH:MM:SS.mmm):{0xTID} {user} msg`` with each part optional: ``eid=None`` drops
    the event id, ``tid=None`` the thread, ``user=None`` the user, ``gap=False`` the space between
    the thread and the user (``}{``, as the seed prints it)."""
    head = f"[{eid}] " if eid is not None else ""
    thread = f"{{0x{tid}}}" if tid is not None else ""
    who = ""
    if user is not None:
        who = (" " if gap or tid is None else "") + f"{{{user}}}"
    return f"{head}({stamp(t, ms=ms)}):{thread}{who} {msg}"


# the seed's milestone lines (BES-LOGS.md section 3), as message texts

BOOKS_TEXT = "*** OTAKEYGEN *** Queuing service book data to Policy Server"


def etp_text(
    relay: str = "etp1006.etp.na.blackberry.net", tag: int | str = -903057656, entry: int = 2604425
) -> str:
    """Stage 1: the device's ETP.DAT message reaches the mailbox (MAGT, named by address)."""
    return f"Queuing DATA from network@{relay}, Tag={tag}, EntryId={entry}"


def key_text(cipher: str = "3DES", *, note: bool = True) -> str:
    """Stage 2: the permanent key (``note``: with the seed's "(this is based on server setting)")."""
    return f"Generating {cipher} key" + (" (this is based on server setting)" if note else "")


def accept_text(trans_id: int | str) -> str:
    """Stage 2: KEY_ACCEPT, a line with no user (it belongs to the user last named on its thread)."""
    return f"*** OTAKEYGEN *** sending KEY_ACCEPT transID = {trans_id}"


def policy_text(uid: int | str, dash: str = "-") -> str:
    """Stage 3: POLC queues the IT policy for a user id (``dash="–"``: the seed's en dash)."""
    return f"SCS::CheckITPolicyInGroup {dash} Queuing SET_ITPOLICY_REQUEST request for UserId={uid}"


def command_text(command: str, display: str, uid: int | str) -> str:
    """Stage 4: a device command in the slow synchronization (``GetConfig`` starts it)."""
    return f'[SYNC-DSession] Received "{command}" command from device. [{display}:{uid}]'


def complete_text(display: str, uid: int | str) -> str:
    """Stage 4: the end of a successful activation."""
    return f"[SYNC-DSession] *** SLOWSYNC COMPLETE *** [{display}:{uid}]"


def mail_text(entry: int) -> str:
    """Mail flow (event id 30085): the most common line of any MAGT file."""
    return f"New mail has arrived, EntryId={entry}"


def mailbox_error_text(dn: str = "/o=EU", code: str = "0x8004011d") -> str:
    """The Messaging Agent cannot open a mailbox (event id 20400; KB02276 when it stops an activation)."""
    return f"MAPIMailbox::MAPIMailbox - OpenMsgStore ({code}) failed, MailboxDN={dn}"


# the damage mail, tickets and blogs do to lines (BES-LOGS.md section 2), one line at a time


def q_no_event_id(line: str) -> str:
    return line.split("] ", 1)[1] if line.startswith("[") else line


def q_one_digit_id(line: str) -> str:
    return "[" + line[1] + line[line.index("]") :] if line.startswith("[") else line


def q_no_ms(line: str) -> str:
    i = line.index("(")
    return line[: i + 15] + line[i + 19 :] if line[i + 15] == "." else line  # "(MM/DD HH:MM:SS" + ")..."


def q_no_thread(line: str) -> str:
    """Thread ids dropped, except on the key lines (KEY_ACCEPT needs its thread to find its user)."""
    if "KEY_ACCEPT" in line or "Generating" in line or "):{0x" not in line:
        return line
    head, rest = line.split("):{0x", 1)
    return head + "):" + rest.split("}", 1)[1]


def q_no_space(line: str) -> str:
    return line.replace("} {", "}{", 1)


def q_times(line: str) -> str:
    return line.replace("{0x", "{0×", 1)


def q_dash(line: str) -> str:
    return line.replace(" - ", " – ")


def q_curly(line: str) -> str:
    return line.replace(' "', " “").replace('" ', "” ")


def q_space_lost(line: str) -> str:
    return line.replace("DATA from network@", "DATA fromnetwork@").replace("transID = ", "transID =")


def q_pasted_prefix(line: str, prefix: str = "> ") -> str:
    return prefix + line


def q_seed_mix(line: str) -> str:
    """All of them at once, as pasted from the seed document."""
    for q in (q_no_ms, q_no_space, q_times, q_dash, q_curly, q_space_lost, q_one_digit_id):
        line = q(line)
    return line


QUIRKS = [
    q_no_event_id,
    q_one_digit_id,
    q_no_ms,
    q_no_space,
    q_times,
    q_dash,
    q_curly,
    q_space_lost,
    q_no_thread,
    q_seed_mix,
]
"""Every quirk alone, and the seed's mix: each applied to every line of an activation."""

DAMAGE = [
    q_no_event_id,
    q_one_digit_id,
    q_no_thread,
    q_no_space,
    q_times,
    q_dash,
    q_curly,
    q_space_lost,
    q_pasted_prefix,
]
"""What ``damage`` draws from (order matters: the draws are seeded)."""
PASTE_PREFIXES = ["> ", ">> ", "    ", "log: ", "\t"]


def damage(
    lines: list[str],
    rng: random.Random,
    share: float = 0.3,
    *,
    old_build: bool = False,
    key_safe: bool = False,
) -> list[str]:
    """Quirks on ~30 % of the lines (one to three each), and now and then two records on one line.

    ``old_build``: the whole file without milliseconds (BES-LOGS.md: "in older builds"; a build
    property, so per file).  ``key_safe``: leave the thread of the two key lines undamaged and never
    glue either key line behind another record.
    """
    out: list[str] = []
    for s in lines:
        if rng.random() < share:
            for q in rng.sample(DAMAGE, rng.randint(1, 3)):
                if key_safe and q is q_times and ("Generating" in s or "KEY_ACCEPT" in s):
                    continue
                s = q_pasted_prefix(s, rng.choice(PASTE_PREFIXES)) if q is q_pasted_prefix else q(s)
        out.append(q_no_ms(s) if old_build else s)
    merged: list[str] = []
    i = 0
    while i < len(out):
        # text copied out of a table: the next record (with its event id) on the same line
        if (
            i + 1 < len(out)
            and out[i + 1].startswith("[")
            and rng.random() < 0.03
            and not (key_safe and ("KEY_ACCEPT" in out[i + 1] or "Generating" in out[i + 1]))
        ):
            merged.append(out[i] + " " + out[i + 1])
            i += 2
            continue
        merged.append(out[i])
        i += 1
    return merged


# ---------------------------------------------------------------------------------------------
# files (BES-LOGS.md section 1): <server>_<CODE>_<NN>_<yyyymmdd>_<NNNN>.txt in <YYYYMMDD>\ folders
# ---------------------------------------------------------------------------------------------

Doc = dict[str, Any]
"""A parsed JSON document (a report, an events list, a presence check)."""
Lines = list[tuple[datetime, str]]
Parts = dict[str, Lines]
"""Per service code (``MAGT``, ``POLC``, ``SYNC``, ``CTRL``...), its (time, line) pairs."""


def bes_name(server: str, code: str, day: datetime, *, inst: int = 1, it: int = 1) -> str:
    """``BES_EU_01_MAGT_02_20190614_0003.txt``: instance ``inst``, restart ``it`` of that day."""
    return f"{server}_{code}_{inst:02d}_{day:%Y%m%d}_{it:04d}.txt"


ENCODINGS = ["utf-8", "utf-8-sig", "utf-16-le-bom", "utf-16-le", "utf-16-be-bom", "cp1252"]
"""How admins' files come (BES-LOGS.md section 1, "Encoding"); ``-bom`` adds the byte-order mark."""


def encode(text: str, how: str = "utf-8", errors: str = "strict") -> bytes:
    """``text`` in one of ENCODINGS (or any Python codec)."""
    if how == "utf-8-sig":
        return codecs.BOM_UTF8 + text.encode("utf-8", errors)
    if how == "utf-16-le-bom":
        return codecs.BOM_UTF16_LE + text.encode("utf-16-le", errors)
    if how == "utf-16-be-bom":
        return codecs.BOM_UTF16_BE + text.encode("utf-16-be", errors)
    return text.encode(how, errors)


def write_lines(
    path: Path, lines: Iterable[str], *, encoding: str = "utf-8", newline: str = "\r\n", bom: bytes = b""
) -> Path:
    """Write a log file as a BES server would (CRLF by default), making its folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bom + encode(newline.join(lines) + newline, encoding))
    return path


def time_ordered(items: Lines) -> list[str]:
    """The lines of (time, line) pairs in time order (a stable sort: same-time lines keep their order)."""
    return [x for _, x in sorted(items, key=lambda p: p[0])]


def merge(*parts: Parts) -> Parts:
    out: Parts = {}
    for p in parts:
        for svc, items in p.items():
            out.setdefault(svc, []).extend(items)
    return out


def write_server(
    root: Path,
    server: str,
    parts: Parts,
    *,
    day_folders: bool = True,
    encoding: dict[str, str] | None = None,
    newline: str = "\r\n",
) -> list[Path]:
    """One server's logs: a file per service per day (instance 01, restart 0001), in day folders
    (or all in ``root``), lines in time order; ``encoding`` per service code."""
    paths = []
    for svc, items in parts.items():
        days: dict[str, Lines] = {}
        for t, x in items:
            days.setdefault(f"{t:%Y%m%d}", []).append((t, x))
        for day, its in days.items():
            d = datetime.strptime(day, "%Y%m%d")
            folder = root / day if day_folders else root
            enc = (encoding or {}).get(svc, "utf-8")
            paths.append(
                write_lines(
                    folder / bes_name(server, svc, d), time_ordered(its), encoding=enc, newline=newline
                )
            )
    return paths


# ---------------------------------------------------------------------------------------------
# one activation, milestone by milestone (the seed's table; BES-LOGS.md section 3)
# ---------------------------------------------------------------------------------------------

STEPS = ("etp", "key", "accept", "books", "policy", "getconfig", "cical", "progress", "complete")
MILESTONE = {
    "etp": "etp_received",
    "key": "key_generated",
    "accept": "key_accept_sent",
    "books": "service_books_requested",
    "policy": "itpolicy_queued",
    "getconfig": "slowsync_started",
    "cical": "calendar_sync",
    "progress": "slowsync_progress",
    "complete": "slowsync_complete",
}
"""The milestone each step's line is (patterns/stages.toml)."""
STEP = {m: s for s, m in MILESTONE.items()}
SERVICE = {"policy": "POLC", "getconfig": "SYNC", "progress": "SYNC", "complete": "SYNC"}
"""Who logs a step; the others are the Messaging Agent's (MAGT)."""


@dataclass(frozen=True)
class Site:
    """How one BES site times and spells an activation, and who else is in its mail flow."""

    offsets: dict[str, float]
    """Seconds after the ETP.DAT pickup for each step; a step without one is never logged."""
    relay: str
    tag: int
    entry: int
    cipher: str = "3DES"
    key_note: bool = True
    trans: int = 0
    trans_per_user: bool = True
    """The KEY_ACCEPT's transID: ``trans + uid``, or ``trans`` for everyone."""
    dash: str = "-"
    cical: str = "[CICAL] Calendar slow synchronization started, 218 items"
    command: str = "AddressBookData"
    """The organizer-data command that is progress in the slow synchronization."""
    idle: tuple[str, ...] = ()
    """Mailboxes in the mail flow around the activations."""
    mail_tid: str = "1B44"
    pending: bool = True
    """Whether the mail flow has ``Total Msgs Pending`` lines."""


EU_SITE = Site(
    offsets={
        "etp": 0,
        "key": 2,
        "accept": 2.3,
        "books": 9,
        "policy": 13,
        "getconfig": 48,
        "cical": 60,
        "progress": 200,
        "complete": 790,
    },  # fmt: skip
    relay="etp2.eu.blackberry.net",
    tag=-19450213,
    entry=771203,
    cipher="AES",
    trans=900000,
    idle=("anna.lind@example.eu", "piet.devries@example.eu", "sofia.rossi@example.eu"),
)
"""Timed like the seed (key within seconds, slow sync about 13 minutes), AES keys, ASCII dashes."""

LON_SITE = Site(
    offsets={
        "etp": 0,
        "key": 1,
        "accept": 1.4,
        "books": 7,
        "policy": 11,
        "getconfig": 46,
        "cical": 70,
        "progress": 300,
        "complete": 840,
    },  # fmt: skip
    relay="etp3.eu.blackberry.net",
    tag=-511872311,
    entry=40211,
    cipher="3DES",
    trans=3000000,
    dash="–",
    cical="[CICAL] Calendar slow synchronization started for 96 items",
    command="ContactsData",
    idle=("li.wei@corp.example", "omar.farouk@corp.example"),
    mail_tid="1C30",
    pending=False,
)
"""The seed's example pace (key in the pickup's second, slow sync 14 minutes), 3DES, the seed's en dash."""

SEED_SITE = Site(
    offsets={
        "etp": 0,
        "key": 98.9,
        "accept": 98.95,
        "books": 104.9,
        "policy": 108.9,
        "getconfig": 143.9,
        "complete": 575.9,
    },  # fmt: skip
    relay="etp1006.etp.na.blackberry.net",
    tag=-903057656,
    entry=2604425,
    key_note=False,
    trans=2077103732,
    trans_per_user=False,
)
"""The seed walkthrough's own lines and times (06:50:00.100 to 06:59:36 when started at hh:50:00.100),
no calendar line and no organizer data in between."""


TERSE_SITE = Site(
    offsets={"etp": 0, "key": 6, "accept": 6.05, "books": 12, "policy": 16, "getconfig": 50, "complete": 600},
    relay="etp1884.etp.na.blackberry.net",
    tag=1,
    entry=2,
    key_note=False,
    trans=2077103732,
    trans_per_user=False,
)
"""The seed's lines in a ten-minute activation with nothing in between (no calendar, no organizer data)."""


class Activation:
    """One user's activation as ``site`` logs it, from the ETP.DAT pickup at ``t0`` up to ``upto``
    (a step of STEPS or a milestone name), each service's lines on its own threads."""

    def __init__(
        self,
        email: str,
        uid: int,
        display: str,
        t0: datetime,
        *,
        upto: str = "complete",
        site: Site = EU_SITE,
        etp_tid: str = "1AEC",
        key_tid: str = "14D4",
        books_tid: str = "1AA8",
        polc_tid: str = "E1C",
        sync_tid: str = "1294",
        scale: float = 1.0,
    ) -> None:
        self.email, self.uid, self.display, self.t0, self.site = email, uid, display, t0, site
        last = STEPS.index(STEP.get(upto, upto))
        self.keep = tuple(s for s in STEPS[: last + 1] if s in site.offsets)
        self.etp_tid, self.key_tid, self.books_tid = etp_tid, key_tid, books_tid
        self.polc_tid, self.sync_tid, self.scale = polc_tid, sync_tid, scale

    def at(self, sec: float) -> datetime:
        return self.t0 + timedelta(seconds=sec * self.scale)

    def line(self, step: str) -> tuple[str, datetime, str]:
        """(service, time, line) of one step."""
        site, e, n, u = self.site, self.email, self.display, self.uid
        t = self.at(site.offsets[step])
        text: str
        if step == "etp":
            text = bes_line(t, etp_text(site.relay, site.tag, site.entry), tid=self.etp_tid, user=e)
        elif step == "key":
            text = bes_line(t, key_text(site.cipher, note=site.key_note), tid=self.key_tid, user=e)
        elif step == "accept":
            text = bes_line(t, accept_text(site.trans + (u if site.trans_per_user else 0)), tid=self.key_tid)
        elif step == "books":
            text = bes_line(t, BOOKS_TEXT, tid=self.books_tid, user=e)
        elif step == "policy":
            text = bes_line(t, policy_text(u, site.dash), tid=self.polc_tid)
        elif step == "getconfig":
            text = bes_line(t, command_text("GetConfig", n, u), tid=self.sync_tid, eid=46046)
        elif step == "cical":
            text = bes_line(t, site.cical, tid=self.books_tid, user=e)
        elif step == "progress":
            text = bes_line(t, command_text(site.command, n, u), tid=self.sync_tid, eid=46047)
        elif step == "complete":
            text = bes_line(t, complete_text(n, u), tid="12AC", eid=36023)
        else:
            raise AssertionError(step)
        return SERVICE.get(step, "MAGT"), t, text

    def parts(self) -> Parts:
        out: Parts = {"MAGT": [], "POLC": [], "SYNC": []}
        for s in self.keep:
            svc, t, x = self.line(s)
            out[svc].append((t, x))
        return out

    def last(self) -> datetime:
        return max(self.line(s)[1] for s in self.keep)


def activation(email: str, uid: int, display: str, t0: datetime, **kw: Any) -> Parts:
    """The milestone lines of one activation per service (``Activation(...).parts()``)."""
    return Activation(email, uid, display, t0, **kw).parts()


def policy_at(t: datetime, uid: int, *, tid: str = "E1C") -> tuple[datetime, str]:
    """POLC's SET_ITPOLICY_REQUEST for ``uid`` at ``t``: an activation's stage 3, or a routine push."""
    return t, bes_line(t, policy_text(uid), tid=tid)


def mail_flow(
    t0: datetime, t1: datetime, *, step: float = 20, site: Site = EU_SITE, users: Sequence[str] | None = None
) -> Lines:
    """Mail flow of users who are not activating, every ``step`` seconds (BES-LOGS.md section 2:
    most of a MAGT file), on the site's mail thread."""
    who = tuple(users) if users is not None else site.idle
    out: Lines = []
    t, n = t0, 0
    while t < t1:
        u = who[n % len(who)]
        out.append((t, bes_line(t, mail_text(280000 + n), tid=site.mail_tid, user=u, eid=30085)))
        out.append((t, bes_line(t, f"Sending message to device, RefId={5000 + n}, size={1024 + n}",
                                tid=site.mail_tid, user=u)))  # fmt: skip
        if site.pending and n % 7 == 0:
            out.append((t, bes_line(t, f"Total Msgs Pending {n % 5}", tid="9C4", eid=30000)))
        n += 1
        t += timedelta(seconds=step)
    return out


def write_activation(
    folder: Path,
    server: str,
    date: str,
    email: str,
    uid: int,
    display: str,
    *,
    hour: int = 6,
    upto: str = "slowsync_complete",
    end: str | None = "23:50:00.000",
) -> None:
    """One activation with the seed's lines and times (SEED_SITE, from ``hour``:50) in the MAGT, POLC
    and SYNC files of ``server`` for ``date`` (yyyymmdd), added to what those files hold; ``end``
    adds a last line to every file so the server's logs run until then."""
    t0 = datetime.strptime(date, "%Y%m%d").replace(hour=hour, minute=50, microsecond=100000)
    day = f"{date[4:6]}/{date[6:8]}"
    for service, items in Activation(email, uid, display, t0, upto=upto, site=SEED_SITE).parts().items():
        path = folder / f"{server}_{service}_01_{date}_0001.txt"
        old = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
        new = [ln for ln in old if "Total Msgs Pending" not in ln] + [x for _, x in items]
        new.sort(key=lambda t: t[t.index("(") + 1 : t.index(")")])
        if end:
            new.append(bes_line(f"{day} {end}", "Total Msgs Pending 0", tid="A2C", eid=30000))
        write_lines(path, new)


# servers and people the tests use

EU1, EU2 = "BES_EU_01", "BES_EU_02"
"""Server names with "_" (BES-LOGS.md section 1: split from the right), EU_SITE's."""
LON, NYC = "BBX_LON_01", "BBX_NYC_02"
"""LON_SITE's servers."""
JOERG = ("joerg.mueller@example.eu", 4711, "Müller, Jörg")
"""An accented name whose address folds it (ü -> ue, ö -> oe); cp1252 in many tests."""
HELP = "helpdesk.lead@example.eu"
"""An address whose shape says nothing about a display name."""
OPS = "ops-night@example.eu"
RUTH = ("ruth.okafor@corp.example", 4410, "Okafor, Ruth")
KIM = ("kim.tran@corp.example", 5120, "Tran, Kim")
TOM = ("tomasz.wolski@corp.example", 6060, "Wolski, Tomasz")


# the explicit errors of the KB table (BES-LOGS.md section 4), each stopping an activation

ERROR_USER = ("marek.zielinski@example.eu", 640, "Zielinski, Marek")
ERRORS = [
    "user-not-started",
    "opendatabase-failed",
    "mailbox-not-reachable",
    "etp-dat-rejected",
    "contact-service-administrator",
    "itpolicy-rejected-magt",
    "itpolicy-rejected-polc",
]


def explicit_error(name: str, t0: datetime) -> tuple[Parts, int, str]:
    """ERROR_USER's activation from ``t0`` stopped by error ``name`` 20 s later: the lines, and the
    stage and KB article the error names."""
    U = ERROR_USER[0]
    e = t0 + timedelta(seconds=20)

    def upto(step: str) -> Parts:
        return activation(*ERROR_USER, t0, upto=step)

    if name == "user-not-started":
        parts = upto("etp")
        parts["MAGT"].append(
            (e, bes_line(e, "User not started - the OpenDatabase() failed", tid="1B44", user=U, eid=10000))
        )
        return parts, 1, "KB10321"
    if name == "opendatabase-failed":
        parts = upto("etp")
        msg = "MailboxManager: OpenDatabase() failed for this user, error 0x80040111"
        parts["MAGT"].append((e, bes_line(e, msg, tid="1B44", user=U, eid=20000)))
        return parts, 1, "KB10321"
    if name == "mailbox-not-reachable":
        parts = upto("etp")
        msg = mailbox_error_text("/o=EU/ou=Exchange/cn=Recipients/cn=mzielinski")
        parts["MAGT"].append((e, bes_line(e, msg, tid="21AC", user=U, eid=20400)))
        return parts, 1, "KB02276"
    if name == "etp-dat-rejected":
        parts = upto("etp")
        msg = "Enterprise activation: ETP.DAT message failed verification, the activation password does not match"
        parts["MAGT"].append((e, bes_line(e, msg, tid="1AEC", user=U, eid=20000)))
        return parts, 1, "KB04829"
    if name == "contact-service-administrator":
        parts = upto("key")
        msg = "Activation error: Contact Service Administrator"
        parts["MAGT"].append((e, bes_line(e, msg, tid="14D4", user=U, eid=20000)))
        return parts, 2, "KB13843"
    if name == "itpolicy-rejected-magt":
        parts = upto("policy")
        parts["MAGT"].append(
            (e, bes_line(e, "IT Policy Rejected by the device", tid="1AA8", user=U, eid=20000))
        )
        return parts, 3, "KB04533"
    if name == "itpolicy-rejected-polc":
        parts = upto("policy")
        msg = "SCS::ProcessITPolicyResult - IT policy was rejected by the device for UserId=640"
        parts["POLC"].append((e, bes_line(e, msg, tid="E1C", eid=20000)))
        return parts, 3, "KB04533"
    raise AssertionError(name)


def write_user_map(path: Path, rows: Iterable[tuple[str, int, str]], *, encoding: str = "utf-16") -> Path:
    """A user map as Windows exports it from the BES configuration database (UTF-16, CRLF)."""
    text = "MailboxSMTPAddr,UserConfigId,DisplayName\r\n" + "".join(f'{e},{i},"{d}"\r\n' for e, i, d in rows)
    path.write_bytes(text.encode(encoding))
    return path


STAGE = {
    "etp_received": 1,
    "key_generated": 2,
    "key_accept_sent": 2,
    "service_books_requested": 3,
    "itpolicy_queued": 3,
    "slowsync_started": 4,
    "calendar_sync": 4,
    "slowsync_progress": 4,
    "slowsync_complete": 4,
}
"""The stage of each milestone (patterns/stages.toml)."""


def address_fold(text: str) -> str:
    """How a ``first.last`` address is made from a name: ü -> ue, ø -> oe, å -> aa, é -> e, no spaces."""
    import unicodedata

    table = str.maketrans(
        {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "æ": "ae", "ø": "oe", "å": "aa", " ": "", "'": ""}
    )
    text = text.lower().translate(table)
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


# ---------------------------------------------------------------------------------------------
# hand-built events: what the matcher makes of a line, without any log file
# ---------------------------------------------------------------------------------------------

PATTERN_OF = {
    "etp_received": "magt.etp-queued",
    "key_generated": "magt.key-generated",
    "key_accept_sent": "magt.key-accept",
    "service_books_requested": "magt.service-books-queued",
    "itpolicy_queued": "polc.itpolicy-queued",
    "slowsync_started": "sync.getconfig",
    "calendar_sync": "magt.calendar-slowsync",
    "slowsync_progress": "sync.slowsync-command",
    "slowsync_complete": "sync.slowsync-complete",
}
"""The pattern of patterns/activation.toml that finds each milestone's line."""


def event(
    library: Any,
    what: str,
    time: datetime,
    *,
    server: str | None = "BB01",
    email: str | None = None,
    user_id: str | None = None,
    display_name: str | None = None,
    thread: str | None = None,
    line: int = 1,
) -> Any:
    """An ``Event`` as the matcher makes it when pattern ``what`` (a pattern id, or a milestone
    name of PATTERN_OF) matches line ``line`` of the server's file of that day: stage, milestone,
    error, KB, ``opens_attempt`` and ``resumes`` come from that pattern in ``library``."""
    from bes_logdiag.model import Event

    pattern = next(p for p in library.patterns if p.id == PATTERN_OF.get(what, what))
    return Event(
        time=time,
        server=server,
        service=pattern.service,
        file=bes_name(server or "X", pattern.service or "MAGT", time),
        line=line,
        pattern_id=pattern.id,
        stage=pattern.stage,
        milestone=pattern.milestone,
        error=pattern.error,
        kb=pattern.kb,
        opens_attempt=pattern.opens_attempt,
        email=email,
        user_id=user_id,
        display_name=display_name,
        thread=thread,
        resumes=pattern.resumes,
    )


# ---------------------------------------------------------------------------------------------
# a random world: one server's day of overlapping activations and noise, from a seed
# ---------------------------------------------------------------------------------------------

WORLD_SERVER = "BES_EU_01"  # a server name with "_" (BES-LOGS.md section 1: split from the right)
WORLD_FIRST = ["Anna", "Jürgen", "Zoë", "José", "Chloé", "Ian", "Eva", "Omar", "Marek", "Inés", "Björn", "Li"]
WORLD_LAST = ["Berg", "Müller", "Lefèvre", "Núñez", "Dundas", "Lindqvist", "Reed", "Okafor", "Novák", "Wei"]
IDLE = ["cat@corp.example", "helpdesk@corp.example", "dieter.schoen@corp.example", "sales-emea@corp.example",
        "noreply@corp.example", "p.ng@corp.example"]  # fmt: skip
IDLE_DISPLAY = ["Test User1", "Schön, Dieter", "Ng, Pat"]
SUBJECTS = [
    "Weekly report", "Grüße aus Köln – Café", "Re: Ihre Anfrage „Angebot“", "FW: 📱 new phone",
    '"*** SLOWSYNC COMPLETE *** [Reed, Ian:1003]"', '"Generating 3DES key"', '"sending KEY_ACCEPT transID = 5"',
    '"Queuing DATA from network@etp1.x.net"', '"User not started"', '"Received "GetConfig" command from device."',
    '"Current Date: 2031/01/01"', '"IT Policy Rejected"',
]  # fmt: skip
"""Mail subjects, some quoting milestone text in quotes (which must never count as a milestone)."""


@dataclass(frozen=True)
class Rec:
    """One BES record (BES-LOGS.md section 2) and what the generator knows about it."""

    t: datetime
    service: str
    tid: str
    text: str
    user: str | None = None
    """The activating user this record is a milestone or error of."""
    kind: str = "noise"
    """A step of STEPS, ``error``, ``noise`` or ``end``."""


def record(
    t: datetime,
    service: str,
    tid: str,
    msg: str,
    *,
    who: str | None = None,
    eid: str = "40000",
    user: str | None = None,
    kind: str = "noise",
) -> Rec:
    """A record at ``t`` (cut to milliseconds) naming ``who`` in its user field."""
    t = t.replace(microsecond=t.microsecond // 1000 * 1000)
    return Rec(t, service, tid, bes_line(t, msg, tid=tid, user=who, eid=eid), user, kind)


@dataclass
class World:
    day: datetime
    end: datetime
    recs: list[Rec] = field(default_factory=list)
    users: list[str] = field(default_factory=list)
    server: str = WORLD_SERVER


def random_world(
    seed: int,
    n_users: int,
    *,
    start: datetime | None = None,
    busy: bool = False,
    noise_every: float = 2.0,
    thread_reuse: bool = False,
) -> World:
    """Activations of `n_users` users (overlapping, each with its own threads, every outcome), and
    mail flow of idle users on other threads every `noise_every` seconds on average.

    busy: a KEY_ACCEPT comes up to 4 minutes after its key line, with the other threads' lines in
    between (its owner is many read blocks back but within the 5-minute window).
    thread_reuse: an idle user's line on the key thread *before* the key line (the key line is
    then the last line naming a user on that thread, so the owner does not change).
    """
    rng = random.Random(seed)
    start = start or datetime(2024, 3, 12, 9, 0, 0)
    recs: list[Rec] = []
    users = []
    names = rng.sample([(f, ln) for f in WORLD_FIRST for ln in WORLD_LAST], n_users)
    t_last = start
    for i, (first, last) in enumerate(names):
        email = f"{address_fold(first)}.{address_fold(last)}@corp.example"
        uid, display = 1001 + i, f"{last}, {first}"
        users.append(email)
        t0 = start + timedelta(seconds=rng.randrange(0, 1800), milliseconds=rng.randrange(1000))
        upto = rng.choice(STEPS)
        error = rng.choice([None, None, None, "not_started", "key_reject", "policy_rejected"])
        tid = {k: f"{k}{i:02X}" for k in ("1A", "2B", "3C", "4D", "5E")}
        accept_gap = timedelta(seconds=rng.uniform(30, 240)) if busy else timedelta(milliseconds=50)
        times = {"etp": t0, "key": t0 + timedelta(seconds=1), "books": t0 + accept_gap + timedelta(seconds=6),
                 "policy": t0 + accept_gap + timedelta(seconds=9), "getconfig": t0 + accept_gap + timedelta(seconds=45),
                 "cical": t0 + accept_gap + timedelta(seconds=50), "progress": t0 + accept_gap + timedelta(minutes=3),
                 "complete": t0 + accept_gap + timedelta(minutes=rng.choice([9, 40]))}  # fmt: skip
        times["accept"] = times["key"] + accept_gap
        # the random parts in the order they have always been drawn (a seed gives the same world)
        etp = etp_text(tag=f"-{rng.randrange(10**9)}", entry=rng.randrange(10**7))
        key = key_text(rng.choice(["3DES", "AES"]))
        accept = accept_text(rng.randrange(10**9))
        cical = f"[CICAL] Starting calendar slow sync, items={rng.randrange(9, 400)}"
        lines = {
            "etp": record(times["etp"], "MAGT", tid["1A"], etp, who=email),
            "key": record(times["key"], "MAGT", tid["2B"], key, who=email),
            "accept": record(times["accept"], "MAGT", tid["2B"], accept),
            "books": record(times["books"], "MAGT", tid["3C"], BOOKS_TEXT, who=email),
            "policy": record(times["policy"], "POLC", "E1C", policy_text(uid, "–")),
            "getconfig": record(
                times["getconfig"], "SYNC", tid["4D"], command_text("GetConfig", display, uid), eid="46046"
            ),
            "cical": record(times["cical"], "MAGT", tid["3C"], cical, who=email),
            "progress": record(
                times["progress"], "SYNC", tid["4D"], command_text("SyncData", display, uid), eid="46047"
            ),
            "complete": record(
                times["complete"], "SYNC", tid["5E"], complete_text(display, uid), eid="36023"
            ),
        }
        for k in STEPS[: STEPS.index(upto) + 1]:
            recs.append(replace(lines[k], user=email, kind=k))
            t_last = max(t_last, lines[k].t)
        if error == "not_started" and upto == "etp":
            recs.append(record(t0 + timedelta(seconds=2), "MAGT", tid["1A"], "The OpenDatabase() failed. User not started",
                               who=email, eid="10000", user=email, kind="error"))  # fmt: skip
        elif error == "key_reject" and upto == "key":
            recs.append(record(times["key"] + timedelta(milliseconds=300), "MAGT", tid["2B"],
                               "Activation error: Contact Service Administrator", who=email, eid="20000",
                               user=email, kind="error"))  # fmt: skip
        elif error == "policy_rejected" and upto == "policy":
            recs.append(record(times["policy"] + timedelta(seconds=3), "POLC", "E1C",
                               f"SCS::ProcessITPolicyResult - IT policy rejected by device for UserId={uid}",
                               eid="20000", user=email, kind="error"))  # fmt: skip
        if thread_reuse:
            recs.append(record(times["key"] - timedelta(milliseconds=rng.randrange(1, 900)), "MAGT", tid["2B"],
                               mail_text(rng.randrange(10**6)), who=rng.choice(IDLE), eid="30085"))  # fmt: skip
    end = max(t_last, start + timedelta(minutes=30)) + timedelta(minutes=rng.choice([5, 20, 50, 90]))
    end = end.replace(microsecond=end.microsecond // 1000 * 1000)
    recs += idle_records(rng, start - timedelta(minutes=5), end, noise_every)
    for service in ("MAGT", "POLC", "SYNC"):
        recs.append(record(end, service, "A2C", "Total Msgs Pending 0", eid="30000", kind="end"))
    recs.sort(key=lambda r: (r.t, r.kind == "end"))
    return World(start.replace(hour=0, minute=0, second=0, microsecond=0), end, recs, users)


def idle_record(rng: random.Random, t: datetime, service: str | None = None) -> Rec:
    """A line that is no milestone of anybody activating: other users, other threads (BES-LOGS.md
    section 2 "Real lines of other kinds"); subjects that quote milestone text in quotes."""
    service = service or rng.choice(["MAGT", "MAGT", "MAGT", "POLC", "SYNC"])
    tid = f"{rng.choice(['7', '8', '9', 'C', 'D'])}{rng.randrange(16**2):02X}"
    if service == "MAGT":
        who = rng.choice(IDLE)
        kind = rng.randrange(6)
        if kind == 0:
            return record(t, service, tid, mail_text(rng.randrange(10**6)), who=who, eid="30085")
        if kind == 1:
            return record(
                t,
                service,
                tid,
                f"Sending message to device, RefId={rng.randrange(10**6)}, "
                f"size={rng.randrange(99, 9999)}, Subject={rng.choice(SUBJECTS)}",
                who=who,
                eid="30011",
            )
        if kind == 2:
            return record(t, service, tid, f"Total Msgs Pending {rng.randrange(9)}", eid="30000")
        if kind == 3:
            return record(
                t, service, tid, mailbox_error_text(f"/o=CORP/cn={who.split('@')[0]}"), who=who, eid="20400"
            )
        if kind == 4:
            return record(
                t, service, tid, f"[BIPP] Message delivered, Subject={rng.choice(SUBJECTS)}", who=who
            )
        return record(t, service, tid, "Agent 4: Missed 1 heartbeats", eid="20000")
    if service == "POLC":
        return record(t, service, tid, rng.choice(["SCS::Heartbeat ok", f"Policy cache refreshed, Subject={rng.choice(SUBJECTS)}"]),
                      eid="30000")  # fmt: skip
    return record(t, service, tid, "CheckResponseReceived - no changes detected.", who=rng.choice(IDLE_DISPLAY),
                  eid="40089")  # fmt: skip


def idle_records(rng: random.Random, t0: datetime, t1: datetime, every: float) -> list[Rec]:
    """Idle records from ``t0`` to ``t1``, ``every`` seconds apart on average."""
    out, t = [], t0
    while t < t1:
        t += timedelta(seconds=rng.expovariate(1 / every))
        if t < t1:
            out.append(idle_record(rng, t.replace(microsecond=t.microsecond // 1000 * 1000)))
    return out


Line = tuple[Rec, ...]
"""A physical line: one record, or several glued (text copied out of a table, README "Input")."""


def physical(recs: list[Rec], rng: random.Random, glue: float) -> dict[str, list[Line]]:
    """Per service, its records in time order as physical lines, a share `glue` of them glued to
    the next one.  The last line of a file is never glued (it must end the log)."""
    out: dict[str, list[Line]] = {}
    for service in ("MAGT", "POLC", "SYNC"):
        mine = [r for r in recs if r.service == service]
        lines: list[Line] = []
        i = 0
        while i < len(mine):
            if i + 2 < len(mine) and rng.random() < glue:
                lines.append((mine[i], mine[i + 1]))
                i += 2
            else:
                lines.append((mine[i],))
                i += 1
        out[service] = lines
    return out


def text_of(line: Line) -> str:
    return " ".join(r.text for r in line)


@dataclass(frozen=True)
class Style:
    encodings: dict[str, str]
    """Service code -> how its files are encoded (one of ENCODINGS)."""
    newline: str = "\r\n"


def write_files(root: Path, files: dict[str, list[Line]], style: Style) -> None:
    """`files`: relative path -> its lines; the service is read from the BES file name."""
    for rel, lines in files.items():
        service = rel.rsplit("/", 1)[-1].split("_")[-4]
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(
            encode("".join(text_of(x) + style.newline for x in lines), style.encodings[service], "replace")
        )


def plain_layout(world: World, lines: dict[str, list[Line]]) -> dict[str, list[Line]]:
    """One file per service in the world's day folder."""
    return {f"{world.day:%Y%m%d}/{bes_name(world.server, s, world.day)}": ls for s, ls in lines.items()}


# ---------------------------------------------------------------------------------------------
# a busy day: one captured day (2024-03-12, 07:00-18:00) of three servers
# ---------------------------------------------------------------------------------------------
# 60 users activating at overlapping times (bursts of several in the same minute on both Messaging
# Agents, each with its own threads), every outcome of the KB table plus complete and in progress,
# and a day of realistic noise around them: mail flow for ~80 mailboxes per agent, IT policy pushes
# and routine device syncs of idle users, mailbox errors of idle users, and the MDSS/CTRL/DISP/ROUT
# files.  Identities (BES-LOGS.md section 3, README "Identities"): most users have ``first.last``
# addresses (joined by name shape once SYNC names them); some have addresses of another shape and
# are joined by the ``--users`` CSV; some only by the order in time (a service-book request, then
# the IT policy a few seconds later, nothing else within two minutes); and one pair asks for
# service books in the same seconds, which the tool must refuse to join.

BUSY_DAY = datetime(2024, 3, 12)
BUSY_START = BUSY_DAY.replace(hour=7)
BUSY_END = BUSY_DAY.replace(hour=18)  # every server's last line (CTRL health check)
BUSY_SERVERS = ("BES01", "BES_EU_02", "HQ_BES_03")
BUSY_RESTART = BUSY_DAY.replace(hour=12, minute=30)  # MAGT_01 restarts: _0001 until then, _0002 after
BUSY_PUSHES = (
    BUSY_DAY.replace(hour=7, minute=40),
    BUSY_DAY.replace(hour=12, minute=5),
    BUSY_DAY.replace(hour=16, minute=20),
)
# quiet slots: activations that only time order can join (nothing else within minutes)
BUSY_SLOTS = (
    BUSY_DAY.replace(hour=8, minute=20),
    BUSY_DAY.replace(hour=10, minute=5),
    BUSY_DAY.replace(hour=13, minute=20),
    BUSY_DAY.replace(hour=14, minute=40),
    BUSY_DAY.replace(hour=15, minute=20),
)
BUSY_LATE_SLOT = BUSY_DAY.replace(hour=17, minute=40)  # in progress at stage 3 when the logs end
BUSY_BURSTS = (BUSY_DAY.replace(hour=9, minute=0, second=5), BUSY_DAY.replace(hour=11, minute=15, second=30))

# outcome -> (status, stage, kb): BES-LOGS.md section 4, patterns/rules.toml, patterns/errors.toml
OUTCOMES: dict[str, tuple[str, int, str | None]] = {
    "complete": ("complete", 4, None),
    "in_progress_4": ("in_progress", 4, None),
    "in_progress_3": ("in_progress", 3, None),
    "stall_etp": ("stalled", 1, "KB13840"),
    "stall_key": ("stalled", 2, "KB13843"),
    "stall_accept": ("stalled", 2, "KB13843"),
    "stall_books": ("stalled", 3, "KB03410"),
    "stall_policy": ("stalled", 3, "KB13847"),
    "stall_getconfig": ("stalled", 4, "KB03964"),
    "stall_cical": ("stalled", 4, "KB10496"),
    "stall_progress": ("stalled", 4, "KB13461"),
    "fail_not_started": ("failed", 1, "KB10321"),
    "fail_mailbox": ("failed", 1, "KB02276"),
    "fail_etp_rejected": ("failed", 1, "KB04829"),
    "fail_key_rejected": ("failed", 2, "KB13843"),
    "fail_policy_rejected": ("failed", 3, "KB04533"),
    "retry_complete": ("complete", 4, None),
}
REACHES_POLC = {
    "complete",
    "in_progress_4",
    "in_progress_3",
    "stall_policy",
    "stall_getconfig",
    "stall_cical",
    "stall_progress",
    "fail_policy_rejected",
    "retry_complete",
}
REACHES_SYNC = {
    "complete",
    "in_progress_4",
    "stall_getconfig",
    "stall_cical",
    "stall_progress",
    "retry_complete",
}
OUTCOME_UPTO = {
    "stall_etp": "etp",
    "stall_key": "key",
    "stall_accept": "accept",
    "stall_books": "books",
    "stall_policy": "policy",
    "stall_getconfig": "getconfig",
    "stall_cical": "cical",
    "stall_progress": "progress",
    "in_progress_3": "policy",
    "in_progress_4": "progress",
}
DAY_FIRST = [
    "Anna", "Piet", "Sofia", "Marek", "Jürgen", "Zoë", "José", "Søren", "Chloé", "Ines", "Omar", "Ravi",
    "Mei", "Tomás", "Helga", "Björn", "Amélie", "Lucía", "Nils", "Greta", "Karim", "Yusuf", "Elif",
    "Dario", "Fiona", "Hugo", "Ivana", "Joost", "Kaja", "Lars", "Maëlle", "Noor", "Otto", "Pia", "Quinn",
    "Rosa", "Sven", "Tereza", "Ugo", "Vera", "Wim", "Xenia", "Yara", "Zeno",
]  # fmt: skip
DAY_LAST = [
    "Berg", "de Vries", "Rossi", "Novák", "Müller", "Lefèvre", "Núñez", "Jørgensen", "Martin", "Haddad",
    "Patel", "Chen", "Ortiz", "Schäfer", "Lindqvist", "Dubois", "García", "Andersen", "Eriksson", "Nasser",
    "Demir", "Kaya", "Bianchi", "Walsh", "Moreau", "Horvat", "Bakker", "Nowak", "Holm", "Fischer", "Khan",
    "Weber", "Ruiz", "Sauer", "Söderström", "Costa", "Olsen", "Vidal", "Janssen", "Kovács", "Brandt",
    "Meyer", "Roth", "Hartmann", "Lund", "Falk", "Strand", "Vogel", "Graf", "Keller", "Wolff", "Brun",
    "Åberg", "Frost", "Lang", "Sandberg", "Krüger", "Öztürk", "Pohl", "Marx", "Zeller", "Engel", "Dahl",
    "Baum",
]  # fmt: skip


@dataclass
class DayUser:
    """One user of the busy day: server, name, id, how the tool can join their names (``kind``),
    what happens to their activation (``outcome``, one of OUTCOMES) and on which Messaging Agent."""

    server: str
    first: str
    last: str
    uid: int
    kind: str  # shape | map | time | amb
    outcome: str
    agent: int
    email: str = ""
    t0: datetime = BUSY_DAY
    retry_t0: datetime = BUSY_DAY
    scale: float = 1.0

    @property
    def display(self) -> str:
        return f"{self.last}, {self.first}"

    @property
    def expect(self) -> dict[str, object]:
        status, stage, kb = OUTCOMES[self.outcome]
        joined = self.kind != "amb"
        uid = self.uid if self.kind == "map" or (self.outcome in REACHES_POLC and joined) else None
        disp = self.display if self.kind == "map" or (self.outcome in REACHES_SYNC and joined) else None
        return {
            "server": self.server,
            "email": self.email,
            "user_id": uid,
            "display_name": disp,
            "status": status,
            "stage": stage,
            "kb": kb,
        }

    @property
    def needs_time_join(self) -> bool:
        """The address meets the user id only through POLC's line, and no map or name joins them."""
        if self.kind in ("time", "amb"):
            return True
        return self.kind == "shape" and self.outcome in REACHES_POLC - REACHES_SYNC


@dataclass
class BusyDay:
    """The busy day: its users, the idle mailboxes of each server, and every file's lines."""

    users: list[DayUser]
    idle: dict[str, list[tuple[str, int, str]]]  # server -> (email, uid, display)
    # (server, code, instance, iteration) -> [(time, text)]
    files: dict[tuple[str, str, int, int], list[tuple[datetime, str]]] = field(default_factory=dict)

    def add(self, server: str, code: str, inst: int, t: datetime, text: str) -> None:
        it = 2 if code == "MAGT" and inst == 1 and t >= BUSY_RESTART else 1
        self.files.setdefault((server, code, inst, it), []).append((t, text))

    def log(
        self,
        server: str,
        code: str,
        inst: int,
        t: datetime,
        msg: str,
        *,
        tid: str,
        user: str | None = None,
        eid: str = "40000",
    ) -> None:
        """Add the line ``msg`` at ``t`` on thread ``tid`` (naming ``user``) to that file."""
        self.add(server, code, inst, t, bes_line(t, msg, tid=tid, user=user, eid=eid))

    def user(self, email: str) -> DayUser:
        return next(u for u in self.users if u.email == email)


# the busy day's generator


def _busy_people(rng: random.Random) -> list[tuple[str, str]]:
    """Distinct first and last name pairs (so no address fits two display names)."""
    pairs = [(f, ln) for f in DAY_FIRST for ln in DAY_LAST]
    rng.shuffle(pairs)
    return pairs


def _busy_email(first: str, last: str, kind: str, domain: str, rng: random.Random) -> str:
    f, ln = address_fold(first), address_fold(last)
    if kind == "shape":
        return f"{f}.{ln}@{domain}"
    # addresses whose shape does not give the name away (initial+last, last.initial, role mailbox)
    return rng.choice(
        [f"{f[0]}{ln}@{domain}", f"{ln}.{f[0]}@{domain}", f"{ln}{f[0]}{rng.randint(1, 9)}@{domain}"]
    )


def _busy_server_plan(server: str, idx: int) -> list[tuple[str, str]]:
    """(outcome, kind) for the 20 users of one server: every outcome, every kind of join."""
    plan = [(o, "shape") for o in OUTCOMES]  # 17
    maps = [
        ("stall_key", "complete", "stall_policy"),
        ("stall_getconfig", "fail_mailbox", "in_progress_4"),
        ("fail_policy_rejected", "stall_books", "stall_progress"),
    ][idx]
    for o in maps:
        plan[[p[0] for p in plan].index(o)] = (o, "map")
    times = [("complete", "stall_getconfig"), ("stall_cical", "complete"), ("stall_progress", "complete")][
        idx
    ]
    plan.append((times[0], "time"))
    plan.append((times[1], "time"))
    if idx == 1:  # the ambiguous pair: two completes on BES_EU_02
        plan += [("complete", "amb"), ("complete", "amb")]
    else:
        plan.append(("complete", "shape"))
    return plan


def busy_day(seed: int = 20240312) -> BusyDay:
    rng = random.Random(seed)
    people = _busy_people(rng)
    users: list[DayUser] = []
    idle: dict[str, list[tuple[str, int, str]]] = {}
    pi = 0
    for idx, server in enumerate(BUSY_SERVERS):
        domain = ["corp.example", "example.eu", "hq.example.com"][idx]
        for n, (outcome, kind) in enumerate(_busy_server_plan(server, idx)):
            f, ln = people[pi]
            pi += 1
            u = DayUser(
                server,
                f,
                ln,
                1000 * (idx + 1) + 17 * n + rng.randint(1, 16),
                kind,
                outcome,
                rng.choice((1, 2)),
            )
            u.email = _busy_email(f, ln, kind, domain, rng)
            while any(x.email == u.email for x in users):
                u.email = _busy_email(f, ln, kind, domain, rng)
            u.scale = rng.uniform(0.8, 1.6)
            users.append(u)
        idle[server] = []
        for n in range(30):
            f, ln = people[pi]
            pi += 1
            idle[server].append(
                (f"{address_fold(f)}.{address_fold(ln)}@{domain}", 5000 + 100 * idx + n, f"{ln}, {f}")
            )
    _busy_schedule(users, rng)
    world = BusyDay(users, idle)
    busy: dict[tuple[str, int, str], list[tuple[datetime, datetime]]] = {}
    for u in users:
        _busy_activation(world, u, rng, busy)
    for server in BUSY_SERVERS:
        _busy_noise(world, server, rng, busy)
    return world


def _busy_schedule(users: list[DayUser], rng: random.Random) -> None:
    """Start times: quiet slots for time-only joins, bursts, and random times elsewhere."""
    for idx, server in enumerate(BUSY_SERVERS):
        mine = [u for u in users if u.server == server]
        amb = [u for u in mine if u.kind == "amb"]
        timed = [u for u in mine if u.needs_time_join and u.kind != "amb"]
        slots = list(BUSY_SLOTS)
        late = [u for u in timed if u.outcome == "in_progress_3"]
        for u in late:
            u.t0 = BUSY_LATE_SLOT + timedelta(seconds=rng.randint(0, 20))
        for u in timed:
            if u not in late:
                u.t0 = slots.pop(0) + timedelta(seconds=rng.randint(0, 40))
        if amb:  # requests A, B, then policies 1, 2 (README: refused)
            amb[0].t0 = slots.pop(0) + timedelta(seconds=7)
            amb[1].t0 = amb[0].t0 + timedelta(seconds=3)
            amb[0].scale = amb[1].scale = 1.0
        quiet = list(BUSY_SLOTS) + [BUSY_LATE_SLOT] + list(BUSY_PUSHES) + [BUSY_RESTART]

        def free(t: datetime) -> bool:
            return all(abs((t - q).total_seconds()) > 360 for q in quiet)

        rest = [u for u in mine if not u.needs_time_join]
        rng.shuffle(rest)
        burstable = [u for u in rest if u.outcome not in ("in_progress_4", "retry_complete")]
        for b, when in enumerate(BUSY_BURSTS):  # several users in the same minute, both agents
            for k, u in enumerate(burstable[b * 4 : b * 4 + 4]):
                u.t0 = when + timedelta(seconds=rng.randint(0, 50), milliseconds=rng.randint(0, 999))
                u.agent = 1 + (k % 2)
        placed = {id(u) for u in burstable[:8]}
        for u in rest:
            if id(u) in placed:
                continue
            if u.outcome == "in_progress_4":
                u.t0 = BUSY_DAY.replace(hour=17, minute=20, second=rng.randint(0, 59))
                u.scale = 1.0
                continue
            latest = {"complete": 16 * 60 + 30, "retry_complete": 14 * 60}.get(u.outcome, 15 * 60 + 20)
            while True:
                t = BUSY_DAY + timedelta(
                    minutes=rng.randint(7 * 60 + 20, latest),
                    seconds=rng.randint(0, 59),
                    milliseconds=rng.randint(0, 999),
                )
                if free(t):
                    u.t0 = t
                    break
            while u.outcome == "retry_complete":  # the retry, two hours or so later
                u.retry_t0 = u.t0 + timedelta(hours=2, minutes=rng.randint(0, 20), seconds=rng.randint(0, 59))
                if free(u.retry_t0):
                    break


def _busy_activation(world: BusyDay, u: DayUser, rng: random.Random, busy: dict) -> None:  # type: ignore[type-arg]
    """Milestone lines (seed table) timed like the seed: key in seconds, slow sync ~13 min."""
    s = u.server
    while True:  # a key thread of its own on its agent (other users' mail may pass on it at other times)
        key_tid = f"{rng.randint(0x1000, 0x1FFF):X}"
        if not any(k[0] == s and k[1] == u.agent and k[2] == key_tid for k in busy):
            break
    poll_tid = f"{rng.randint(0x2000, 0x2FFF):X}"
    books_tid = f"{rng.randint(0x3000, 0x3FFF):X}"
    if u.outcome == "retry_complete":  # first try: ETP.DAT, nothing more (KB13840), then a retry 2 h later
        world.log(s, "MAGT", u.agent, u.t0, _busy_etp(rng), tid=poll_tid, user=u.email)
        u0 = u.t0
        u.t0 = u.retry_t0
        _busy_milestones(world, u, "complete", rng, key_tid, poll_tid, books_tid, busy)
        u.t0 = u0
        return
    if u.outcome == "fail_not_started":
        for k in range(3):
            t = u.t0 + timedelta(minutes=15 * k)
            world.log(
                s,
                "MAGT",
                u.agent,
                t,
                "The OpenDatabase() failed. User not started",
                tid=poll_tid,
                user=u.email,
                eid="10000",
            )
        return
    upto = OUTCOME_UPTO.get(u.outcome, "complete")
    if u.outcome in ("fail_mailbox", "fail_etp_rejected"):
        upto = "etp"
    if u.outcome == "fail_key_rejected":
        upto = "key"
    if u.outcome == "fail_policy_rejected":
        upto = "policy"
    _busy_milestones(world, u, upto, rng, key_tid, poll_tid, books_tid, busy)
    at = u.t0 + timedelta(seconds=1, milliseconds=rng.randint(0, 900))
    if u.outcome == "fail_mailbox":
        for k in range(2):
            t = at + timedelta(minutes=k)
            world.log(
                s,
                "MAGT",
                u.agent,
                t,
                f"MAPIMailbox::MAPIMailbox - OpenMsgStore (0x8004011d) failed, MailboxDN=/o=Corp/ou=Exchange/"
                f"cn=Recipients/cn={u.email.split('@')[0]}",
                tid=poll_tid,
                user=u.email,
                eid="20400",
            )
    elif u.outcome == "fail_etp_rejected":
        world.log(
            s,
            "MAGT",
            u.agent,
            at,
            "Enterprise activation failed: ETP.DAT could not be decrypted with the activation password",
            tid=poll_tid,
            user=u.email,
            eid="20000",
        )
    elif u.outcome == "fail_key_rejected":
        t = u.t0 + timedelta(seconds=2.4 * u.scale)
        world.log(
            s,
            "MAGT",
            u.agent,
            t,
            f"*** OTAKEYGEN *** Key verification failed, sending KEY_REJECT transID = {rng.randint(10**6, 10**9)}",
            tid=key_tid,
            user=u.email,
            eid="20000",
        )
    elif u.outcome == "fail_policy_rejected":
        t = u.t0 + timedelta(seconds=40 * u.scale)
        if BUSY_SERVERS.index(s) % 2:
            world.log(
                s,
                "MAGT",
                u.agent,
                t,
                f"IT Policy Rejected by device, PIN=2A{u.uid:X}4C",
                tid=books_tid,
                user=u.email,
                eid="20000",
            )
        else:
            world.log(
                s,
                "POLC",
                1,
                t,
                f"SCS::ProcessITPolicyResult - IT policy rejected by device for UserId={u.uid}",
                tid="E1C",
                eid="20000",
            )


def _busy_etp(rng: random.Random) -> str:
    relay = f"etp{rng.randint(1000, 1999)}.etp.na.blackberry.net"
    return etp_text(relay, rng.randint(-999999999, 999999999), rng.randint(100000, 9999999))


def _busy_milestones(
    world: BusyDay,
    u: DayUser,
    upto: str,
    rng: random.Random,
    key_tid: str,
    poll_tid: str,
    books_tid: str,
    busy: dict,
) -> None:  # type: ignore[type-arg]
    keep = STEPS[: STEPS.index(upto) + 1]
    s, a = u.server, u.agent

    def at(sec: float) -> datetime:
        return u.t0 + timedelta(seconds=sec * u.scale)

    if "etp" in keep:
        world.log(s, "MAGT", a, at(0), _busy_etp(rng), tid=poll_tid, user=u.email)
    if "key" in keep:
        cipher = rng.choice(["3DES", "AES"])
        world.log(s, "MAGT", a, at(2), key_text(cipher), tid=key_tid, user=u.email)
        busy.setdefault((s, a, key_tid), []).append(
            (at(2) - timedelta(seconds=1), at(2.3) + timedelta(seconds=1))
        )
    if "accept" in keep:
        world.log(s, "MAGT", a, at(2.3), accept_text(rng.randint(10**6, 2 * 10**9)), tid=key_tid)
    if "books" in keep:
        world.log(s, "MAGT", a, at(9), BOOKS_TEXT, tid=books_tid, user=u.email)
    if "policy" in keep:
        world.log(s, "POLC", 1, at(13), policy_text(u.uid), tid="E1C")
    if "getconfig" in keep:
        world.log(s, "SYNC", 1, at(48), command_text("GetConfig", u.display, u.uid), tid="1294", eid="46046")
    if "cical" in keep:
        world.log(
            s,
            "MAGT",
            a,
            at(60),
            f"[CICAL] Calendar slow synchronization started, {rng.randint(20, 900)} items",
            tid=books_tid,
            user=u.email,
        )
    if "progress" in keep:
        end = 760 if upto == "complete" else (rng.randint(300, 500) if u.outcome != "in_progress_4" else 1900)
        sec = 150
        while sec < end:
            cmd = rng.choice(["AddressBookData", "TaskData", "MemoData", "SyncData", "GetRecords"])
            world.log(s, "SYNC", 1, at(sec), command_text(cmd, u.display, u.uid), tid="1294", eid="46047")
            sec += rng.randint(60, 200)
    if "complete" in keep:
        world.log(s, "SYNC", 1, at(790), complete_text(u.display, u.uid), tid="12AC", eid="36023")
        for k in range(2):  # routine syncs later in the day: after completion they start nothing
            t = at(790) + timedelta(hours=1 + k, minutes=rng.randint(0, 30))
            if t < BUSY_END - timedelta(minutes=1):
                world.log(
                    s, "SYNC", 1, t, command_text("SyncData", u.display, u.uid), tid="1298", eid="46047"
                )


def _busy_noise(world: BusyDay, server: str, rng: random.Random, busy: dict) -> None:  # type: ignore[type-arg]
    """A day of everything else (BES-LOGS.md section 2: activation lines are a tiny fraction)."""
    idle = world.idle[server]
    users = [u for u in world.users if u.server == server]
    workers = {a: [f"{rng.randint(0x1000, 0x1FFF):X}" for _ in range(6)] for a in (1, 2)}
    for u in users:  # key threads also carry mail flow at other times
        for s, a, tid in busy:
            if s == server and tid not in workers[a]:
                workers[a].append(tid)
    broken = [e for e, _, _ in idle[:2]]  # idle users whose mailbox the service account cannot open
    for agent in (1, 2):
        mailboxes = [u.email for u in users if u.agent == agent] + [e for e, _, _ in idle]
        for start in (BUSY_START, BUSY_RESTART):
            t = start + timedelta(milliseconds=rng.randint(5, 90))
            world.log(
                server,
                "MAGT",
                agent,
                t,
                f"BlackBerry Messaging Agent {server} Agent {agent} starting",
                tid="9C4",
                eid="50000",
            )
            world.log(server, "MAGT", agent, t, f"Current Date: {BUSY_DAY:%Y/%m/%d}", tid="9C4", eid="30000")
        t = BUSY_START + timedelta(seconds=1)
        n = 0
        while t < BUSY_END - timedelta(seconds=30):
            t += timedelta(seconds=rng.expovariate(1 / 14), milliseconds=rng.randint(0, 999))
            if t >= BUSY_END - timedelta(seconds=30):
                break
            if abs((t - BUSY_RESTART).total_seconds()) < 2:
                continue
            tid = rng.choice(workers[agent])
            if any(a <= t <= b for a, b in busy.get((server, agent, tid), [])):
                continue
            who = rng.choice(mailboxes)
            n += 1
            kind = rng.random()
            if kind < 0.45:
                world.log(
                    server,
                    "MAGT",
                    agent,
                    t,
                    mail_text(rng.randint(10**5, 10**7)),
                    tid=tid,
                    user=who,
                    eid="30085",
                )
                world.log(
                    server,
                    "MAGT",
                    agent,
                    t,
                    f"Queuing DATA to device, RefId={rng.randint(10**5, 10**8)}, size={rng.randint(400, 90000)}",
                    tid=tid,
                    user=who,
                )
            elif kind < 0.75:
                world.log(
                    server,
                    "MAGT",
                    agent,
                    t,
                    f"Message received from device, RefId={rng.randint(10**5, 10**8)}, "
                    f"TransactionId={rng.randint(10**5, 10**9)}, size={rng.randint(200, 9000)}",
                    tid=tid,
                    user=who,
                )
            elif kind < 0.85:
                world.log(
                    server,
                    "MAGT",
                    agent,
                    t,
                    f"Total Msgs Pending {rng.randint(0, 9)}",
                    tid="9C4",
                    eid="30000",
                )
            elif kind < 0.93:
                world.log(server, "MAGT", agent, t, "[CICAL] Meeting request delivered", tid=tid, user=who)
            else:
                world.log(
                    server,
                    "MAGT",
                    agent,
                    t,
                    f"Status: Sent message to device, Tag={n}, status=0",
                    tid=tid,
                    user=who,
                    eid="30000",
                )
        t = BUSY_START + timedelta(minutes=3 + agent)
        while t < BUSY_END - timedelta(minutes=1):  # mailbox errors of idle users, every ~20 min
            who = broken[agent - 1]
            world.log(
                server,
                "MAGT",
                agent,
                t,
                f"MAPIMailbox::MAPIMailbox - OpenMsgStore (0x8004011d) failed, MailboxDN=/o=Corp/ou=Exchange/"
                f"cn=Recipients/cn={who.split('@')[0]}",
                tid=rng.choice(workers[agent]),
                user=who,
                eid="20400",
            )
            t += timedelta(minutes=rng.randint(15, 25), seconds=rng.randint(0, 59))
    # POLC: status lines, and IT policy pushes to idle users (SET_ITPOLICY_REQUEST outside activations)
    t = BUSY_START + timedelta(seconds=2)
    while t < BUSY_END - timedelta(seconds=40):
        world.log(
            server,
            "POLC",
            1,
            t,
            f"SCS::Poll - {rng.randint(0, 3)} outstanding requests",
            tid="D10",
            eid="30000",
        )
        t += timedelta(seconds=rng.randint(60, 150), milliseconds=rng.randint(0, 999))
    for p in BUSY_PUSHES:
        for k, (_, uid, _) in enumerate(idle[5:20]):
            t = p + timedelta(milliseconds=300 * k)
            world.log(server, "POLC", 1, t, policy_text(uid), tid="E1C")
            t2 = t + timedelta(seconds=rng.randint(20, 50))
            world.log(
                server,
                "POLC",
                1,
                t2,
                f"SCS::ProcessITPolicyResult - IT policy applied for UserId={uid}",
                tid="E20",
                eid="30000",
            )
    # SYNC: idle users' routine checks and device commands (unattached)
    t = BUSY_START + timedelta(seconds=4)
    while t < BUSY_END - timedelta(seconds=30):
        _, uid, disp = rng.choice(idle[2:])
        if rng.random() < 0.1:
            world.log(server, "SYNC", 1, t, command_text("SyncData", disp, uid), tid="12A0", eid="46047")
        else:
            world.log(
                server,
                "SYNC",
                1,
                t,
                "CheckResponseReceived - no changes detected.",
                tid="C4",
                user=disp,
                eid="40089",
            )
        t += timedelta(seconds=rng.randint(20, 70), milliseconds=rng.randint(0, 999))
    # the other services: read and counted, never part of a diagnosis
    others = {
        "CTRL": (300, lambda: "Performing system health check (BlackBerry Controller Version 4.1.2.23)"),
        "DISP": (40, lambda: f"SRP: sent {rng.randint(1, 40)} packets, {rng.randint(1000, 90000)} bytes"),
        "ROUT": (45, lambda: f"Router: connection {rng.randint(1, 99)} to relay, {rng.randint(1, 500)} KB"),
        "MDSS": (
            35,
            lambda: f"HTTP GET http://intranet.{server.lower()}.local/app{rng.randint(1, 9)} status=200",
        ),
    }
    for code, (every, msg) in others.items():
        t = BUSY_START + timedelta(seconds=rng.randint(1, 30))
        while t < BUSY_END - timedelta(seconds=5):
            world.log(server, code, 1, t, msg(), tid="A2C", eid="30000")
            if code == "CTRL" and rng.random() < 0.2:
                world.log(
                    server,
                    code,
                    1,
                    t,
                    f"Agent {rng.randint(1, 2)}: Missed 1 heartbeats",
                    tid="A2C",
                    eid="20000",
                )
            t += timedelta(seconds=rng.randint(every // 2, every * 3 // 2), milliseconds=rng.randint(0, 999))
    world.log(
        server,
        "CTRL",
        1,
        BUSY_END,
        "Performing system health check (BlackBerry Controller Version 4.1.2.23)",
        tid="A2C",
        eid="30000",
    )


BUSY_ENCODINGS = ["utf-8", "utf-8-sig", "utf-16-le-bom", "cp1252"]
"""The encodings a busy day's files are written in when asked (order matters: the draws are seeded)."""
BusyKey = tuple[str, str, int, int]
"""(server, service code, instance, restart) of one file of the busy day."""


def busy_rel_path(key: BusyKey) -> str:
    """``<server>/Logs/<YYYYMMDD>/<file>``: how an admin collects the day folders of three servers."""
    server, code, inst, it = key
    return f"{server}/Logs/{BUSY_DAY:%Y%m%d}/{bes_name(server, code, BUSY_DAY, inst=inst, it=it)}"


def busy_file_lines(world: BusyDay, key: BusyKey) -> list[str]:
    return time_ordered(world.files[key])


def write_busy_day(
    world: BusyDay,
    root: Path,
    *,
    quirks: random.Random | None = None,
    key_safe: bool = False,
    encodings: dict[BusyKey, tuple[str, str]] | None = None,
) -> list[Path]:
    """Every file of the day under ``root`` (LF, UTF-8 unless ``encodings`` says (encoding, newline));
    ``quirks``: pasting damage drawn from that generator (see ``damage``)."""
    paths = []
    for key in sorted(world.files):
        lines = busy_file_lines(world, key)
        if quirks is not None:
            lines = damage(lines, quirks, old_build=quirks.random() < 0.3, key_safe=key_safe)
        enc, nl = (encodings or {}).get(key, ("utf-8", "\n"))
        p = root / busy_rel_path(key)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(encode(nl.join(lines) + nl, enc))
        paths.append(p)
    return paths


# ---------------------------------------------------------------------------------------------
# presence configuration files: LyncPresenceProviderService.exe.config as admins leave it
# (BEMS Presence guide, seed 004): configSections, startup, log4net, WCF and runtime sections,
# comments (some holding commented-out <add> lines), odd attribute order and quoting
# ---------------------------------------------------------------------------------------------

MAX = "MAX_SUBSCRIPTIONS_PER_ENDPOINT"
EPS = "ucmaEndpointSips"
OWN = "UCMA_ENDPOINT_SIP"
APPNAME = "UCMA_APPLICATION_NAME"
POOL = "LYNC_TRUSTED_APPLICATION_POOL"
OWN_SIP = "sip:presence_bems01.corp.example.com@example.com"

HEAD = """<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <configSections>
    <section name="log4net" type="log4net.Config.Log4NetConfigurationSectionHandler, log4net" />
    <section name="ucmaEndpointSips" type="Good.Presence.Configuration.EndpointSipSection, LyncPresenceProviderService" />
  </configSections>
  <startup useLegacyV2RuntimeActivationPolicy="true">
    <supportedRuntime version="v4.0" sku=".NETFramework,Version=v4.7.2" />
  </startup>
"""

TAIL = """  <log4net>
    <appender name="RollingFile" type="log4net.Appender.RollingFileAppender">
      <file value="..\\..\\Logs\\presence.log" />
      <appendToFile value="true" />
      <maximumFileSize value="10MB" />
      <layout type="log4net.Layout.PatternLayout">
        <conversionPattern value="%date [%thread] %-5level %logger - %message%newline" />
      </layout>
    </appender>
    <root>
      <level value="INFO" />
      <appender-ref ref="RollingFile" />
    </root>
  </log4net>
  <system.serviceModel>
    <bindings>
      <basicHttpBinding>
        <binding name="PresenceBinding" maxReceivedMessageSize="65536" />
      </basicHttpBinding>
    </bindings>
  </system.serviceModel>
  <runtime>
    <assemblyBinding xmlns="urn:schemas-microsoft-com:asm.v1">
      <dependentAssembly>
        <assemblyIdentity name="Microsoft.Rtc.Collaboration" publicKeyToken="31bf3856ad364e35" culture="neutral" />
        <bindingRedirect oldVersion="0.0.0.0-6.0.0.0" newVersion="6.0.0.0" />
      </dependentAssembly>
    </assemblyBinding>
  </runtime>
</configuration>
"""

# The appSettings of a host in Skype for Business trusted-application mode, as an admin leaves it:
# comments from the installer, a commented-out old value, single quotes, odd attribute order,
# spaces around "=", an explicit closing tag.
TRUSTED_SETTINGS = """  <appSettings>
    <!-- Skype for Business / Lync -->
    <add key="LYNC_SERVER" value="lyncdir01.corp.example.com" />
    <add key="UCMA_APPLICATION_NAME" value="urn:application:bemspresence" />
    <add value="bemspool.corp.example.com" key="LYNC_TRUSTED_APPLICATION_POOL"/>
    <add key = "UCMA_ENDPOINT_SIP"   value = "sip:presence_bems01.corp.example.com@example.com" />
    <add key='UCMA_APPLICATION_PORT' value='6001' />
    <add key="RESTRICT_CERT_BY_FRIENDLY_NAME" value="BEMS Presence 2024"></add>
    <!-- <add key="MAX_SUBSCRIPTIONS_PER_ENDPOINT" value="9000" /> too many, see KB -->
    <add key="MAX_SUBSCRIPTIONS_PER_ENDPOINT" value="2000" />
    <!-- valid values are: GC - Global Catalog; LDAP - Active Directory (default)
    -->
    <add key="AD_USERS_SOURCE" value="GC" />
    <!-- valid values are: "DC=GOOD,DC=COM" - GC/AD at good.com (example only,
    change to your domain); No value attribute (default) - Domain the Good
    Presence resides; -->
    <add key="AD_USERS_SOURCE_DOMAIN" value="DC=EXAMPLE,DC=COM" />
    <add key="SUBSCRIPTION_EXPIRATION_SECONDS" value="180" />
    <add key="ClientSettingsProvider.ServiceUri" value="" />
  </appSettings>
"""

TRUSTED_ENDPOINTS = """  <ucmaEndpointSips>
    <collection>
      <add item="sip:presence_bems01.corp.example.com@example.com" />
      <add item='sip:presence_bems01-01.corp.example.com@example.com'/>
      <!-- <add item="sip:presence_bems01-03.corp.example.com@example.com" /> not in topology yet -->
      <add   item="sip:presence_bems01-02.corp.example.com@example.com"   />
    </collection>
  </ucmaEndpointSips>
"""

# A Jabber (Cisco) host: the UCMA keys are there but empty; nothing about trusted mode applies.
JABBER_SETTINGS = """  <appSettings>
    <add key="LYNC_SERVER" value="" />
    <add key="UCMA_APPLICATION_NAME" value="" />
    <add key="LYNC_TRUSTED_APPLICATION_POOL" value="" />
    <add key="UCMA_ENDPOINT_SIP" value="" />
    <add key="MAX_SUBSCRIPTIONS_PER_ENDPOINT" value="1000" />
    <add key="AD_USERS_SOURCE" value="" />
    <add key="AD_USERS_SOURCE_DOMAIN" />
    <add key="RESTRICT_CERT_BY_FRIENDLY_NAME" value="" />
  </appSettings>
"""


def dotnet_config(settings: str = TRUSTED_SETTINGS, endpoints: str = TRUSTED_ENDPOINTS) -> str:
    """A whole LyncPresenceProviderService.exe.config (LF line endings; `save` converts)."""
    return HEAD + settings + endpoints + TAIL


def save(path: Path, text: str, encoding: str = "utf-8-sig", crlf: bool = True) -> Path:
    """Write `text` the way Windows tools do: CRLF and a BOM (utf-8-sig; utf-16 = LE + BOM, as
    Notepad's "Unicode"; utf-16-be = BE + BOM, its "Unicode big endian")."""
    if crlf:
        text = text.replace("\r\n", "\n").replace("\n", "\r\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        encode(text, {"utf-16": "utf-16-le-bom", "utf-16-be": "utf-16-be-bom"}.get(encoding, encoding))
    )
    return path


def host(tmp_path: Path, name: str, text: str, encoding: str = "utf-8-sig") -> Path:
    """The configuration file of presence host ``name``."""
    return save(tmp_path / name / "LyncPresenceProviderService.exe.config", text, encoding)


def swap(text: str, old: str, new: str) -> str:
    """``text`` with its one ``old`` replaced."""
    assert text.count(old) == 1, old
    return text.replace(old, new)


def line_of(text: str | Path, needle: str, nth: int = 1) -> int:
    """1-based number of the nth line of ``text`` (or of the UTF-8 file) containing ``needle``."""
    if isinstance(text, Path):
        text = text.read_text(encoding="utf-8")
    seen = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            seen += 1
            if seen == nth:
                return number
    raise AssertionError(f"{needle!r} (#{nth}) not in text")


def endpoints_block(*items: str) -> str:
    lines = "".join(f'      <add item="{item}" />\n' for item in items)
    return f"  <ucmaEndpointSips>\n    <collection>\n{lines}    </collection>\n  </ucmaEndpointSips>\n"


OWN_SIP = "sip:presence_bems01.corp.example.com@example.com"


def host_text(
    n: int, *, app: str = "urn:application:bemspresence", pool: str = "bemspool.corp.example.com"
) -> str:
    own = f"sip:presence_bems0{n}.corp.example.com@example.com"
    settings = swap(TRUSTED_SETTINGS, OWN_SIP, own)
    settings = swap(settings, 'value="urn:application:bemspresence"', f'value="{app}"')
    settings = swap(settings, 'value="bemspool.corp.example.com"', f'value="{pool}"')
    return dotnet_config(
        settings,
        endpoints_block(own, f"sip:presence_bems0{n}-01.corp.example.com@example.com"),
    )


# ---------------------------------------------------------------------------------------------
# running the tool: the CLI through typer's CliRunner, or the core entry point
# ---------------------------------------------------------------------------------------------


def run_cli(*args: object, input: str | bytes | None = None, env: dict[str, str] | None = None) -> Result:
    """``bes-logdiag ARGS`` through CliRunner: ``.exit_code``, ``.stdout`` and ``.stderr`` apart."""
    from bes_logdiag.cli import app

    return CliRunner().invoke(app, [str(a) for a in args], input=input, env=env)


def run_json(
    command: str,
    *args: object,
    input: str | bytes | None = None,
    env: dict[str, str] | None = None,
    jobs: str | None = "1",
    quiet: bool = False,
) -> tuple[int, Any, str]:
    """``bes-logdiag COMMAND ARGS --format json [--jobs N] [-q]``: the exit code (0 or 1, asserted),
    the parsed stdout and stderr."""
    argv = [
        command,
        *args,
        "--format",
        "json",
        *(["--jobs", jobs] if jobs else []),
        *(["-q"] if quiet else []),
    ]
    result = run_cli(*argv, input=input, env=env)
    assert result.exit_code in (0, 1), (
        result.exit_code,
        result.stderr[-3000:],
        result.stdout[-2000:],
        result.exception,
    )
    return result.exit_code, json.loads(result.stdout), result.stderr


def scan_json(*args: object, **kw: Any) -> tuple[int, dict[str, Any], str]:
    """``bes-logdiag scan ARGS --format json --jobs 1``: exit code, report, stderr (see run_json)."""
    return run_json("scan", *args, **kw)  # type: ignore[no-any-return]


def unattached_users(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """A JSON report's (or timeline's) ``unattached``, one flat dict per server, pattern and user:
    the item's fields with the user's names and numbers, ``evidence`` as ``file:line`` strings
    read through the item's ``files``, in the report's order."""
    out = []
    for item in doc["unattached"]:
        shared = {k: v for k, v in item.items() if k not in ("users", "files", "count", "first", "last")}
        for u in item["users"]:
            where = [f"{item['files'][f]}:{line}" for f, line in u["evidence"]]
            out.append({**shared, **u, "evidence": where})
    return out


def presence_cli(*args: object, input: str | bytes | None = None) -> Result:
    """``bes-logdiag presence ARGS`` through CliRunner."""
    return run_cli("presence", *args, input=input)


def presence_json(command: str, *args: object, input: str | bytes | None = None) -> tuple[Result, Doc]:
    """``bes-logdiag presence COMMAND ARGS --format json``: the result (exit 0 or 1, asserted) and
    the parsed document."""
    result = presence_cli(command, *args, "--format", "json", input=input)
    assert result.exit_code in (0, 1), (result.exit_code, result.stdout, result.stderr)
    return result, json.loads(result.stdout)


def presence_check(*paths: Path) -> tuple[Result, Doc]:
    """``presence check PATHS --format json``."""
    return presence_json("check", *paths)


def presence_whitelist(*args: str, input: str | bytes | None = None) -> tuple[Result, Doc]:
    """``presence whitelist ARGS --format json``."""
    return presence_json("whitelist", *args, input=input)


def findings_of(doc: Doc, rule: str) -> list[Doc]:
    """The findings of one presence rule in a ``presence check`` document."""
    return [f for f in doc["findings"] if f["rule"] == rule]


def only_finding(doc: Doc, rule: str) -> Doc:
    """The one finding of ``rule`` (asserted to be exactly one)."""
    found = findings_of(doc, rule)
    assert len(found) == 1, (rule, doc["findings"])
    return found[0]


def failing(doc: Doc) -> list[Doc]:
    """Findings that make ``presence check`` fail (errors and warnings)."""
    return [f for f in doc["findings"] if f["severity"] in ("error", "warning")]


def scan_report(*paths: Path | str, **config: Any) -> Any:
    """The core entry point on ``paths`` with one job: ``run_scan(ScanConfig(...)) -> Report``."""
    from bes_logdiag.scan import run_scan
    from bes_logdiag.settings import ScanConfig

    return run_scan(ScanConfig(paths=tuple(str(p) for p in paths), jobs=1, **config))


def only(report: Any) -> Any:
    """The one activation of a core ``Report`` (asserted to be exactly one)."""
    assert len(report.activations) == 1, [(a.email, a.user_id) for a in report.activations]
    return report.activations[0]


# ---------------------------------------------------------------------------------------------
# reading a JSON report the way an administrator does
# ---------------------------------------------------------------------------------------------


def rows(report: Doc) -> list[tuple[Any, ...]]:
    """(server, email, user id, display name, status, stage, KB) of every activation, sorted."""
    out = [
        (a["server"], a["email"], a["user_id"], a["display_name"], a["status"], a["stage"], a["kb"])
        for a in report["activations"]
    ]
    return sorted(out, key=lambda r: tuple(str(x) for x in r))


def one(report: Doc, **key: object) -> Doc:
    """The one activation whose fields have these values (asserted to be exactly one)."""
    found = [a for a in report["activations"] if all(a.get(k) == v for k, v in key.items())]
    assert len(found) == 1, (key, rows(report))
    return found[0]


def tries(activation: Doc) -> list[tuple[Any, ...]]:
    """(status, stage, KB) of each earlier attempt."""
    return [(x["status"], x["stage"], x["kb"]) for x in activation["attempts"]]


def by_email(report: Doc) -> dict[str, list[Doc]]:
    out: dict[str, list[Doc]] = {}
    for a in report["activations"]:
        out.setdefault(a["email"], []).append(a)
    return out


def verdict_rows(report: Doc, *, seconds: bool = False) -> list[tuple[Any, ...]]:
    """What an admin reads off a report, per activation (times cut to seconds when asked)."""

    def t(x: str | None) -> str | None:
        return x[:19] if (x and seconds) else x

    out = []
    for a in report["activations"]:
        out.append(
            (
                a["server"],
                a["email"],
                a["user_id"],
                a["display_name"],
                a["status"],
                a["stage"],
                a["kb"],
                a["last_milestone"],
                a["next_expected"],
                t(a["started"]),
                t(a["last_progress"]),
                t(a["completed"]),
                len(a["attempts"]),
                tuple(sorted((m["milestone"], t(m["time"])) for m in a["milestones"])),
                tuple((e["error"], t(e["time"])) for e in a["errors"]),
                tuple(sorted(j["kind"] for j in a["joins"])),
            )
        )
    return sorted(out, key=lambda r: tuple(str(x) for x in r))


def ctrl_c_as_in_a_terminal() -> None:
    """``preexec_fn`` for a child that is sent Ctrl-C: SIGINT handled as in a terminal's foreground
    job.  A suite run as a background job (``pytest &``, a CI step's background shell) starts its
    children with SIGINT ignored, and bes-logdiag then keeps ignoring it, as a background job must.
    Likewise SIGHUP, for a suite run under ``nohup``: its children keep ignoring a closed terminal."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, signal.SIG_DFL)


def run_in_terminal(*args: object, columns: int = 200) -> bytes:
    """``python -m bes_logdiag ARGS`` with stdout and stderr on a pseudo-terminal (TERM
    xterm-256color, so rich colours): every byte the terminal received."""
    import fcntl
    import pty
    import select
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in {"NO_COLOR", "FORCE_COLOR", "COLUMNS", "LINES"}}
    env["TERM"] = "xterm-256color"
    proc = subprocess.Popen(
        [sys.executable, "-m", "bes_logdiag", *map(str, args)],
        stdin=subprocess.DEVNULL,
        stdout=slave,
        stderr=slave,
        env=env,
    )
    os.close(slave)
    received = bytearray()
    try:
        while True:
            ready, _, _ = select.select([master], [], [], 60)
            if not ready:
                raise AssertionError(f"no output for 60 s: {args}")
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            received += data
    finally:
        os.close(master)
        proc.wait(timeout=60)
    return bytes(received)
