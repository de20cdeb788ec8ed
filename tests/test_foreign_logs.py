"""Independent BES logs, written from BES-LOGS.md and the seed walkthrough (not from sample_logs).

Every test builds its own log tree in ``tmp_path``, runs ``bes-logdiag scan --format json`` through
CliRunner and checks what an administrator sees: one activation per user and server, its status, stage,
KB article, the three names, the attempts, and the exit code.
"""

from __future__ import annotations

import gzip
import json
import zipfile
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from helpers import scan_json
from typer.testing import CliRunner

from bes_logdiag.cli import app

runner = CliRunner()

SRV = "BES_EU_01"
SRV2 = "BES_EU_02"


# ---------------------------------------------------------------------------------------------
# line and file builders (BES-LOGS.md section 2)
# ---------------------------------------------------------------------------------------------


def ts(t: datetime, ms: bool = True) -> str:
    s = t.strftime("%m/%d %H:%M:%S")
    return f"{s}.{t.microsecond // 1000:03d}" if ms else s


def L(
    t: datetime,
    msg: str,
    *,
    tid: str | None = "1A2B",
    user: str | None = None,
    eid: str | None = "40000",
    ms: bool = True,
    gap: bool = True,
) -> str:
    """``[EEEEE] (MM/DD HH:MM:SS.mmm):{0xTID} {user} msg`` with each part optional."""
    head = f"[{eid}] " if eid is not None else ""
    thread = f"{{0x{tid}}}" if tid is not None else ""
    who = ""
    if user is not None:
        who = (" " if gap or tid is None else "") + f"{{{user}}}"
    return f"{head}({ts(t, ms)}):{thread}{who} {msg}"


def fname(server: str, code: str, day: datetime, it: int = 1, inst: int = 1) -> str:
    return f"{server}_{code}_{inst:02d}_{day:%Y%m%d}_{it:04d}.txt"


def write(path: Path, lines: list[str], *, encoding: str = "utf-8", newline: str = "\r\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes((newline.join(lines) + newline).encode(encoding))
    return path


scan = scan_json


def acts(report: dict) -> list[dict]:  # type: ignore[type-arg]
    return report["activations"]


def one(report: dict, **key: object) -> dict:  # type: ignore[type-arg]
    found = [a for a in acts(report) if all(a.get(k) == v for k, v in key.items())]
    assert len(found) == 1, (
        key,
        [(a["server"], a["email"], a["user_id"], a["display_name"], a["status"]) for a in acts(report)],
    )
    return found[0]


def summary(report: dict) -> list[tuple]:  # type: ignore[type-arg]
    rows = [
        (a["server"], a["email"], a["user_id"], a["display_name"], a["status"], a["stage"], a["kb"])
        for a in acts(report)
    ]
    return sorted(rows, key=lambda r: tuple(str(x) for x in r))


# ---------------------------------------------------------------------------------------------
# an activation, milestone by milestone (seed table; BES-LOGS.md section 3)
# ---------------------------------------------------------------------------------------------

ORDER = ["etp", "key", "accept", "books", "policy", "getconfig", "cical", "progress", "complete"]


def activation(
    email: str,
    uid: int,
    display: str,
    t0: datetime,
    *,
    upto: str = "complete",
    magt_tid: str = "1AEC",
    key_tid: str = "14D4",
    polc_tid: str = "E1C",
    scale: float = 1.0,
) -> dict[str, list[tuple[datetime, str]]]:
    """Milestone lines per service, timed like the seed (key within seconds, slow sync ~13 min)."""
    keep = set(ORDER[: ORDER.index(upto) + 1])

    def at(sec: float) -> datetime:
        return t0 + timedelta(seconds=sec * scale)

    out: dict[str, list[tuple[datetime, str]]] = {"MAGT": [], "POLC": [], "SYNC": []}
    if "etp" in keep:
        out["MAGT"].append(
            (
                at(0),
                L(
                    at(0),
                    "Queuing DATA from network@etp2.eu.blackberry.net, Tag=-19450213, EntryId=771203",
                    tid=magt_tid,
                    user=email,
                ),
            )
        )
    if "key" in keep:
        out["MAGT"].append(
            (at(2), L(at(2), "Generating AES key (this is based on server setting)", tid=key_tid, user=email))
        )
    if "accept" in keep:
        out["MAGT"].append(
            (
                at(2.3),
                L(at(2.3), f"*** OTAKEYGEN *** sending KEY_ACCEPT transID = {900000 + uid}", tid=key_tid),
            )
        )
    if "books" in keep:
        out["MAGT"].append(
            (
                at(9),
                L(
                    at(9),
                    "*** OTAKEYGEN *** Queuing service book data to Policy Server",
                    tid="1AA8",
                    user=email,
                ),
            )
        )
    if "policy" in keep:
        out["POLC"].append(
            (
                at(13),
                L(
                    at(13),
                    f"SCS::CheckITPolicyInGroup - Queuing SET_ITPOLICY_REQUEST request for UserId={uid}",
                    tid=polc_tid,
                ),
            )
        )
    if "getconfig" in keep:
        out["SYNC"].append(
            (
                at(48),
                L(
                    at(48),
                    f'[SYNC-DSession] Received "GetConfig" command from device. [{display}:{uid}]',
                    tid="1294",
                    eid="46046",
                ),
            )
        )
    if "cical" in keep:
        out["MAGT"].append(
            (
                at(60),
                L(at(60), "[CICAL] Calendar slow synchronization started, 218 items", tid="1AA8", user=email),
            )
        )
    if "progress" in keep:
        out["SYNC"].append(
            (
                at(200),
                L(
                    at(200),
                    f'[SYNC-DSession] Received "AddressBookData" command from device. [{display}:{uid}]',
                    tid="1294",
                    eid="46047",
                ),
            )
        )
    if "complete" in keep:
        out["SYNC"].append(
            (
                at(790),
                L(
                    at(790),
                    f"[SYNC-DSession] *** SLOWSYNC COMPLETE *** [{display}:{uid}]",
                    tid="12AC",
                    eid="36023",
                ),
            )
        )
    return out


def merge(*parts: dict[str, list[tuple[datetime, str]]]) -> dict[str, list[tuple[datetime, str]]]:
    out: dict[str, list[tuple[datetime, str]]] = {}
    for p in parts:
        for svc, lines in p.items():
            out.setdefault(svc, []).extend(lines)
    return out


def noise(
    t0: datetime,
    t1: datetime,
    *,
    step: int = 20,
    users: tuple[str, ...] = ("anna.lind@example.eu", "piet.devries@example.eu", "sofia.rossi@example.eu"),
) -> list[tuple[datetime, str]]:
    """Mail flow of idle users (BES-LOGS.md section 2: most of a MAGT file)."""
    out = []
    t, n = t0, 0
    while t < t1:
        u = users[n % len(users)]
        out.append((t, L(t, f"New mail has arrived, EntryId={280000 + n}", tid="1B44", user=u, eid="30085")))
        out.append(
            (t, L(t, f"Sending message to device, RefId={5000 + n}, size={1024 + n}", tid="1B44", user=u))
        )
        if n % 7 == 0:
            out.append((t, L(t, f"Total Msgs Pending {n % 5}", tid="9C4", eid="30000")))
        n += 1
        t += timedelta(seconds=step)
    return out


def write_server(
    root: Path,
    server: str,
    per_service: dict[str, list[tuple[datetime, str]]],
    *,
    day_folders: bool = True,
    encoding: dict[str, str] | None = None,
    newline: str = "\r\n",
) -> list[Path]:
    """One file per service per day, in day folders, lines in time order."""
    paths = []
    for svc, items in per_service.items():
        if not items:
            continue
        items = sorted(items, key=lambda x: x[0])
        days: dict[str, list[str]] = {}
        for t, line in items:
            days.setdefault(t.strftime("%Y%m%d"), []).append(line)
        for day, lines in days.items():
            d = datetime.strptime(day, "%Y%m%d")
            folder = root / day if day_folders else root
            enc = (encoding or {}).get(svc, "utf-8")
            paths.append(write(folder / fname(server, svc, d), lines, encoding=enc, newline=newline))
    return paths


# ---------------------------------------------------------------------------------------------
# 1. complete activations: underscore servers, other years, day folders, accents, joins
# ---------------------------------------------------------------------------------------------

JOERG = ("joerg.mueller@example.eu", 4711, "Müller, Jörg")


def test_complete_activation_2019_underscore_server_accented_user(tmp_path: Path) -> None:
    t0 = datetime(2019, 6, 14, 9, 30, 0)
    write_server(tmp_path, SRV, activation(*JOERG, t0), encoding={"SYNC": "cp1252", "MAGT": "cp1252"})
    code, rep, _ = scan(tmp_path)
    assert code == 0
    assert len(acts(rep)) == 1
    a = acts(rep)[0]
    assert (a["server"], a["email"], a["user_id"], a["display_name"]) == (SRV, *JOERG)
    assert (a["status"], a["stage"], a["kb"]) == ("complete", 4, None)
    assert a["started"].startswith("2019-06-14T09:30")
    assert a["completed"].startswith("2019-06-14T09:43")
    assert a["attempts"] == []


def test_name_shape_join_folds_accents_without_policy_line(tmp_path: Path) -> None:
    """No POLC line: MAGT (address) and SYNC (display name) meet only by name shape (ü -> ue)."""
    t0 = datetime(2019, 6, 14, 9, 30, 0)
    parts = activation(*JOERG, t0)
    parts["POLC"] = []
    write_server(tmp_path, SRV, parts, encoding={"SYNC": "cp1252"})
    code, rep, _ = scan(tmp_path)
    assert code == 0
    assert len(acts(rep)) == 1, summary(rep)
    a = acts(rep)[0]
    assert (a["email"], a["user_id"], a["display_name"], a["status"]) == (*JOERG, "complete")


def test_new_year_2009_into_2010_in_one_file(tmp_path: Path) -> None:
    """A MAGT file of 2009-12-31 runs past midnight; the activation finishes on 2010-01-01."""
    t0 = datetime(2009, 12, 31, 23, 58, 0)
    parts = activation("hannah.schmidt@example.eu", 3120, "Schmidt, Hannah", t0, scale=2.0)
    # everything in the 12/31 files (the MAGT file keeps running over New Year)
    folder = tmp_path / "20091231"
    day = datetime(2009, 12, 31)
    for svc, items in parts.items():
        write(folder / fname(SRV, svc, day), [line for _, line in sorted(items)])
    code, rep, _ = scan(tmp_path)
    assert code == 0
    assert len(acts(rep)) == 1, summary(rep)
    a = acts(rep)[0]
    assert (a["status"], a["stage"], a["user_id"]) == ("complete", 4, 3120)
    assert a["started"].startswith("2009-12-31T23:58")
    assert a["completed"].startswith("2010-01-01T00:24")
    assert rep["log_end"][SRV].startswith("2010-01-01T00:24")


def test_new_year_across_day_folders_2019(tmp_path: Path) -> None:
    """The same over two day folders (20191231, 20200101), with a stall verdict crossing the year."""
    t0 = datetime(2019, 12, 31, 23, 59, 0)
    done = activation("lukas.berger@example.eu", 610, "Berger, Lukas", t0)  # 00:12 on 01/01
    stuck = activation(
        "mira.koch@example.eu",
        611,
        "Koch, Mira",
        datetime(2019, 12, 31, 23, 40),
        upto="accept",
        key_tid="1500",
    )
    tail = {"MAGT": noise(datetime(2020, 1, 1, 0, 0), datetime(2020, 1, 1, 0, 20), step=60)}
    write_server(tmp_path, SRV, merge(done, stuck, tail))
    assert (tmp_path / "20200101" / fname(SRV, "SYNC", datetime(2020, 1, 1))).exists()
    code, rep, _ = scan(tmp_path)
    assert code == 1
    assert len(acts(rep)) == 2, summary(rep)
    a = one(rep, email="lukas.berger@example.eu")
    assert (a["status"], a["user_id"]) == ("complete", 610)
    assert a["completed"].startswith("2020-01-01T00:12")
    b = one(rep, email="mira.koch@example.eu")
    assert (b["status"], b["stage"], b["kb"]) == ("stalled", 2, "KB13843")
    assert b["started"].startswith("2019-12-31T23:40")


def test_rotated_iteration_0002_continues_the_same_activation(tmp_path: Path) -> None:
    """The Messaging Agent restarts (_0002) between the ETP.DAT pickup and the key: one activation."""
    t0 = datetime(2019, 3, 5, 14, 0, 0)
    parts = activation("noah.weber@example.eu", 2210, "Weber, Noah", t0, scale=3.0)
    day = datetime(2019, 3, 5)
    folder = tmp_path / "20190305"
    magt = [line for _, line in sorted(parts["MAGT"])]
    restart = L(
        t0 + timedelta(seconds=3),
        "BlackBerry Messaging Agent BES_EU_01 Agent 1 starting",
        tid="9C4",
        eid="50000",
    )
    write(folder / fname(SRV, "MAGT", day, it=1), magt[:1])
    write(folder / fname(SRV, "MAGT", day, it=2), [restart, *magt[1:]])
    write(folder / fname(SRV, "POLC", day), [line for _, line in parts["POLC"]])
    write(folder / fname(SRV, "SYNC", day), [line for _, line in parts["SYNC"]])
    code, rep, _ = scan(tmp_path)
    assert code == 0
    assert len(acts(rep)) == 1, summary(rep)
    a = acts(rep)[0]
    assert (a["email"], a["user_id"], a["status"], a["attempts"]) == (
        "noah.weber@example.eu",
        2210,
        "complete",
        [],
    )


def test_second_messaging_agent_instance_and_other_services_are_read(tmp_path: Path) -> None:
    """MAGT_02 holds the user; unknown services (MDSS, BBIM, ALRT) are read without harm."""
    t0 = datetime(2019, 8, 20, 7, 0, 0)
    parts = activation("ella.nagy@example.eu", 880, "Nagy, Ella", t0)
    day = datetime(2019, 8, 20)
    folder = tmp_path / "20190820"
    write(folder / fname(SRV, "MAGT", day, inst=2), [line for _, line in sorted(parts["MAGT"])])
    write(folder / fname(SRV, "POLC", day), [line for _, line in parts["POLC"]])
    write(folder / fname(SRV, "SYNC", day), [line for _, line in parts["SYNC"]])
    write(folder / fname(SRV, "MAGT", day), [line for _, line in noise(t0, t0 + timedelta(minutes=15))])
    for code_ in ("MDSS", "BBIM", "ALRT", "CTRL", "DISP", "ROUT"):
        write(
            folder / fname(SRV, code_, day),
            [
                L(
                    t0,
                    "Performing system health check (BlackBerry Controller Version 4.1.7.12)",
                    tid="A2C",
                    eid="30000",
                ),
                L(t0 + timedelta(minutes=14), "Agent 2: Missed 1 heartbeats", tid="A2C", eid="20000"),
            ],
        )
    code, rep, _ = scan(tmp_path)
    assert code == 0
    assert rep["inputs"]["files_read"] == 10
    assert summary(rep) == [(SRV, "ella.nagy@example.eu", 880, "Nagy, Ella", "complete", 4, None)]


# ---------------------------------------------------------------------------------------------
# 2. line quirks (BES-LOGS.md section 2): each one alone, applied to every line it can touch
# ---------------------------------------------------------------------------------------------


def q_no_event_id(line: str) -> str:
    return line.split("] ", 1)[1] if line.startswith("[") else line


def q_one_digit_id(line: str) -> str:
    return "[" + line[1] + line[line.index("]") :] if line.startswith("[") else line


def q_no_ms(line: str) -> str:
    i = line.index("(")
    return line[: i + 15] + line[i + 19 :]  # "(MM/DD HH:MM:SS" + ")..."


def q_no_space(line: str) -> str:
    return line.replace("} {", "}{")


def q_times(line: str) -> str:
    return line.replace("{0x", "{0×")


def q_en_dash(line: str) -> str:
    return line.replace("CheckITPolicyInGroup - ", "CheckITPolicyInGroup – ")


def q_curly(line: str) -> str:
    return line.replace('"GetConfig"', "“GetConfig”").replace('"AddressBookData"', "“AddressBookData”")


def q_fromnetwork(line: str) -> str:
    return line.replace("DATA from network@", "DATA fromnetwork@")


def q_no_thread_on_named_lines(line: str) -> str:
    # thread ids dropped where a user is named (the KEY_ACCEPT line needs its thread to find its user)
    if "KEY_ACCEPT" in line or "Generating" in line:
        return line
    if "):{0x" in line:
        head, rest = line.split("):{0x", 1)
        return head + "):" + rest.split("}", 1)[1]
    return line


def q_seed_mix(line: str) -> str:
    """All of them at once, as pasted from the seed document."""
    for q in (q_no_ms, q_no_space, q_times, q_en_dash, q_curly, q_fromnetwork, q_one_digit_id):
        line = q(line)
    return line


QUIRKS = [
    q_no_event_id,
    q_one_digit_id,
    q_no_ms,
    q_no_space,
    q_times,
    q_en_dash,
    q_curly,
    q_fromnetwork,
    q_no_thread_on_named_lines,
    q_seed_mix,
]


def test_quirk_functions_change_lines() -> None:
    """Guard against my own quirk helpers doing nothing."""
    t = datetime(2019, 6, 14, 9, 30, 0, 125000)
    base = activation(*JOERG, t)
    lines = [line for items in base.values() for _, line in items]
    for q in QUIRKS:
        assert any(q(x) != x for x in lines), q.__name__
    assert q_no_ms("[40000] (06/14 09:30:00.125):{0x1AEC} x") == "[40000] (06/14 09:30:00):{0x1AEC} x"
    assert q_one_digit_id("[40000] (06/14 09:30:00.125):{0x1AEC} x") == "[4] (06/14 09:30:00.125):{0x1AEC} x"
    assert (
        q_no_thread_on_named_lines("[40000] (06/14 09:30:00.125):{0x1AEC} {a@b.c} x")
        == "[40000] (06/14 09:30:00.125): {a@b.c} x"
    )


@pytest.mark.parametrize("quirk", QUIRKS, ids=[q.__name__ for q in QUIRKS])
def test_each_line_quirk_still_gives_one_complete_activation(tmp_path: Path, quirk) -> None:  # type: ignore[no-untyped-def]
    t0 = datetime(2019, 6, 14, 9, 30, 0, 125000)
    parts = activation("ian.dundas@example.eu", 2573, "Dundas, Ian", t0)
    parts = {svc: [(t, quirk(x)) for t, x in items] for svc, items in parts.items()}
    write_server(tmp_path, SRV, parts)
    code, rep, _ = scan(tmp_path)
    assert code == 0
    assert summary(rep) == [(SRV, "ian.dundas@example.eu", 2573, "Dundas, Ian", "complete", 4, None)]
    got = [m["milestone"] for m in acts(rep)[0]["milestones"]]
    assert got == [
        "etp_received",
        "key_generated",
        "key_accept_sent",
        "service_books_requested",
        "itpolicy_queued",
        "slowsync_started",
        "calendar_sync",
        "slowsync_progress",
        "slowsync_complete",
    ], got
    assert rep["inputs"]["unparsed"] == 0


def test_seed_lines_verbatim_with_2019_file_names(tmp_path: Path) -> None:
    """The seed's own milestone lines (dates 05/21, no ms, 0×, en dash, curly quotes, }{)."""
    day = tmp_path / "20190521"
    write(
        day / fname(SRV, "MAGT", datetime(2019, 5, 21)),
        [
            "(05/21 06:51:38.014):{0x1AEC}{ian.dundas@example.net} Queuing DATA fromnetwork@etp1006.etp.na."
            "blackberry.net, Tag=-903057656, EntryId=2604425",
            "[40000] (05/21 06:51:39):{0x14D4} {ian.dundas@example.net} Generating 3DES key (this is based on server "
            "setting)",
            "[40000] (05/21 06:51:39):{0x14D4} *** OTAKEYGEN *** sending KEY_ACCEPT transID = 2077103732",
            "[40000] (05/21 06:51:45):{0x1AA8}{ian.dundas@example.net} *** OTAKEYGEN *** Queuing service book data to "
            "Policy Server",
        ],
    )
    write(
        day / fname(SRV, "POLC", datetime(2019, 5, 21)),
        [
            "[40000] (05/21 06:51:49):{0xE1C} SCS::CheckITPolicyInGroup – Queuing SET_ITPOLICY_REQUEST request for "
            "UserId=2573",
        ],
    )
    write(
        day / fname(SRV, "SYNC", datetime(2019, 5, 21)),
        [
            "[46046] (05/21 06:52:24):{0×1294} [SYNC-DSession] Received “GetConfig” command from device. [Dundas, "
            "Ian:2573]",
            "[36023] (05/21 07:05:36):{0x12AC} [SYNC-DSession] *** SLOWSYNC COMPLETE *** [Dundas, Ian:2573]",
        ],
    )
    code, rep, _ = scan(tmp_path)
    assert code == 0
    assert summary(rep) == [(SRV, "ian.dundas@example.net", 2573, "Dundas, Ian", "complete", 4, None)]
    assert acts(rep)[0]["completed"].startswith("2019-05-21T07:05:36")


# ---------------------------------------------------------------------------------------------
# 3. encodings and containers (BES-LOGS.md section 1)
# ---------------------------------------------------------------------------------------------

CONTAINERS = ["crlf", "lf", "cp1252", "utf-8-sig", "utf-16-le-bom", "gz", "zip-day-folder", "zip-flat"]


@pytest.mark.parametrize("how", CONTAINERS)
def test_encodings_and_containers(tmp_path: Path, how: str) -> None:
    t0 = datetime(2019, 6, 14, 9, 30, 0)
    parts = merge(
        activation(*JOERG, t0), {"MAGT": noise(t0 - timedelta(minutes=5), t0 + timedelta(minutes=20))}
    )
    src = tmp_path / "src"
    if how == "lf":
        paths = write_server(src, SRV, parts, newline="\n")
    elif how == "cp1252":
        paths = write_server(src, SRV, parts, encoding=dict.fromkeys(parts, "cp1252"))
    elif how == "utf-8-sig":
        paths = write_server(src, SRV, parts, encoding=dict.fromkeys(parts, "utf-8-sig"))
    elif how == "utf-16-le-bom":
        paths = write_server(src, SRV, parts, encoding=dict.fromkeys(parts, "utf-16-le"))
        for p in paths:
            p.write_bytes(b"\xff\xfe" + p.read_bytes())
    else:
        paths = write_server(src, SRV, parts)
    target = src
    if how == "gz":
        for p in paths:
            gz = p.with_name(p.name + ".gz")
            gz.write_bytes(gzip.compress(p.read_bytes()))
            p.unlink()
        assert all(p.suffix == ".gz" for p in src.rglob("*") if p.is_file())
    elif how.startswith("zip"):
        target = tmp_path / f"{SRV}_logs.zip"
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as z:
            for p in paths:
                z.write(p, str(p.relative_to(src)) if how == "zip-day-folder" else p.name)
    code, rep, _ = scan(target)
    assert code == 0
    assert summary(rep) == [(SRV, *JOERG, "complete", 4, None)]
    assert acts(rep)[0]["started"].startswith("2019-06-14T09:30")
    assert rep["inputs"]["files_skipped"] == 0


def test_utf16_file_without_bom_and_mixed_encodings_in_one_tree(tmp_path: Path) -> None:
    t0 = datetime(2019, 6, 14, 9, 30, 0)
    write_server(
        tmp_path,
        SRV,
        activation(*JOERG, t0),
        encoding={"MAGT": "utf-8-sig", "POLC": "utf-16-le", "SYNC": "cp1252"},
    )
    code, rep, _ = scan(tmp_path)
    assert code == 0
    assert summary(rep) == [(SRV, *JOERG, "complete", 4, None)]


# ---------------------------------------------------------------------------------------------
# 4. many users, heavy mail flow, two servers
# ---------------------------------------------------------------------------------------------


def test_heavy_mail_noise_two_servers_no_activation_invented_or_split(tmp_path: Path) -> None:
    datetime(2019, 9, 2)
    t = datetime(2019, 9, 2, 8, 0)
    # server 1: three activations ten minutes apart (distinct threads for keys), noise all day
    s1 = merge(
        activation("anja.horvat@example.eu", 101, "Horvat, Anja", t),
        activation(
            "bram.peeters@example.eu", 102, "Peeters, Bram", t + timedelta(minutes=10), key_tid="1500"
        ),
        activation(
            "chiara.bianchi@example.eu", 103, "Bianchi, Chiara", t + timedelta(minutes=35), upto="books"
        ),
        {"MAGT": noise(t - timedelta(hours=1), t + timedelta(hours=1), step=2)},
    )
    # mailbox errors and IT policy pushes for idle users, far from any activation: not activations
    s1["MAGT"].append(
        (
            t - timedelta(minutes=30),
            L(
                t - timedelta(minutes=30),
                "MAPIMailbox::MAPIMailbox - OpenMsgStore (0x8004011d) failed, MailboxDN=/o=EU/ou=Exchange/"
                "cn=Recipients/cn=sofia.rossi",
                tid="21AC",
                user="sofia.rossi@example.eu",
                eid="20400",
            ),
        )
    )
    s1["POLC"] += [
        (
            t - timedelta(minutes=40),
            L(
                t - timedelta(minutes=40),
                f"SCS::CheckITPolicyInGroup - Queuing SET_ITPOLICY_REQUEST request for UserId={u}",
                tid="E1C",
            ),
        )
        for u in (201, 202, 203)
    ]
    s1["SYNC"] += [
        (
            t + timedelta(minutes=50),
            L(
                t + timedelta(minutes=50),
                '[SYNC-DSession] Received "ContactsData" command from device. [Lind, Anna:204]',
                tid="1294",
                eid="46047",
            ),
        ),
        (
            t + timedelta(minutes=51),
            L(
                t + timedelta(minutes=51),
                "[SYNC-DSession] CheckResponseReceived - no changes detected.",
                tid="C4",
                eid="40089",
            ),
        ),
    ]
    # server 2 (name also with "_"): the same address activating there too, and a user in progress
    t2 = datetime(2019, 9, 2, 8, 5)
    s2 = merge(
        activation("anja.horvat@example.eu", 7, "Horvat, Anja", t2),
        activation(
            "dario.ricci@example.eu", 8, "Ricci, Dario", t2 + timedelta(minutes=110), upto="getconfig"
        ),
        {"MAGT": noise(t2, t2 + timedelta(hours=2), step=5)},
    )
    write_server(tmp_path / SRV, SRV, s1)
    write_server(tmp_path / SRV2, SRV2, s2)
    lines = sum(1 for p in tmp_path.rglob("*.txt") for _ in p.open("rb"))
    assert lines > 5000
    code, rep, _ = scan(tmp_path)
    assert code == 0  # chiara has been at stage 3 for 25 min when server 1's logs end: in progress
    assert summary(rep) == sorted(
        [
            (SRV, "anja.horvat@example.eu", 101, "Horvat, Anja", "complete", 4, None),
            (SRV, "bram.peeters@example.eu", 102, "Peeters, Bram", "complete", 4, None),
            (SRV, "chiara.bianchi@example.eu", None, None, "in_progress", 3, None),
            (SRV2, "anja.horvat@example.eu", 7, "Horvat, Anja", "complete", 4, None),
            (SRV2, "dario.ricci@example.eu", 8, "Ricci, Dario", "in_progress", 4, None),
        ]
    )


# ---------------------------------------------------------------------------------------------
# 5. stalls: each rule of BES-LOGS.md section 4 (patterns/rules.toml), thresholds against log end
# ---------------------------------------------------------------------------------------------

STALLS = [
    # upto, stage, KB (BES-LOGS.md section 4 / seed KB table)
    ("etp", 1, "KB13840"),  # stuck at Activating
    ("key", 2, "KB13843"),  # verifying encryption: contact service administrator
    ("accept", 2, "KB13843"),
    ("books", 3, "KB03410"),  # waiting for services
    ("policy", 3, "KB13847"),  # services received, slow sync never starts ("Initializing")
    ("getconfig", 4, "KB03964"),  # stuck at 0%
    ("cical", 4, "KB10496"),  # stuck at 11% (calendar first)
    ("progress", 4, "KB13461"),  # stops part way
]


@pytest.mark.parametrize(("upto", "stage", "kb"), STALLS, ids=[s[0] for s in STALLS])
def test_each_stall_rule_gives_its_kb(tmp_path: Path, upto: str, stage: int, kb: str) -> None:
    t0 = datetime(2009, 4, 7, 10, 0, 0)
    parts = merge(
        activation("tomas.novak@example.eu", 5150, "Novák, Tomáš", t0, upto=upto),
        {"MAGT": noise(t0 - timedelta(minutes=10), t0 + timedelta(hours=2, minutes=30), step=30)},
    )
    write_server(tmp_path, SRV, parts, encoding={"SYNC": "cp1252", "MAGT": "cp1252"})
    code, rep, _ = scan(tmp_path)
    assert code == 1
    assert len(acts(rep)) == 1, summary(rep)
    a = acts(rep)[0]
    assert (a["status"], a["stage"], a["kb"]) == ("stalled", stage, kb)
    assert a["email"] == "tomas.novak@example.eu"
    if ORDER.index(upto) >= ORDER.index("policy"):
        assert a["user_id"] == 5150
    if ORDER.index(upto) >= ORDER.index("getconfig"):
        assert a["display_name"] == "Novák, Tomáš"
    assert a["started"].startswith("2009-04-07T10:00")
    assert a["completed"] is None


THRESHOLDS = [
    # upto, minutes between the last progress and the end of that server's logs, status
    ("etp", 10, "in_progress"),
    ("etp", 20, "stalled"),
    ("accept", 10, "in_progress"),
    ("accept", 20, "stalled"),
    ("books", 25, "in_progress"),
    ("books", 35, "stalled"),
    ("policy", 25, "in_progress"),
    ("policy", 35, "stalled"),
    ("getconfig", 50, "in_progress"),
    ("getconfig", 70, "stalled"),
    ("progress", 50, "in_progress"),
    ("progress", 70, "stalled"),
]


@pytest.mark.parametrize(
    ("upto", "minutes", "status"), THRESHOLDS, ids=[f"{u}-{m}min" for u, m, _ in THRESHOLDS]
)
def test_in_progress_or_stalled_against_end_of_that_servers_logs(
    tmp_path: Path, upto: str, minutes: int, status: str
) -> None:
    """The end of the logs is the last line of *this* server (here a Controller line), not the clock
    and not another server that logged for hours longer."""
    t0 = datetime(2009, 4, 7, 10, 0, 0)
    parts = activation("tomas.novak@example.eu", 5150, "Novak, Tomas", t0, upto=upto)
    last = max(t for items in parts.values() for t, _ in items)
    end = last + timedelta(minutes=minutes)
    parts = merge(
        parts,
        {
            "MAGT": noise(t0 - timedelta(minutes=5), last + timedelta(minutes=3), step=30),
            "CTRL": [(end, L(end, "Agent 1: Missed 1 heartbeats", tid="A2C", eid="20000"))],
        },
    )
    write_server(tmp_path / SRV, SRV, parts)
    other = merge(
        activation("tomas.novak@example.eu", 99, "Novak, Tomas", t0 - timedelta(hours=3)),
        {
            "CTRL": [
                (
                    t0 + timedelta(hours=8),
                    L(t0 + timedelta(hours=8), "Performing system health check", tid="A2C", eid="30000"),
                )
            ]
        },
    )
    write_server(tmp_path / SRV2, SRV2, other)
    code, rep, _ = scan(tmp_path)
    assert code == (1 if status == "stalled" else 0)
    a = one(rep, server=SRV)
    assert a["status"] == status
    assert a["stage"] == {"etp": 1, "accept": 2, "books": 3, "policy": 3, "getconfig": 4, "progress": 4}[upto]
    assert (a["kb"] is None) == (status == "in_progress")
    assert one(rep, server=SRV2)["status"] == "complete"
    assert rep["log_end"][SRV].startswith(end.strftime("%Y-%m-%dT%H:%M"))


# ---------------------------------------------------------------------------------------------
# 6. explicit errors named by the seed: failed, with the error's KB
# ---------------------------------------------------------------------------------------------

U = "marek.zielinski@example.eu"


def _error_case(name: str, t0: datetime) -> tuple[dict[str, list[tuple[datetime, str]]], int, str]:
    e = t0 + timedelta(seconds=20)
    if name == "user-not-started":
        parts = activation(U, 640, "Zielinski, Marek", t0, upto="etp")
        parts["MAGT"].append(
            (e, L(e, "User not started - the OpenDatabase() failed", tid="1B44", user=U, eid="10000"))
        )
        return parts, 1, "KB10321"
    if name == "opendatabase-failed":
        parts = activation(U, 640, "Zielinski, Marek", t0, upto="etp")
        parts["MAGT"].append(
            (
                e,
                L(
                    e,
                    "MailboxManager: OpenDatabase() failed for this user, error 0x80040111",
                    tid="1B44",
                    user=U,
                    eid="20000",
                ),
            )
        )
        return parts, 1, "KB10321"
    if name == "mailbox-not-reachable":
        parts = activation(U, 640, "Zielinski, Marek", t0, upto="etp")
        parts["MAGT"].append(
            (
                e,
                L(
                    e,
                    "MAPIMailbox::MAPIMailbox - OpenMsgStore (0x8004011d) failed, "
                    "MailboxDN=/o=EU/ou=Exchange/cn=Recipients/cn=mzielinski",
                    tid="21AC",
                    user=U,
                    eid="20400",
                ),
            )
        )
        return parts, 1, "KB02276"
    if name == "etp-dat-rejected":
        parts = activation(U, 640, "Zielinski, Marek", t0, upto="etp")
        parts["MAGT"].append(
            (
                e,
                L(
                    e,
                    "Enterprise activation: ETP.DAT message failed verification, the "
                    "activation password does not match",
                    tid="1AEC",
                    user=U,
                    eid="20000",
                ),
            )
        )
        return parts, 1, "KB04829"
    if name == "contact-service-administrator":
        parts = activation(U, 640, "Zielinski, Marek", t0, upto="key")
        parts["MAGT"].append(
            (e, L(e, "Activation error: Contact Service Administrator", tid="14D4", user=U, eid="20000"))
        )
        return parts, 2, "KB13843"
    if name == "itpolicy-rejected-magt":
        parts = activation(U, 640, "Zielinski, Marek", t0, upto="policy")
        parts["MAGT"].append((e, L(e, "IT Policy Rejected by the device", tid="1AA8", user=U, eid="20000")))
        return parts, 3, "KB04533"
    if name == "itpolicy-rejected-polc":
        parts = activation(U, 640, "Zielinski, Marek", t0, upto="policy")
        parts["POLC"].append(
            (
                e,
                L(
                    e,
                    "SCS::ProcessITPolicyResult - IT policy was rejected by the device for UserId=640",
                    tid="E1C",
                    eid="20000",
                ),
            )
        )
        return parts, 3, "KB04533"
    raise AssertionError(name)


ERRORS = [
    "user-not-started",
    "opendatabase-failed",
    "mailbox-not-reachable",
    "etp-dat-rejected",
    "contact-service-administrator",
    "itpolicy-rejected-magt",
    "itpolicy-rejected-polc",
]


@pytest.mark.parametrize("name", ERRORS)
def test_each_explicit_error_fails_with_its_kb(tmp_path: Path, name: str) -> None:
    t0 = datetime(2019, 2, 11, 15, 0, 0)
    parts, stage, kb = _error_case(name, t0)
    # the logs go on for a while (so silence alone would also be a stall): the error must outrank it
    parts = merge(parts, {"MAGT": noise(t0 - timedelta(minutes=2), t0 + timedelta(hours=2), step=30)})
    write_server(tmp_path, SRV, parts)
    code, rep, _ = scan(tmp_path)
    assert code == 1
    assert len(acts(rep)) == 1, summary(rep)
    a = acts(rep)[0]
    assert (a["email"], a["status"], a["stage"], a["kb"]) == (U, "failed", stage, kb)
    assert a["errors"] and a["errors"][-1]["kb"] == kb


@pytest.mark.parametrize("name", ["user-not-started", "itpolicy-rejected-polc"])
def test_explicit_error_is_failed_even_right_at_the_end_of_the_logs(tmp_path: Path, name: str) -> None:
    t0 = datetime(2019, 2, 11, 15, 0, 0)
    parts, stage, kb = _error_case(name, t0)
    write_server(tmp_path, SRV, parts)
    code, rep, _ = scan(tmp_path)
    assert code == 1
    assert summary(rep)[0][4:] == ("failed", stage, kb)
    code2, _, _ = scan(tmp_path, "--fail-on", "stalled")
    assert code2 == 0


def test_error_followed_by_progress_is_not_failed(tmp_path: Path) -> None:
    """A mailbox hiccup, then the activation goes on to the end: complete (errors only count with no
    progress after them)."""
    t0 = datetime(2019, 2, 11, 15, 0, 0)
    parts = activation(U, 640, "Zielinski, Marek", t0)
    e = t0 + timedelta(seconds=1)
    parts["MAGT"].append(
        (
            e,
            L(
                e,
                "MAPIMailbox::MAPIMailbox - OpenMsgStore (0x80040115) failed, MailboxDN=/o=EU",
                tid="21AC",
                user=U,
                eid="20400",
            ),
        )
    )
    write_server(tmp_path, SRV, parts)
    code, rep, _ = scan(tmp_path)
    assert code == 0
    assert summary(rep) == [(SRV, U, 640, "Zielinski, Marek", "complete", 4, None)]


def test_mailbox_errors_of_idle_users_are_not_activations(tmp_path: Path) -> None:
    t0 = datetime(2019, 2, 11, 15, 0, 0)
    lines = noise(t0, t0 + timedelta(hours=1), step=10)
    for i, u in enumerate(("anna.lind@example.eu", "piet.devries@example.eu")):
        t = t0 + timedelta(minutes=5 + i)
        lines.append(
            (
                t,
                L(
                    t,
                    "MAPIMailbox::MAPIMailbox - OpenMsgStore (0x8004011d) failed, MailboxDN=/o=EU",
                    tid="21AC",
                    user=u,
                    eid="20400",
                ),
            )
        )
    pol = [
        (
            t0 + timedelta(minutes=9),
            L(
                t0 + timedelta(minutes=9),
                "SCS::CheckITPolicyInGroup - Queuing SET_ITPOLICY_REQUEST request for UserId=77",
                tid="E1C",
            ),
        )
    ]
    write_server(tmp_path, SRV, {"MAGT": lines, "POLC": pol})
    code, rep, _ = scan(tmp_path)
    assert code == 0
    assert acts(rep) == []
    code, rep, _ = scan(tmp_path, "--fail-if-none")
    assert code == 1


# ---------------------------------------------------------------------------------------------
# 7. retries: the last attempt decides, earlier ones under `attempts`
# ---------------------------------------------------------------------------------------------


def test_retry_after_stall_then_complete(tmp_path: Path) -> None:
    t1 = datetime(2019, 10, 1, 9, 0, 0)
    t2 = datetime(2019, 10, 1, 11, 0, 0)
    parts = merge(
        activation(U, 640, "Zielinski, Marek", t1, upto="accept"),
        activation(U, 640, "Zielinski, Marek", t2),
        {"MAGT": noise(t1, t2 + timedelta(minutes=30), step=60)},
    )
    write_server(tmp_path, SRV, parts)
    code, rep, _ = scan(tmp_path)
    assert code == 0
    assert len(acts(rep)) == 1, summary(rep)
    a = acts(rep)[0]
    assert (a["status"], a["stage"], a["kb"], a["user_id"]) == ("complete", 4, None, 640)
    assert a["started"].startswith("2019-10-01T11:00")
    assert [(x["status"], x["stage"], x["kb"]) for x in a["attempts"]] == [("stalled", 2, "KB13843")]


def test_three_attempts_failed_stalled_then_in_progress(tmp_path: Path) -> None:
    t1 = datetime(2019, 10, 1, 9, 0, 0)
    e = t1 + timedelta(seconds=5)
    a1 = activation(U, 640, "Zielinski, Marek", t1, upto="etp")
    a1["MAGT"].append(
        (
            e,
            L(
                e,
                "Could not process ETP.DAT attachment: invalid activation password",
                tid="1AEC",
                user=U,
                eid="20000",
            ),
        )
    )
    t2 = datetime(2019, 10, 1, 9, 30, 0)
    a2 = activation(U, 640, "Zielinski, Marek", t2, upto="etp")  # nothing for 30 min: stalled
    t3 = datetime(2019, 10, 1, 10, 0, 0)
    a3 = activation(U, 640, "Zielinski, Marek", t3, upto="getconfig")  # 20 min before the end
    end = t3 + timedelta(minutes=20)
    parts = merge(a1, a2, a3, {"MAGT": noise(t1, end, step=45)})
    write_server(tmp_path, SRV, parts)
    code, rep, _ = scan(tmp_path)
    assert code == 0  # the last attempt decides
    assert len(acts(rep)) == 1, summary(rep)
    a = acts(rep)[0]
    assert (a["status"], a["stage"], a["kb"], a["user_id"], a["display_name"]) == (
        "in_progress",
        4,
        None,
        640,
        "Zielinski, Marek",
    )
    assert [(x["status"], x["stage"], x["kb"]) for x in a["attempts"]] == [
        ("failed", 1, "KB04829"),
        ("stalled", 1, "KB13840"),
    ]


def test_complete_then_new_device_fails(tmp_path: Path) -> None:
    t1 = datetime(2019, 10, 1, 9, 0, 0)
    t2 = datetime(2019, 10, 3, 14, 0, 0)
    second = activation(U, 640, "Zielinski, Marek", t2, upto="etp")
    e = t2 + timedelta(seconds=4)
    second["MAGT"].append((e, L(e, "User not started", tid="1B44", user=U, eid="20000")))
    parts = merge(activation(U, 640, "Zielinski, Marek", t1), second)
    write_server(tmp_path, SRV, parts)
    code, rep, _ = scan(tmp_path)
    assert code == 1
    assert len(acts(rep)) == 1, summary(rep)
    a = acts(rep)[0]
    assert (a["status"], a["stage"], a["kb"]) == ("failed", 1, "KB10321")
    assert [(x["status"], x["stage"]) for x in a["attempts"]] == [("complete", 4)]


def test_retry_from_stage_three_back_to_new_etp_within_minutes(tmp_path: Path) -> None:
    """The admin resets the password and the user retries at once: a new ETP.DAT after progress
    to stage 3 begins a new attempt even though little time passed."""
    t1 = datetime(2019, 10, 1, 9, 0, 0)
    t2 = t1 + timedelta(minutes=3)
    parts = merge(
        activation(U, 640, "Zielinski, Marek", t1, upto="books"), activation(U, 640, "Zielinski, Marek", t2)
    )
    write_server(tmp_path, SRV, parts)
    code, rep, _ = scan(tmp_path)
    assert code == 0
    a = one(rep, email=U)
    assert (a["status"], len(a["attempts"])) == ("complete", 1)
    assert a["attempts"][0]["stage"] == 3


# ---------------------------------------------------------------------------------------------
# 8. identity joins: time order (unambiguous, ambiguous), user map CSV, KEY_ACCEPT by thread
# ---------------------------------------------------------------------------------------------

HELP = "helpdesk.lead@example.eu"  # an address whose shape says nothing about a display name
OPS = "ops-night@example.eu"


def _polc(t: datetime, uid: int) -> tuple[datetime, str]:
    return (
        t,
        L(t, f"SCS::CheckITPolicyInGroup - Queuing SET_ITPOLICY_REQUEST request for UserId={uid}", tid="E1C"),
    )


def test_time_order_join_when_unambiguous(tmp_path: Path) -> None:
    t0 = datetime(2019, 11, 5, 10, 0, 0)
    parts = activation(HELP, 301, "Kowalski, Piotr", t0)
    # an IT policy push for someone else, well outside the 2-minute window
    parts["POLC"].append(_polc(t0 + timedelta(minutes=6), 302))
    write_server(tmp_path, SRV, parts)
    code, rep, _ = scan(tmp_path)
    assert code == 0
    assert summary(rep) == [(SRV, HELP, 301, "Kowalski, Piotr", "complete", 4, None)]
    assert "time" in {j["kind"] for j in acts(rep)[0]["joins"]}


def test_ambiguous_time_join_two_requests_two_policies_is_refused(tmp_path: Path) -> None:
    t0 = datetime(2019, 11, 5, 10, 0, 0)
    parts = merge(
        activation(HELP, 301, "x", t0, upto="books"),
        activation(OPS, 302, "y", t0 + timedelta(seconds=8), upto="books", key_tid="1500"),
    )
    parts["POLC"] = [_polc(t0 + timedelta(seconds=20), 301), _polc(t0 + timedelta(seconds=25), 302)]
    write_server(tmp_path, SRV, parts)
    code, rep, stderr = scan(tmp_path)
    assert code == 0
    assert summary(rep) == [
        (SRV, HELP, None, None, "in_progress", 3, None),
        (SRV, OPS, None, None, "in_progress", 3, None),
    ]
    assert rep["notes"]


def test_ambiguous_time_join_one_request_two_policies_is_refused(tmp_path: Path) -> None:
    t0 = datetime(2019, 11, 5, 10, 0, 0)
    parts = activation(HELP, 301, "x", t0, upto="books")
    parts["POLC"] = [_polc(t0 + timedelta(seconds=12), 301), _polc(t0 + timedelta(seconds=40), 302)]
    write_server(tmp_path, SRV, parts)
    code, rep, _ = scan(tmp_path)
    assert code == 0
    assert summary(rep) == [(SRV, HELP, None, None, "in_progress", 3, None)]
    assert rep["notes"]


def test_users_csv_resolves_what_time_order_cannot(tmp_path: Path) -> None:
    t0 = datetime(2019, 11, 5, 10, 0, 0)
    parts = merge(
        activation(HELP, 301, "Kowalski, Piotr", t0),
        activation(OPS, 302, "Łukasiewicz, Zoë", t0 + timedelta(seconds=8), upto="getconfig", key_tid="1500"),
    )
    parts["POLC"] = [_polc(t0 + timedelta(seconds=20), 302), _polc(t0 + timedelta(seconds=25), 301)]
    write_server(tmp_path / "logs", SRV, parts)
    users = tmp_path / "users.csv"
    users.write_text(
        "MailboxSMTPAddr,UserConfigId,DisplayName\r\n"
        f'{HELP},301,"Kowalski, Piotr"\r\n'
        f'{OPS},302,"Łukasiewicz, Zoë"\r\n'
        'someone.else@example.eu,303,"Else, Someone"\r\n',
        encoding="utf-8",
    )
    code, rep, _ = scan(tmp_path / "logs", "--users", users)
    assert code == 0
    assert summary(rep) == [
        (SRV, HELP, 301, "Kowalski, Piotr", "complete", 4, None),
        (SRV, OPS, 302, "Łukasiewicz, Zoë", "in_progress", 4, None),
    ]
    assert "map" in {j["kind"] for j in one(rep, email=HELP)["joins"]}
    # without the map the same logs cannot join the addresses to the ids: no guessing
    code, rep2, _ = scan(tmp_path / "logs")
    assert not any(a["email"] == HELP and a["user_id"] == 302 for a in acts(rep2))
    assert not any(a["email"] == OPS and a["user_id"] == 301 for a in acts(rep2))


def test_users_csv_for_accented_user_in_cp1252_logs(tmp_path: Path) -> None:
    t0 = datetime(2019, 6, 14, 9, 30, 0)
    write_server(
        tmp_path / "logs", SRV, activation(*JOERG, t0, upto="getconfig"), encoding={"SYNC": "cp1252"}
    )
    users = tmp_path / "u.csv"
    users.write_text(
        'MailboxSMTPAddr,UserConfigId,DisplayName\njoerg.mueller@example.eu,4711,"Müller, Jörg"\n',
        encoding="utf-8",
    )
    code, rep, _ = scan(tmp_path / "logs", "--users", users)
    assert code == 0
    assert summary(rep) == [(SRV, *JOERG, "in_progress", 4, None)]


def test_key_accept_belongs_to_user_last_named_on_its_thread(tmp_path: Path) -> None:
    t0 = datetime(2019, 7, 8, 13, 0, 0)
    A, B, C = "aino.virtanen@example.eu", "bruno.costa@example.eu", "cem.yilmaz@example.eu"
    magt = [
        # thread 14D4 carried someone's mail first
        (
            t0,
            L(
                t0,
                "New mail has arrived, EntryId=99001",
                tid="14D4",
                user="sofia.rossi@example.eu",
                eid="30085",
            ),
        ),
    ]
    for i, u in enumerate((A, B, C)):
        t = t0 + timedelta(seconds=1 + i)
        magt.append(
            (
                t,
                L(
                    t,
                    "Queuing DATA from network@etp2.eu.blackberry.net, Tag=-1, EntryId=1",
                    tid="1AEC",
                    user=u,
                ),
            )
        )

    def at(s: float) -> datetime:
        return t0 + timedelta(seconds=s)

    magt += [
        (at(10), L(at(10), "Generating AES key (this is based on server setting)", tid="14D4", user=A)),
        (at(10.2), L(at(10.2), "*** OTAKEYGEN *** sending KEY_ACCEPT transID = 111", tid="14D4")),  # -> A
        (at(15), L(at(15), "Generating AES key (this is based on server setting)", tid="14D4", user=B)),
        (at(16), L(at(16), "Generating AES key (this is based on server setting)", tid="1500", user=C)),
        (at(16.3), L(at(16.3), "*** OTAKEYGEN *** sending KEY_ACCEPT transID = 222", tid="14D4")),  # -> B
    ]
    parts = merge({"MAGT": magt}, {"MAGT": noise(t0, t0 + timedelta(minutes=40), step=30)})
    write_server(tmp_path, SRV, parts)
    code, rep, _ = scan(tmp_path)
    assert code == 1
    assert len(acts(rep)) == 3, summary(rep)
    got = {a["email"]: (a["status"], a["stage"], a["kb"], a["last_milestone"]) for a in acts(rep)}
    assert got == {
        A: ("stalled", 2, "KB13843", "key_accept_sent"),
        B: ("stalled", 2, "KB13843", "key_accept_sent"),
        C: ("stalled", 2, "KB13843", "key_generated"),
    }


def test_key_accept_on_shared_thread_then_user_goes_on(tmp_path: Path) -> None:
    """Two users activate at once and share the key thread; both complete, none split."""
    t0 = datetime(2019, 7, 8, 13, 0, 0)
    a = activation("aino.virtanen@example.eu", 11, "Virtanen, Aino", t0, key_tid="14D4")
    b = activation(
        "bruno.costa@example.eu",
        12,
        "Costa, Bruno",
        t0 + timedelta(seconds=1),
        key_tid="14D4",
        magt_tid="1AF0",
    )
    # a's books at +9s, policy at +13s; b's books at +10s, policy at +14s: ambiguous in time, but the
    # address shape against the SYNC display names (and the ids on those lines) resolves it
    write_server(tmp_path, SRV, merge(a, b))
    code, rep, _ = scan(tmp_path)
    assert code == 0
    assert summary(rep) == [
        (SRV, "aino.virtanen@example.eu", 11, "Virtanen, Aino", "complete", 4, None),
        (SRV, "bruno.costa@example.eu", 12, "Costa, Bruno", "complete", 4, None),
    ]


def test_time_order_join_of_back_to_back_activations(tmp_path: Path) -> None:
    t0 = datetime(2019, 11, 5, 10, 0, 0)
    # A: books 10:00:09, policy 301 at 10:00:13; B: books 10:00:39, policy 302 at 10:00:43
    parts = merge(
        activation(HELP, 301, "Kowalski, Piotr", t0),
        activation(OPS, 302, "Nowak, Ewa", t0 + timedelta(seconds=30), key_tid="1500"),
    )
    write_server(tmp_path, SRV, parts)
    code, rep, _ = scan(tmp_path)
    assert code == 0
    assert summary(rep) == [
        (SRV, HELP, 301, "Kowalski, Piotr", "complete", 4, None),
        (SRV, OPS, 302, "Nowak, Ewa", "complete", 4, None),
    ]


# ---------------------------------------------------------------------------------------------
# 9. more inputs: quirks inside other encodings, excerpts, stdin, duplicates, overrides
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("enc", ["cp1252", "utf-16-le-bom", "utf-8-sig"])
def test_pasted_quirks_inside_non_utf8_files(tmp_path: Path, enc: str) -> None:
    """en dash (0x96), curly quotes (0x93/0x94) and × (0xD7) as cp1252 bytes, or in UTF-16."""
    t0 = datetime(2019, 6, 14, 9, 30, 0, 125000)
    parts = {s: [(t, q_seed_mix(x)) for t, x in items] for s, items in activation(*JOERG, t0).items()}
    codec = "utf-16-le" if enc == "utf-16-le-bom" else enc
    paths = write_server(tmp_path, SRV, parts, encoding=dict.fromkeys(parts, codec))
    if enc == "utf-16-le-bom":
        for p in paths:
            p.write_bytes(b"\xff\xfe" + p.read_bytes())
    else:
        assert (
            b"\x96" in (tmp_path / "20190614" / fname(SRV, "POLC", datetime(2019, 6, 14))).read_bytes()
            or enc != "cp1252"
        )
    code, rep, _ = scan(tmp_path)
    assert code == 0
    assert summary(rep) == [(SRV, *JOERG, "complete", 4, None)]
    assert len(acts(rep)[0]["milestones"]) == 9


def _excerpt_lines() -> list[str]:
    parts = activation(
        "hannah.schmidt@example.eu", 3120, "Schmidt, Hannah", datetime(2009, 12, 31, 23, 58), scale=2.0
    )
    return [line for _, line in sorted(x for items in parts.values() for x in items)]


def test_excerpt_with_current_date_line_over_new_year(tmp_path: Path) -> None:
    lines = ["[30000] (12/31 23:50:00.000):{0x9C4} Current Date: 2009/12/31", *_excerpt_lines()]
    write(tmp_path / "ticket_4711_excerpt.txt", lines)
    code, rep, _ = scan(tmp_path)
    assert code == 0
    assert summary(rep) == [(None, "hannah.schmidt@example.eu", 3120, "Schmidt, Hannah", "complete", 4, None)]
    a = acts(rep)[0]
    assert a["started"].startswith("2009-12-31T23:58") and a["completed"].startswith("2010-01-01T00:24")


def test_excerpt_in_day_folder_and_with_year_option(tmp_path: Path) -> None:
    write(tmp_path / "20091231" / "pasted.txt", _excerpt_lines())
    for extra in ([], ["--year", "2009"]):
        code, rep, _ = scan(tmp_path / "20091231" / "pasted.txt" if extra else tmp_path, *extra)
        assert code == 0
        a = one(rep, email="hannah.schmidt@example.eu")
        assert a["started"].startswith("2009-12-31T23:58") and a["completed"].startswith("2010-01-01T00:24")


def test_stdin_with_year(tmp_path: Path) -> None:
    parts = activation(*JOERG, datetime(2019, 6, 14, 9, 30), upto="books")
    text = "\r\n".join(line for _, line in sorted(x for items in parts.values() for x in items))
    result = runner.invoke(app, ["scan", "-", "--year", "2019", "--format", "json"], input=text)
    assert result.exit_code == 0, result.stderr
    rep = json.loads(result.stdout)
    assert summary(rep) == [(None, JOERG[0], None, None, "in_progress", 3, None)]
    assert acts(rep)[0]["started"].startswith("2019-06-14T09:30")


def test_same_logs_plain_and_zipped_count_once(tmp_path: Path) -> None:
    paths = write_server(
        tmp_path / "plain", SRV, activation(*JOERG, datetime(2019, 6, 14, 9, 30), upto="books")
    )
    with zipfile.ZipFile(tmp_path / "copy.zip", "w") as z:
        for p in paths:
            z.write(p, str(p.relative_to(tmp_path / "plain")))
    code, rep, _ = scan(tmp_path)
    assert code == 0
    assert summary(rep) == [(SRV, JOERG[0], None, None, "in_progress", 3, None)]
    a = acts(rep)[0]
    assert (len(a["milestones"]), a["attempts"]) == (4, [])


def test_stall_after_override(tmp_path: Path) -> None:
    t0 = datetime(2019, 6, 14, 9, 30)
    parts = activation(*JOERG, t0, upto="getconfig")
    end = t0 + timedelta(minutes=70)
    parts["CTRL"] = [(end, L(end, "Agent 1: Missed 1 heartbeats", tid="A2C", eid="20000"))]
    write_server(tmp_path, SRV, parts)
    assert summary(scan(tmp_path)[1])[0][4:] == ("stalled", 4, "KB03964")
    code, rep, _ = scan(tmp_path, "--stall-after", "4=2h")
    assert (code, summary(rep)[0][4:]) == (0, ("in_progress", 4, None))
    code, rep, _ = scan(tmp_path, "--fail-on", "failed")
    assert (code, summary(rep)[0][4]) == (0, "stalled")


def test_last_line_of_an_unknown_service_sets_the_end_of_logs(tmp_path: Path) -> None:
    t0 = datetime(2019, 6, 14, 9, 30)
    parts = activation(*JOERG, t0, upto="accept")
    end = t0 + timedelta(minutes=30)
    parts["MDSS"] = [(end, L(end, "[HTTP] request served, size=2048", tid="77", eid="30000"))]
    write_server(tmp_path, SRV, parts)
    code, rep, _ = scan(tmp_path)
    assert code == 1
    assert summary(rep)[0][4:] == ("stalled", 2, "KB13843")


def test_own_mail_flow_is_not_progress(tmp_path: Path) -> None:
    """The activating user's mailbox keeps receiving mail after the stall: still stalled."""
    t0 = datetime(2019, 11, 5, 10, 0)
    parts = merge(
        activation(U, 640, "Zielinski, Marek", t0, upto="accept"),
        {"MAGT": noise(t0, t0 + timedelta(hours=1), step=30, users=(U, "anna.lind@example.eu"))},
    )
    write_server(tmp_path, SRV, parts)
    code, rep, _ = scan(tmp_path)
    assert code == 1
    assert summary(rep) == [(SRV, U, None, None, "stalled", 2, "KB13843")]


def test_duplicate_etp_within_stage_one_is_the_same_attempt(tmp_path: Path) -> None:
    t0 = datetime(2019, 6, 14, 9, 30)
    parts = merge(activation(*JOERG, t0, upto="etp"), activation(*JOERG, t0 + timedelta(minutes=5)))
    write_server(tmp_path, SRV, parts)
    code, rep, _ = scan(tmp_path)
    assert code == 0
    assert summary(rep) == [(SRV, *JOERG, "complete", 4, None)]
    assert acts(rep)[0]["attempts"] == []


def test_repeated_user_not_started_then_retry(tmp_path: Path) -> None:
    t0 = datetime(2019, 11, 5, 10, 0)
    parts = activation(U, 640, "Zielinski, Marek", t0, upto="etp")
    for i in range(5):
        t = t0 + timedelta(minutes=1 + i)
        parts["MAGT"].append((t, L(t, "User not started", tid="1B44", user=U, eid="20000")))
    parts = merge(parts, activation(U, 640, "Zielinski, Marek", t0 + timedelta(minutes=20)))
    write_server(tmp_path, SRV, parts)
    code, rep, _ = scan(tmp_path)
    assert code == 0
    assert summary(rep) == [(SRV, U, 640, "Zielinski, Marek", "complete", 4, None)]
    assert [(x["status"], x["kb"]) for x in acts(rep)[0]["attempts"]] == [("failed", "KB10321")]


def test_routine_lines_after_completion_keep_it_complete(tmp_path: Path) -> None:
    """An IT policy push, an organizer-data command and a mailbox error hours later are not a new
    activation and do not turn a complete one into failed."""
    t0 = datetime(2019, 11, 5, 10, 0)
    parts = activation(U, 640, "Zielinski, Marek", t0)
    t = t0 + timedelta(hours=3)
    parts["POLC"].append(_polc(t, 640))
    parts["SYNC"].append(
        (
            t + timedelta(minutes=1),
            L(
                t + timedelta(minutes=1),
                '[SYNC-DSession] Received "ContactsData" command from device. [Zielinski, Marek:640]',
                tid="1294",
                eid="46047",
            ),
        )
    )
    parts["MAGT"].append(
        (
            t + timedelta(minutes=2),
            L(
                t + timedelta(minutes=2),
                "MAPIMailbox::MAPIMailbox - OpenMsgStore (0x8004011d) failed, MailboxDN=/o=EU",
                tid="21AC",
                user=U,
                eid="20400",
            ),
        )
    )
    parts["MAGT"] += noise(t, t + timedelta(hours=2), step=60)
    write_server(tmp_path, SRV, parts)
    code, rep, _ = scan(tmp_path)
    assert code == 0
    assert summary(rep) == [(SRV, U, 640, "Zielinski, Marek", "complete", 4, None)]
    assert acts(rep)[0]["attempts"] == []


def test_users_csv_with_other_column_order_and_extra_columns(tmp_path: Path) -> None:
    t0 = datetime(2019, 6, 14, 9, 30)
    write_server(tmp_path / "logs", SRV, activation(*JOERG, t0, upto="accept"))
    users = tmp_path / "u.csv"
    users.write_text(
        "DisplayName,ServerName,MailboxSMTPAddr,UserConfigId\r\n"
        '"Müller, Jörg",BES_EU_01,joerg.mueller@example.eu,4711\r\n',
        encoding="utf-8-sig",
    )
    code, rep, _ = scan(tmp_path / "logs", "--users", users)
    assert code == 0
    assert summary(rep) == [(SRV, *JOERG, "in_progress", 2, None)]


@pytest.mark.parametrize(
    "quirk", [q_no_event_id, q_one_digit_id, q_seed_mix, q_no_thread_on_named_lines], ids=lambda q: q.__name__
)
@pytest.mark.parametrize("name", ERRORS)
def test_explicit_errors_survive_line_quirks(tmp_path: Path, name: str, quirk) -> None:  # type: ignore[no-untyped-def]
    t0 = datetime(2019, 2, 11, 15, 0, 0)
    parts, stage, kb = _error_case(name, t0)
    parts = {s: [(t, quirk(x)) for t, x in items] for s, items in parts.items()}
    write_server(tmp_path, SRV, merge(parts, {"MAGT": noise(t0, t0 + timedelta(hours=1), step=60)}))
    code, rep, _ = scan(tmp_path)
    assert code == 1
    assert [r[:2] + r[4:] for r in summary(rep)] == [(SRV, U, "failed", stage, kb)]


def test_time_join_across_new_year_day_files(tmp_path: Path) -> None:
    write_server(tmp_path, SRV, activation(HELP, 301, "Kowalski, Piotr", datetime(2019, 12, 31, 23, 59, 50)))
    assert (tmp_path / "20200101" / fname(SRV, "POLC", datetime(2020, 1, 1))).exists()
    code, rep, _ = scan(tmp_path)
    assert code == 0
    assert summary(rep) == [(SRV, HELP, 301, "Kowalski, Piotr", "complete", 4, None)]


def test_simultaneous_activations_on_two_servers_are_not_ambiguous(tmp_path: Path) -> None:
    t0 = datetime(2019, 11, 5, 10, 0)
    write_server(tmp_path / "a", SRV, activation(HELP, 301, "Kowalski, Piotr", t0))
    write_server(tmp_path / "b", SRV2, activation(OPS, 302, "Nowak, Ewa", t0 + timedelta(seconds=2)))
    code, rep, _ = scan(tmp_path)
    assert code == 0
    assert summary(rep) == [
        (SRV, HELP, 301, "Kowalski, Piotr", "complete", 4, None),
        (SRV2, OPS, 302, "Nowak, Ewa", "complete", 4, None),
    ]
    assert rep["notes"] == [] or not any("not joining" in n for n in rep["notes"])
