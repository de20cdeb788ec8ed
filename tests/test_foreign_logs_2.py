"""Second, more adversarial round of independent BES logs (BES-LOGS.md, seed 000, README "How it decides").

Nothing here is taken from sample_logs or from the pattern files' examples: every line is built from
the line grammar of BES-LOGS.md section 2 and the seed's milestone lines (section 3), in ``tmp_path``.
Each test runs ``bes-logdiag scan ... --format json`` through CliRunner and checks what an
administrator sees: how many activations, their status, stage, KB article, names, attempts and the
exit code.  Topics not covered by tests/test_foreign_logs.py: people who share a display name or an
id, one user on two servers at once, retries over midnight / New Year / after completion, MAGT
instances and restarts that split one user's lines, file order and unnamed files, odd spacing,
long and wrapped lines, a BOM inside a concatenated file, thresholds to the second, long slow syncs,
other users' errors, and noise that quotes milestone text.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from helpers import scan_json
from typer.testing import CliRunner

runner = CliRunner()

SRV_A = "BBX_LON_01"
SRV_B = "BBX_NYC_02"

Lines = list[tuple[datetime, str]]
Parts = dict[str, Lines]


# ---------------------------------------------------------------------------------------------
# builders (BES-LOGS.md section 2: ``[EEEEE] (MM/DD HH:MM:SS.mmm):{0xTID} {user} [TAG] message``)
# ---------------------------------------------------------------------------------------------


def stamp(t: datetime) -> str:
    return f"{t:%m/%d %H:%M:%S}.{t.microsecond // 1000:03d}"


def rec(t: datetime, msg: str, tid: str = "1B44", user: str | None = None, eid: str = "40000") -> str:
    who = f" {{{user}}}" if user else ""
    return f"[{eid}] ({stamp(t)}):{{0x{tid}}}{who} {msg}"


def bes_name(server: str, code: str, day: datetime, inst: int = 1, it: int = 1) -> str:
    return f"{server}_{code}_{inst:02d}_{day:%Y%m%d}_{it:04d}.txt"


def put(path: Path, lines: list[str], *, enc: str = "utf-8", bom: bytes = b"", nl: str = "\r\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bom + (nl.join(lines) + nl).encode(enc))
    return path


def sorted_lines(items: Lines) -> list[str]:
    return [x for _, x in sorted(items, key=lambda p: p[0])]


class Act:
    """One user's activation, milestone lines per service, at offsets (seconds) from t0.

    Offsets follow the seed's example: key in the same second as the pickup, KEY_ACCEPT with it,
    service books 6 s later, the IT policy 4 s after that, GetConfig 35 s later, SLOWSYNC COMPLETE
    13 minutes on.
    """

    STEPS = ("etp", "key", "accept", "books", "policy", "getconfig", "cical", "data", "complete")

    def __init__(
        self,
        email: str,
        uid: int,
        name: str,
        t0: datetime,
        *,
        upto: str = "complete",
        key_tid: str = "14D4",
        etp_tid: str = "1AEC",
        books_tid: str = "1AA8",
        sync_tid: str = "1294",
        stretch: float = 1.0,
    ) -> None:
        self.email, self.uid, self.name, self.t0 = email, uid, name, t0
        self.keep = self.STEPS[: self.STEPS.index(upto) + 1]
        self.key_tid, self.etp_tid, self.books_tid, self.sync_tid = key_tid, etp_tid, books_tid, sync_tid
        self.stretch = stretch

    def at(self, sec: float) -> datetime:
        return self.t0 + timedelta(seconds=sec * self.stretch)

    def line(self, step: str) -> tuple[str, datetime, str]:
        """(service, time, line) of one step."""
        e, n, u = self.email, self.name, self.uid
        if step == "etp":
            t = self.at(0)
            return (
                "MAGT",
                t,
                rec(
                    t,
                    "Queuing DATA from network@etp3.eu.blackberry.net, Tag=-511872311, EntryId=40211",
                    self.etp_tid,
                    e,
                ),
            )
        if step == "key":
            t = self.at(1)
            return "MAGT", t, rec(t, "Generating 3DES key (this is based on server setting)", self.key_tid, e)
        if step == "accept":
            t = self.at(1.4)
            return (
                "MAGT",
                t,
                rec(t, f"*** OTAKEYGEN *** sending KEY_ACCEPT transID = {3000000 + u}", self.key_tid),
            )
        if step == "books":
            t = self.at(7)
            return (
                "MAGT",
                t,
                rec(t, "*** OTAKEYGEN *** Queuing service book data to Policy Server", self.books_tid, e),
            )
        if step == "policy":
            t = self.at(11)
            return (
                "POLC",
                t,
                rec(
                    t,
                    f"SCS::CheckITPolicyInGroup – Queuing SET_ITPOLICY_REQUEST request for UserId={u}",
                    "E1C",
                ),
            )
        if step == "getconfig":
            t = self.at(46)
            return (
                "SYNC",
                t,
                rec(
                    t,
                    f'[SYNC-DSession] Received "GetConfig" command from device. [{n}:{u}]',
                    self.sync_tid,
                    eid="46046",
                ),
            )
        if step == "cical":
            t = self.at(70)
            return (
                "MAGT",
                t,
                rec(t, "[CICAL] Calendar slow synchronization started for 96 items", self.books_tid, e),
            )
        if step == "data":
            t = self.at(300)
            return (
                "SYNC",
                t,
                rec(
                    t,
                    f'[SYNC-DSession] Received "ContactsData" command from device. [{n}:{u}]',
                    self.sync_tid,
                    eid="46047",
                ),
            )
        if step == "complete":
            t = self.at(840)
            return (
                "SYNC",
                t,
                rec(t, f"[SYNC-DSession] *** SLOWSYNC COMPLETE *** [{n}:{u}]", "12AC", eid="36023"),
            )
        raise AssertionError(step)

    def parts(self) -> Parts:
        out: Parts = {"MAGT": [], "POLC": [], "SYNC": []}
        for s in self.keep:
            svc, t, x = self.line(s)
            out[svc].append((t, x))
        return out

    def last(self) -> datetime:
        return max(self.line(s)[1] for s in self.keep)


def merged(*ps: Parts) -> Parts:
    out: Parts = {}
    for p in ps:
        for svc, items in p.items():
            out.setdefault(svc, []).extend(items)
    return out


def mailflow(
    t0: datetime,
    t1: datetime,
    step: int = 30,
    users: tuple[str, ...] = ("li.wei@corp.example", "omar.farouk@corp.example"),
) -> Lines:
    """Mail flow of users who are not activating (most of any MAGT file)."""
    out: Lines = []
    t, n = t0, 0
    while t < t1:
        u = users[n % len(users)]
        out.append((t, rec(t, f"New mail has arrived, EntryId={700000 + n}", "1C30", u, "30085")))
        out.append(
            (t, rec(t, f"Sending message to device, RefId={90000 + n}, size={2048 + 3 * n}", "1C30", u))
        )
        n += 1
        t += timedelta(seconds=step)
    return out


def write_tree(root: Path, server: str, parts: Parts, *, folders: bool = True) -> list[Path]:
    """One file per service and day (instance 01, iteration 0001), in day folders."""
    out = []
    for svc, items in parts.items():
        by_day: dict[str, Lines] = {}
        for t, x in items:
            by_day.setdefault(f"{t:%Y%m%d}", []).append((t, x))
        for day, its in by_day.items():
            d = datetime.strptime(day, "%Y%m%d")
            where = root / day if folders else root
            out.append(put(where / bes_name(server, svc, d), sorted_lines(its)))
    return out


scan = scan_json


def rows(rep: dict) -> list[tuple]:  # type: ignore[type-arg]
    out = [
        (a["server"], a["email"], a["user_id"], a["display_name"], a["status"], a["stage"], a["kb"])
        for a in rep["activations"]
    ]
    return sorted(out, key=lambda r: tuple(str(x) for x in r))


def find(rep: dict, **key: object) -> dict:  # type: ignore[type-arg]
    hits = [a for a in rep["activations"] if all(a.get(k) == v for k, v in key.items())]
    assert len(hits) == 1, (key, rows(rep))
    return hits[0]


def tries(a: dict) -> list[tuple]:  # type: ignore[type-arg]
    return [(x["status"], x["stage"], x["kb"]) for x in a["attempts"]]


# ---------------------------------------------------------------------------------------------
# 1. identities: one display name for two people, one id on two servers, one user on two servers
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("second_email", ["john.smith2@corp.example", "john.smith@branch.example"])
def test_same_display_name_for_two_people_on_one_server(tmp_path: Path, second_email: str) -> None:
    """Two different "Smith, John" (ids 101 and 102): the id on the SYNC line keeps them apart, and
    each address finds its id by the unambiguous time order of its own service-book request."""
    t1 = datetime(2014, 5, 6, 9, 0, 0)
    t2 = datetime(2014, 5, 6, 9, 30, 0)
    a = Act("john.smith@corp.example", 101, "Smith, John", t1)
    b = Act(second_email, 102, "Smith, John", t2, upto="data", key_tid="1500")
    parts = merged(a.parts(), b.parts(), {"MAGT": mailflow(t1, t2 + timedelta(minutes=20))})
    write_tree(tmp_path, SRV_A, parts)
    code, rep, _ = scan(tmp_path)
    assert code == 0
    assert rows(rep) == sorted(
        [
            (SRV_A, "john.smith@corp.example", 101, "Smith, John", "complete", 4, None),
            (SRV_A, second_email, 102, "Smith, John", "in_progress", 4, None),
        ],
        key=lambda r: tuple(str(x) for x in r),
    )


def test_same_display_name_completion_of_one_does_not_complete_the_other(tmp_path: Path) -> None:
    """Smith, John:101 completes; Smith, John:102 sits at 0 % for two hours: stalled, KB03964."""
    t1 = datetime(2014, 5, 6, 9, 0, 0)
    a = Act("jsmith@corp.example", 101, "Smith, John", t1)
    b = Act(
        "john.s@corp.example", 102, "Smith, John", t1 + timedelta(minutes=5), upto="getconfig", key_tid="1500"
    )
    parts = merged(a.parts(), b.parts(), {"MAGT": mailflow(t1, t1 + timedelta(hours=2))})
    write_tree(tmp_path, SRV_A, parts)
    code, rep, _ = scan(tmp_path)
    assert code == 1
    assert find(rep, user_id=101)["status"] == "complete"
    b_row = find(rep, user_id=102)
    assert (b_row["email"], b_row["status"], b_row["stage"], b_row["kb"]) == (
        "john.s@corp.example",
        "stalled",
        4,
        "KB03964",
    )
    assert len(rep["activations"]) == 2


def test_same_display_name_activating_in_the_same_minute_is_not_cross_joined(tmp_path: Path) -> None:
    """Both "Smith, John" ask for service books, then both ids get the IT policy, within seconds:
    time order cannot tell them apart and the names are the same, so no address may get the other's
    id (README: when two candidates fit, the tool refuses to guess and says so)."""
    t0 = datetime(2014, 5, 6, 9, 0, 0)
    a = Act("john.smith@corp.example", 101, "Smith, John", t0)
    b = Act(
        "john.smith@branch.example",
        102,
        "Smith, John",
        t0 + timedelta(seconds=2),
        key_tid="1500",
        etp_tid="1AF0",
        books_tid="1AB0",
    )
    write_tree(tmp_path, SRV_A, merged(a.parts(), b.parts()))
    code, rep, _ = scan(tmp_path)
    assert code == 0
    pairs = {(x["email"], x["user_id"]) for x in rep["activations"]}
    assert ("john.smith@corp.example", 102) not in pairs
    assert ("john.smith@branch.example", 101) not in pairs
    assert rep["notes"]
    assert {x["status"] for x in rep["activations"] if x["user_id"] in (101, 102)} == {"complete"}


def test_same_user_id_on_two_servers_is_two_activations(tmp_path: Path) -> None:
    """UserId=2573 on each server is a different person (each BES has its own database)."""
    t0 = datetime(2014, 8, 19, 14, 0, 0)
    a = Act("ian.dundas@corp.example", 2573, "Dundas, Ian", t0)
    b = Act("eva.berg@corp.example", 2573, "Berg, Eva", t0 + timedelta(seconds=3), upto="policy")
    write_tree(tmp_path / "lon", SRV_A, merged(a.parts(), {"MAGT": mailflow(t0, t0 + timedelta(minutes=20))}))
    write_tree(tmp_path / "nyc", SRV_B, merged(b.parts(), {"MAGT": mailflow(t0, t0 + timedelta(hours=1))}))
    code, rep, _ = scan(tmp_path)
    assert code == 1
    assert rows(rep) == [
        (SRV_A, "ian.dundas@corp.example", 2573, "Dundas, Ian", "complete", 4, None),
        (SRV_B, "eva.berg@corp.example", 2573, None, "stalled", 3, "KB13847"),
    ]


def test_one_user_activating_on_two_servers_at_the_same_time(tmp_path: Path) -> None:
    """The same address on two servers within the same seconds (a migration test): one activation
    per server, each with that server's id and its own verdict."""
    t0 = datetime(2014, 8, 19, 14, 0, 0)
    a = Act("ian.dundas@corp.example", 2573, "Dundas, Ian", t0)
    b = Act("ian.dundas@corp.example", 88, "Dundas, Ian", t0 + timedelta(seconds=1), upto="books")
    write_tree(tmp_path / "lon", SRV_A, merged(a.parts(), {"MAGT": mailflow(t0, t0 + timedelta(minutes=20))}))
    write_tree(tmp_path / "nyc", SRV_B, merged(b.parts(), {"MAGT": mailflow(t0, t0 + timedelta(minutes=50))}))
    code, rep, _ = scan(tmp_path)
    assert code == 1
    assert rows(rep) == [
        (SRV_A, "ian.dundas@corp.example", 2573, "Dundas, Ian", "complete", 4, None),
        (SRV_B, "ian.dundas@corp.example", None, None, "stalled", 3, "KB03410"),
    ]
    assert find(rep, server=SRV_B)["attempts"] == []
    assert rep["log_end"][SRV_A].startswith("2014-08-19T14:19")
    assert rep["log_end"][SRV_B].startswith("2014-08-19T14:49")


# ---------------------------------------------------------------------------------------------
# 2. retries: midnight, New Year, after completion, hours after a stall
# ---------------------------------------------------------------------------------------------

RUTH = ("ruth.okafor@corp.example", 4410, "Okafor, Ruth")


def test_retry_across_midnight_in_day_folders(tmp_path: Path) -> None:
    first = Act(*RUTH, datetime(2016, 3, 14, 23, 40, 0), upto="key")
    second = Act(*RUTH, datetime(2016, 3, 15, 0, 25, 0))
    parts = merged(
        first.parts(),
        second.parts(),
        {"MAGT": mailflow(datetime(2016, 3, 14, 23, 30), datetime(2016, 3, 15, 0, 50), step=60)},
    )
    write_tree(tmp_path, SRV_A, parts)
    assert (tmp_path / "20160315").is_dir() and (tmp_path / "20160314").is_dir()
    code, rep, _ = scan(tmp_path)
    assert code == 0
    assert rows(rep) == [(SRV_A, *RUTH, "complete", 4, None)]
    a = rep["activations"][0]
    assert a["started"].startswith("2016-03-15T00:25")
    assert tries(a) == [("stalled", 2, "KB13843")]
    assert a["attempts"][0]["started"].startswith("2016-03-14T23:40")


def _new_year_retry() -> Parts:
    first = Act(*RUTH, datetime(2015, 12, 31, 23, 48, 0), upto="etp")
    second = Act(*RUTH, datetime(2016, 1, 1, 0, 20, 0))
    return merged(
        first.parts(),
        second.parts(),
        {"MAGT": mailflow(datetime(2015, 12, 31, 23, 40), datetime(2016, 1, 1, 0, 40), step=45)},
    )


def _check_new_year_retry(rep: dict) -> None:  # type: ignore[type-arg]
    assert rows(rep) == [(SRV_A, *RUTH, "complete", 4, None)]
    a = rep["activations"][0]
    assert a["started"].startswith("2016-01-01T00:20")
    assert a["completed"].startswith("2016-01-01T00:34")
    assert tries(a) == [("stalled", 1, "KB13840")]
    assert a["attempts"][0]["started"].startswith("2015-12-31T23:48")


def test_retry_across_new_year_in_one_file(tmp_path: Path) -> None:
    """Every service's 12/31 file runs on past midnight (no restart): 12/31 -> 01/01 inside the file."""
    day = datetime(2015, 12, 31)
    for svc, items in _new_year_retry().items():
        put(tmp_path / "20151231" / bes_name(SRV_A, svc, day), sorted_lines(items))
    code, rep, _ = scan(tmp_path)
    assert code == 0
    _check_new_year_retry(rep)
    assert rep["log_end"][SRV_A].startswith("2016-01-01T00:3")


def test_retry_across_new_year_in_day_folders(tmp_path: Path) -> None:
    write_tree(tmp_path, SRV_A, _new_year_retry())
    assert (tmp_path / "20160101" / bes_name(SRV_A, "SYNC", datetime(2016, 1, 1))).exists()
    code, rep, _ = scan(tmp_path)
    assert code == 0
    _check_new_year_retry(rep)


def test_retry_after_a_completed_activation(tmp_path: Path) -> None:
    """A new device the next afternoon: a second attempt, now in slow sync; the first stays complete."""
    first = Act(*RUTH, datetime(2016, 6, 1, 9, 0, 0))
    second = Act(*RUTH, datetime(2016, 6, 2, 15, 0, 0), upto="data", key_tid="2208")
    end = second.last() + timedelta(minutes=10)
    parts = merged(
        first.parts(), second.parts(), {"DISP": [(end, rec(end, "Total Msgs Pending 0", "9C4", eid="30000"))]}
    )
    write_tree(tmp_path, SRV_A, parts)
    code, rep, _ = scan(tmp_path)
    assert code == 0
    assert rows(rep) == [(SRV_A, *RUTH, "in_progress", 4, None)]
    a = rep["activations"][0]
    assert a["started"].startswith("2016-06-02T15:00") and a["completed"] is None
    assert tries(a) == [("complete", 4, None)]
    assert a["attempts"][0]["completed"].startswith("2016-06-01T09:14")


def test_retry_hours_after_a_stall_in_slow_sync(tmp_path: Path) -> None:
    first = Act(*RUTH, datetime(2016, 6, 1, 8, 0, 0), upto="data")
    second = Act(*RUTH, datetime(2016, 6, 1, 13, 30, 0))
    parts = merged(
        first.parts(),
        second.parts(),
        {"MAGT": mailflow(datetime(2016, 6, 1, 8, 0), datetime(2016, 6, 1, 14, 0), step=120)},
    )
    write_tree(tmp_path, SRV_A, parts)
    code, rep, _ = scan(tmp_path)
    assert code == 0
    assert rows(rep) == [(SRV_A, *RUTH, "complete", 4, None)]
    a = rep["activations"][0]
    assert tries(a) == [("stalled", 4, "KB13461")]
    assert a["attempts"][0]["started"].startswith("2016-06-01T08:00")
    assert a["started"].startswith("2016-06-01T13:30")


# ---------------------------------------------------------------------------------------------
# 3. Messaging Agent instances and restarts
# ---------------------------------------------------------------------------------------------

KIM = ("kim.tran@corp.example", 5120, "Tran, Kim")


def test_user_moved_between_magt_instances_and_thread_ids_clash(tmp_path: Path) -> None:
    """The ETP.DAT pickup is in MAGT_01; the user was then moved to agent 2, where the key, KEY_ACCEPT
    and the service-book request are logged.  Agent 1 happens to use thread 0x14D4 for another
    user's mail in the same second: KEY_ACCEPT in MAGT_02 still belongs to the user last named on
    its thread *in agent 2* (threads belong to a process)."""
    t0 = datetime(2017, 2, 8, 11, 0, 0)
    act = Act(*KIM, t0)
    day = datetime(2017, 2, 8)
    folder = tmp_path / "20170208"
    by = {s: act.line(s) for s in act.keep}
    other = "li.wei@corp.example"
    magt1 = [
        by["etp"][2],
        rec(act.at(1.2), "New mail has arrived, EntryId=812211", "14D4", other, "30085"),
        rec(act.at(1.3), "Sending message to device, RefId=1, size=4000", "14D4", other),
    ]
    magt2 = [by["key"][2], by["accept"][2], by["books"][2], by["cical"][2]]
    put(folder / bes_name(SRV_A, "MAGT", day, inst=1), magt1)
    put(folder / bes_name(SRV_A, "MAGT", day, inst=2), magt2)
    put(folder / bes_name(SRV_A, "POLC", day), [by["policy"][2]])
    put(folder / bes_name(SRV_A, "SYNC", day), [by["getconfig"][2], by["data"][2], by["complete"][2]])
    code, rep, _ = scan(tmp_path)
    assert code == 0
    assert rows(rep) == [(SRV_A, *KIM, "complete", 4, None)]
    ms = [m["milestone"] for m in rep["activations"][0]["milestones"]]
    assert "key_accept_sent" in ms


def test_restarts_0001_0002_0003_in_the_middle_of_an_activation(tmp_path: Path) -> None:
    """The Messaging Agent restarts twice the same day while one user activates; each iteration
    starts with its start-up lines (Current Date) and other threads."""
    t0 = datetime(2017, 2, 8, 11, 0, 0)
    act = Act(*KIM, t0, stretch=20.0)  # the steps 20x slower: ETP 11:00:00, key 11:00:20, books 11:02:20
    day = datetime(2017, 2, 8)
    folder = tmp_path / "20170208"
    by = {s: act.line(s) for s in act.keep}

    def start(t: datetime) -> list[str]:
        return [
            rec(t, "BlackBerry Messaging Agent BBX_LON_01 Agent 1 starting", "A10", eid="50000"),
            rec(t, "Current Date: 2017/02/08", "A10", eid="30000"),
        ]

    put(folder / bes_name(SRV_A, "MAGT", day, it=1), [*start(t0 - timedelta(hours=2)), by["etp"][2]])
    put(folder / bes_name(SRV_A, "MAGT", day, it=2), [*start(act.at(0.5)), by["key"][2], by["accept"][2]])
    put(folder / bes_name(SRV_A, "MAGT", day, it=3), [*start(act.at(5)), by["books"][2], by["cical"][2]])
    put(folder / bes_name(SRV_A, "POLC", day), [by["policy"][2]])
    put(folder / bes_name(SRV_A, "SYNC", day), [by["getconfig"][2], by["data"][2], by["complete"][2]])
    code, rep, _ = scan(tmp_path)
    assert code == 0
    assert rows(rep) == [(SRV_A, *KIM, "complete", 4, None)]
    a = rep["activations"][0]
    assert a["attempts"] == []
    assert [m["milestone"] for m in a["milestones"]][:4] == [
        "etp_received",
        "key_generated",
        "key_accept_sent",
        "service_books_requested",
    ]


# ---------------------------------------------------------------------------------------------
# 4. file order on the command line; files without BES names
# ---------------------------------------------------------------------------------------------


def test_files_given_in_reverse_order_give_the_same_report(tmp_path: Path) -> None:
    paths = write_tree(tmp_path, SRV_A, _new_year_retry())
    forward = sorted(paths)
    code1, rep1, _ = scan(*forward)
    code2, rep2, _ = scan(*reversed(forward))
    assert code1 == code2 == 0
    _check_new_year_retry(rep1)
    _check_new_year_retry(rep2)
    strip = ("evidence", "milestones", "errors", "attempts", "joins")
    assert [{k: v for k, v in a.items() if k not in strip} for a in rep1["activations"]] == [
        {k: v for k, v in a.items() if k not in strip} for a in rep2["activations"]
    ]


def _unnamed(act: Act) -> dict[str, list[str]]:
    p = act.parts()
    return {
        "agent.log": sorted_lines(p["MAGT"]),
        "policy-service.txt": sorted_lines(p["POLC"]),
        "sync export.txt": sorted_lines(p["SYNC"]),
    }


def test_unnamed_files_in_a_day_folder(tmp_path: Path) -> None:
    act = Act(*KIM, datetime(2012, 7, 30, 16, 0, 0))
    for name, lines in _unnamed(act).items():
        put(tmp_path / "ticket" / "20120730" / name, lines)
    code, rep, _ = scan(tmp_path / "ticket")
    assert code == 0
    assert rows(rep) == [(None, *KIM, "complete", 4, None)]
    a = rep["activations"][0]
    assert a["started"].startswith("2012-07-30T16:00") and a["completed"].startswith("2012-07-30T16:14")
    services = {m["milestone"]: m["service"] for m in a["milestones"]}
    assert (services["etp_received"], services["itpolicy_queued"], services["slowsync_complete"]) == (
        "MAGT",
        "POLC",
        "SYNC",
    )


def test_unnamed_files_dated_by_current_date_lines(tmp_path: Path) -> None:
    act = Act(*KIM, datetime(2012, 7, 30, 16, 0, 0))
    for name, lines in _unnamed(act).items():
        put(
            tmp_path / name,
            [rec(datetime(2012, 7, 30, 0, 0, 5), "Current Date: 2012/07/30", "9C4", eid="30000"), *lines],
        )
    code, rep, _ = scan(tmp_path)
    assert code == 0
    assert rows(rep) == [(None, *KIM, "complete", 4, None)]
    assert rep["activations"][0]["started"].startswith("2012-07-30T16:00")


# ---------------------------------------------------------------------------------------------
# 5. odd lines: spacing, tabs, trailing blanks, long and wrapped lines, a BOM mid-file
# ---------------------------------------------------------------------------------------------


def _respace(line: str) -> str:
    """Tabs and doubled blanks between header fields, trailing blanks and a tab at the end."""
    line = line.replace("] (", "]\t(", 1).replace("):{", ")  :{", 1).replace("} {", "}\t {", 1)
    return line + "   \t"


def test_tabs_double_blanks_and_trailing_whitespace(tmp_path: Path) -> None:
    act = Act(*KIM, datetime(2013, 10, 2, 10, 0, 0))
    parts = {s: [(t, _respace(x)) for t, x in items] for s, items in act.parts().items()}
    write_tree(tmp_path, SRV_A, parts)
    assert "\t" in (tmp_path / "20131002" / bes_name(SRV_A, "SYNC", datetime(2013, 10, 2))).read_text()
    code, rep, _ = scan(tmp_path)
    assert code == 0
    assert rows(rep) == [(SRV_A, *KIM, "complete", 4, None)]
    assert len(rep["activations"][0]["milestones"]) == 9
    assert rep["inputs"]["unparsed"] == 0


def test_very_long_mail_flow_lines_around_an_activation(tmp_path: Path) -> None:
    """Lines of 40 KB and 300 KB (longer than one read block) next to every milestone line."""
    t0 = datetime(2013, 10, 2, 10, 0, 0)
    act = Act(*KIM, t0, upto="books")
    rcpts = ";".join(f"user{i:05d}@corp.example" for i in range(1500))
    magt: list[str] = []
    for i, x in enumerate(sorted_lines(act.parts()["MAGT"])):
        t = t0 + timedelta(seconds=i * 0.2)
        size = 300_000 if i % 2 else 40_000
        magt.append(
            rec(
                t,
                f"Sending message to device, RefId={i}, To={rcpts}, Body=" + "x" * size,
                "1C30",
                "li.wei@corp.example",
            )
        )
        magt.append(x)
    day = datetime(2013, 10, 2)
    put(tmp_path / bes_name(SRV_A, "MAGT", day), magt)
    code, rep, _ = scan(tmp_path)
    assert code == 0
    assert rep["inputs"]["files_skipped"] == 0
    assert rows(rep) == [(SRV_A, KIM[0], None, None, "in_progress", 3, None)]
    assert [m["milestone"] for m in rep["activations"][0]["milestones"]] == [
        "etp_received",
        "key_generated",
        "key_accept_sent",
        "service_books_requested",
    ]


def test_wrapped_noise_lines_are_harmless(tmp_path: Path) -> None:
    """Mail-flow lines wrapped onto continuation lines (no header) between milestone lines; the
    continuations quote words that also occur in milestones."""
    t0 = datetime(2013, 10, 2, 10, 0, 0)
    act = Act(*KIM, t0)
    parts = act.parts()
    out: dict[str, list[str]] = {}
    for svc, items in parts.items():
        lines: list[str] = []
        for t, x in sorted(items):
            lines.append(
                rec(
                    t,
                    "MAPIMailbox::SubmitMessage - message queued, Subject=Weekly report,",
                    "1C30",
                    "omar.farouk@corp.example",
                )
            )
            lines.append("    continued: Generating delivery receipt for the device, see EntryId=4")
            lines.append("\tand GetConfig of the printer; Queuing DATA to device, size=4096")
            lines.append(x)
        out[svc] = lines
    day = datetime(2013, 10, 2)
    for svc, lines in out.items():
        put(tmp_path / "20131002" / bes_name(SRV_A, svc, day), lines)
    code, rep, _ = scan(tmp_path)
    assert code == 0
    assert rows(rep) == [(SRV_A, *KIM, "complete", 4, None)]
    assert len(rep["activations"][0]["milestones"]) == 9


def test_bom_in_the_middle_of_a_concatenated_file(tmp_path: Path) -> None:
    """``copy /b MAGT_0001.txt + MAGT_0002.txt``: each part had its own UTF-8 BOM, so the second
    one sits at the start of a line in the middle of the file, right in front of a milestone."""
    t0 = datetime(2013, 10, 2, 10, 0, 0)
    act = Act(*KIM, t0)
    magt = sorted_lines(act.parts()["MAGT"])  # etp, key, accept, books, cical
    bom = "\ufeff".encode()
    part1 = "\r\n".join(magt[:1]).encode() + b"\r\n"
    part2 = "\r\n".join(magt[1:]).encode() + b"\r\n"
    day = datetime(2013, 10, 2)
    folder = tmp_path / "20131002"
    folder.mkdir()
    (folder / bes_name(SRV_A, "MAGT", day)).write_bytes(bom + part1 + bom + part2)
    put(folder / bes_name(SRV_A, "POLC", day), sorted_lines(act.parts()["POLC"]), bom=bom)
    put(folder / bes_name(SRV_A, "SYNC", day), sorted_lines(act.parts()["SYNC"]))
    code, rep, _ = scan(tmp_path)
    assert code == 0
    assert rows(rep) == [(SRV_A, *KIM, "complete", 4, None)]
    assert [m["milestone"] for m in rep["activations"][0]["milestones"]][:3] == [
        "etp_received",
        "key_generated",
        "key_accept_sent",
    ]


# ---------------------------------------------------------------------------------------------
# 6. thresholds to the second, long slow syncs, end of logs from other services
# ---------------------------------------------------------------------------------------------

# upto, stage, threshold (README "Stall thresholds", patterns/stages.toml), stall KB (rules.toml)
EDGES = [
    ("etp", 1, timedelta(minutes=15), "KB13840"),
    ("key", 2, timedelta(minutes=15), "KB13843"),
    ("accept", 2, timedelta(minutes=15), "KB13843"),
    ("books", 3, timedelta(minutes=30), "KB03410"),
    ("policy", 3, timedelta(minutes=30), "KB13847"),
    ("getconfig", 4, timedelta(hours=1), "KB03964"),
    ("cical", 4, timedelta(hours=1), "KB10496"),
    ("data", 4, timedelta(hours=1), "KB13461"),
]


@pytest.mark.parametrize("delta", [-1, 0, 1], ids=["1s-under", "exactly", "1s-over"])
@pytest.mark.parametrize(("upto", "stage", "limit", "kb"), EDGES, ids=[e[0] for e in EDGES])
def test_threshold_to_the_second_with_log_end_from_other_services(
    tmp_path: Path, upto: str, stage: int, limit: timedelta, kb: str, delta: int
) -> None:
    """The logs end with a Dispatcher and a Router line; "no progress for longer than the stage's
    threshold" (README) makes exactly-the-threshold still in progress."""
    t0 = datetime(2011, 4, 18, 9, 0, 0)
    act = Act("nadia.haddad@corp.example", 777, "Haddad, Nadia", t0, upto=upto)
    end = act.last() + limit + timedelta(seconds=delta)
    parts = merged(
        act.parts(),
        {
            "MAGT": mailflow(t0 - timedelta(minutes=5), act.last(), step=20),
            "DISP": [
                (
                    end - timedelta(minutes=3),
                    rec(end - timedelta(minutes=3), "Total Msgs Pending 2", "9C4", eid="30000"),
                )
            ],
            "ROUT": [
                (end, rec(end, "Connection to SRP host established, 0 messages queued", "A2C", eid="30000"))
            ],
        },
    )
    write_tree(tmp_path, SRV_A, parts)
    code, rep, _ = scan(tmp_path)
    status = "stalled" if delta > 0 else "in_progress"
    assert code == (1 if status == "stalled" else 0)
    assert len(rep["activations"]) == 1, rows(rep)
    a = rep["activations"][0]
    assert (a["status"], a["stage"], a["kb"]) == (status, stage, kb if status == "stalled" else None)
    assert rep["log_end"][SRV_A] == end.isoformat(timespec="milliseconds") or rep["log_end"][
        SRV_A
    ].startswith(end.strftime("%Y-%m-%dT%H:%M:%S"))


def _long_sync(t0: datetime, hours: int, every: timedelta, *, complete: bool) -> tuple[Parts, datetime]:
    act = Act("pablo.ruiz@corp.example", 321, "Ruiz, Pablo", t0, upto="getconfig")
    parts = act.parts()
    t = act.last()
    stop = t0 + timedelta(hours=hours)
    n = 0
    while True:
        t += every
        if t > stop:
            break
        kind = ("CalendarData", "ContactsData", "TasksData", "MemosData")[n % 4]
        parts["SYNC"].append(
            (
                t,
                rec(
                    t,
                    f'[SYNC-DSession] Received "{kind}" command from device. [Ruiz, Pablo:321]',
                    "1294",
                    eid="46047",
                ),
            )
        )
        n += 1
    last = t - every
    if complete:
        done = last + timedelta(minutes=2)
        parts["SYNC"].append(
            (
                done,
                rec(done, "[SYNC-DSession] *** SLOWSYNC COMPLETE *** [Ruiz, Pablo:321]", "12AC", eid="36023"),
            )
        )
        last = done
    return parts, last


@pytest.mark.parametrize("every", [20, 55], ids=["every-20min", "every-55min"])
@pytest.mark.parametrize("complete", [False, True], ids=["running", "complete"])
def test_slow_sync_of_five_hours_with_steady_progress(tmp_path: Path, every: int, complete: bool) -> None:
    t0 = datetime(2011, 4, 18, 9, 0, 0)
    parts, last = _long_sync(t0, 5, timedelta(minutes=every), complete=complete)
    end = last + timedelta(minutes=40)
    parts["CTRL"] = [
        (
            end,
            rec(
                end,
                "Performing system health check (BlackBerry Controller Version 5.0.3.20)",
                "A2C",
                eid="30000",
            ),
        )
    ]
    write_tree(tmp_path, SRV_A, parts)
    code, rep, _ = scan(tmp_path)
    assert code == 0
    assert len(rep["activations"]) == 1, rows(rep)
    a = rep["activations"][0]
    assert (a["status"], a["stage"], a["kb"]) == ("complete" if complete else "in_progress", 4, None)
    assert a["last_progress"].startswith(last.strftime("%Y-%m-%dT%H:%M"))
    assert a["attempts"] == []


def test_slow_sync_that_pauses_over_an_hour_then_moves_again_is_in_progress(tmp_path: Path) -> None:
    """Organizer data moves, pauses 80 minutes (device out of coverage), then moves again until
    ten minutes before the logs end: the last progress is recent, so not stalled (README: stalled =
    no progress for longer than the threshold before the end of the logs)."""
    t0 = datetime(2011, 4, 18, 9, 0, 0)
    act = Act("pablo.ruiz@corp.example", 321, "Ruiz, Pablo", t0, upto="data")  # data at 09:05
    parts = act.parts()
    for minutes in (90, 100, 110):  # 10:30, 10:40, 10:50
        t = t0 + timedelta(minutes=minutes)
        parts["SYNC"].append(
            (
                t,
                rec(
                    t,
                    '[SYNC-DSession] Received "ContactsData" command from device. [Ruiz, Pablo:321]',
                    "1294",
                    eid="46047",
                ),
            )
        )
    end = t0 + timedelta(hours=2)
    parts["CTRL"] = [(end, rec(end, "Performing system health check", "A2C", eid="30000"))]
    write_tree(tmp_path, SRV_A, parts)
    code, rep, _ = scan(tmp_path)
    assert len(rep["activations"]) == 1, rows(rep)
    a = rep["activations"][0]
    assert (a["status"], a["stage"], a["kb"]) == ("in_progress", 4, None)
    assert a["last_progress"].startswith("2011-04-18T10:50")
    assert code == 0


def test_slow_sync_complete_after_a_long_pause_is_complete(tmp_path: Path) -> None:
    """The contrast to the test above: the same 80-minute pause, then SLOWSYNC COMPLETE."""
    t0 = datetime(2011, 4, 18, 9, 0, 0)
    act = Act("pablo.ruiz@corp.example", 321, "Ruiz, Pablo", t0, upto="data")  # data at 09:05
    parts = act.parts()
    t = t0 + timedelta(minutes=90)
    parts["SYNC"].append(
        (t, rec(t, "[SYNC-DSession] *** SLOWSYNC COMPLETE *** [Ruiz, Pablo:321]", "12AC", eid="36023"))
    )
    write_tree(tmp_path, SRV_A, parts)
    code, rep, _ = scan(tmp_path)
    assert code == 0
    assert rows(rep) == [(SRV_A, "pablo.ruiz@corp.example", 321, "Ruiz, Pablo", "complete", 4, None)]
    assert rep["activations"][0]["completed"].startswith("2011-04-18T10:30")


# ---------------------------------------------------------------------------------------------
# 7. explicit errors: a successful retry wins; other users' errors do not touch an activation
# ---------------------------------------------------------------------------------------------

TOM = ("tomasz.wolski@corp.example", 6060, "Wolski, Tomasz")


@pytest.mark.parametrize("error", ["itpolicy-rejected", "key-reject", "password"])
def test_explicit_error_then_successful_retry_is_complete(tmp_path: Path, error: str) -> None:
    t1 = datetime(2018, 9, 3, 10, 0, 0)
    if error == "itpolicy-rejected":
        first = Act(*TOM, t1, upto="policy")
        e = t1 + timedelta(seconds=30)
        err = {
            "POLC": [
                (
                    e,
                    rec(
                        e,
                        "SCS::ProcessITPolicyResult - IT Policy rejected by device for UserId=6060",
                        "E1C",
                        eid="20000",
                    ),
                )
            ]
        }
        want = ("failed", 3, "KB04533")
    elif error == "key-reject":
        first = Act(*TOM, t1, upto="key")
        e = t1 + timedelta(seconds=2)
        err = {
            "MAGT": [
                (
                    e,
                    rec(
                        e,
                        "*** OTAKEYGEN *** key verification failed, sending KEY_REJECT transID = 9",
                        "14D4",
                        TOM[0],
                        "20000",
                    ),
                )
            ]
        }
        want = ("failed", 2, "KB13843")
    else:
        first = Act(*TOM, t1, upto="etp")
        e = t1 + timedelta(seconds=1)
        err = {
            "MAGT": [
                (
                    e,
                    rec(
                        e,
                        "Enterprise activation: the ETP.DAT message could not be decrypted, "
                        "activation password incorrect",
                        "1AEC",
                        TOM[0],
                        "20000",
                    ),
                )
            ]
        }
        want = ("failed", 1, "KB04829")
    second = Act(*TOM, t1 + timedelta(minutes=45))
    parts = merged(
        first.parts(),
        err,
        second.parts(),
        {"MAGT": mailflow(t1, t1 + timedelta(hours=1, minutes=10), step=60)},
    )
    write_tree(tmp_path, SRV_A, parts)
    code, rep, _ = scan(tmp_path)
    assert code == 0
    assert rows(rep) == [(SRV_A, *TOM, "complete", 4, None)]
    assert tries(rep["activations"][0]) == [want]


def test_other_users_errors_interleaved_with_an_activation(tmp_path: Path) -> None:
    """While Tomasz activates, other users' error lines appear in every service, on other threads:
    his activation stays complete and nothing of theirs lands in it."""
    t0 = datetime(2018, 9, 3, 10, 0, 0)
    act = Act(*TOM, t0)
    parts = act.parts()

    def at(s: float) -> datetime:
        return t0 + timedelta(seconds=s)

    parts["MAGT"] += [
        (at(0.5), rec(at(0.5), "User not started", "1B44", "li.wei@corp.example", "20000")),
        (
            at(3),
            rec(
                at(3),
                "MAPIMailbox::MAPIMailbox - OpenMsgStore (0x8004011d) failed, MailboxDN=/o=Corp/"
                "ou=Exchange/cn=Recipients/cn=ofarouk",
                "21AC",
                "omar.farouk@corp.example",
                "20400",
            ),
        ),
        (
            at(8),
            rec(at(8), "IT Policy Rejected by device, PIN=2A3B4C5D", "1C30", "li.wei@corp.example", "20000"),
        ),
    ]
    parts["POLC"] += [
        (
            at(12),
            rec(
                at(12),
                "SCS::ProcessITPolicyResult - IT policy rejected by device for UserId=9911",
                "E20",
                eid="20000",
            ),
        ),
    ]
    write_tree(tmp_path, SRV_A, parts)
    code, rep, _ = scan(tmp_path)
    tom = find(rep, email=TOM[0])
    assert (tom["user_id"], tom["display_name"], tom["status"], tom["stage"], tom["kb"]) == (
        6060,
        "Wolski, Tomasz",
        "complete",
        4,
        None,
    )
    assert tom["errors"] == [] and tom["attempts"] == []
    assert not any(a["email"] == "omar.farouk@corp.example" for a in rep["activations"])
    assert not any(a["user_id"] == 6060 and a is not tom for a in rep["activations"])


# ---------------------------------------------------------------------------------------------
# 8. noise that quotes milestone text
# ---------------------------------------------------------------------------------------------


def test_mail_subject_quoting_slowsync_complete_does_not_complete_someone_else(tmp_path: Path) -> None:
    """An admin forwards a SYNC excerpt by mail; the Messaging Agent logs the arriving message with
    its subject under the *recipient's* address.  The stalled user must stay stalled, and the
    recipient must not be merged with him (SLOWSYNC COMPLETE is a SYNC line: BES-LOGS.md section 3)."""
    t0 = datetime(2018, 11, 20, 8, 0, 0)
    act = Act("amir.sadeghi@corp.example", 1301, "Sadeghi, Amir", t0, upto="getconfig")
    parts = act.parts()
    t = t0 + timedelta(minutes=30)
    parts["MAGT"] += [
        (
            t,
            rec(
                t,
                'New mail has arrived, EntryId=991, Subject="FW: [SYNC-DSession] *** SLOWSYNC '
                'COMPLETE *** [Sadeghi, Amir:1301]"',
                "1B44",
                "helpdesk@corp.example",
                "30085",
            ),
        )
    ]
    parts["MAGT"] += mailflow(t0, t0 + timedelta(hours=2), step=60)
    write_tree(tmp_path, SRV_A, parts)
    code, rep, _ = scan(tmp_path)
    assert not any(a["email"] == "helpdesk@corp.example" for a in rep["activations"]), rows(rep)
    amir = find(rep, user_id=1301)
    assert (amir["email"], amir["status"], amir["stage"], amir["kb"]) == (
        "amir.sadeghi@corp.example",
        "stalled",
        4,
        "KB03964",
    )
    assert code == 1


def test_mail_body_quoting_generating_key_is_not_an_activation(tmp_path: Path) -> None:
    """A message whose subject quotes the seed's key line, logged under an idle user: no activation
    for that user (the key line without an ETP.DAT pickup is a stage-2 stall out of nowhere)."""
    t0 = datetime(2018, 11, 20, 8, 0, 0)
    act = Act(*TOM, t0)
    parts = act.parts()
    t = t0 + timedelta(minutes=3)
    parts["MAGT"] += [
        (
            t,
            rec(
                t,
                'New mail has arrived, EntryId=992, Subject="why does the log say Generating '
                'AES key (this is based on server setting)?"',
                "1B44",
                "li.wei@corp.example",
                "30085",
            ),
        )
    ]
    parts["MAGT"] += mailflow(t0, t0 + timedelta(hours=1), step=60)
    write_tree(tmp_path, SRV_A, parts)
    code, rep, _ = scan(tmp_path)
    assert rows(rep) == [(SRV_A, *TOM, "complete", 4, None)]
    assert code == 0


def test_current_date_text_in_a_message_does_not_move_the_year(tmp_path: Path) -> None:
    """A BES-named file of 2018: a mail subject with 'Current Date: 2003/01/01' must not put the
    activation that follows into 2003."""
    t0 = datetime(2018, 11, 20, 8, 0, 0)
    act = Act(*TOM, t0)
    parts = act.parts()
    t = t0 - timedelta(minutes=1)
    parts["MAGT"] += [
        (
            t,
            rec(
                t,
                'New mail has arrived, EntryId=993, Subject="Current Date: 2003/01/01 archive"',
                "1B44",
                "li.wei@corp.example",
                "30085",
            ),
        )
    ]
    write_tree(tmp_path, SRV_A, parts)
    code, rep, _ = scan(tmp_path)
    assert code == 0
    assert rows(rep) == [(SRV_A, *TOM, "complete", 4, None)]
    a = rep["activations"][0]
    assert a["started"].startswith("2018-11-20T08:00") and a["completed"].startswith("2018-11-20T08:14")


# ---------------------------------------------------------------------------------------------
# 9. KEY_ACCEPT and the 256 KiB read blocks
# ---------------------------------------------------------------------------------------------


def _key_thread_file(root: Path, accept_at: int) -> Path:
    """A MAGT file whose KEY_ACCEPT line starts at byte ``accept_at``.  On its thread (0x14D4) Kim's
    key line is followed, in the same second, by a line naming another user (li.wei); the lines
    before are other users' mail on other threads."""
    t0 = datetime(2017, 2, 8, 11, 0, 0)
    kim, li = "kim.tran@corp.example", "li.wei@corp.example"
    tail = "".join(
        x + "\r\n"
        for x in (
            rec(t0, "Queuing DATA from network@etp3.eu.blackberry.net, Tag=-5, EntryId=4", "1AEC", kim),
            rec(
                t0 + timedelta(seconds=1),
                "Generating 3DES key (this is based on server setting)",
                "14D4",
                kim,
            ),
            rec(t0 + timedelta(seconds=1.2), "New mail has arrived, EntryId=812211", "14D4", li, "30085"),
        )
    )
    accept = rec(t0 + timedelta(seconds=1.4), "*** OTAKEYGEN *** sending KEY_ACCEPT transID = 77", "14D4")
    lines: list[str] = []
    size, n = len(tail), 0
    t = t0 - timedelta(minutes=30)
    while True:
        x = rec(t, f"New mail has arrived, EntryId={n}", "1C30", "omar.farouk@corp.example", "30085") + "\r\n"
        if size + len(x) > accept_at:
            break
        lines.append(x)
        size, n = size + len(x), n + 1
    lines[-1] = lines[-1][:-2] + " " * (accept_at - size) + "\r\n"
    data = "".join(lines) + tail + accept + "\r\n"
    assert data.index(accept) == accept_at
    return put(root / bes_name(SRV_A, "MAGT", datetime(2017, 2, 8)), [data.removesuffix("\r\n")], nl="\r\n")


def test_key_accept_owner_does_not_depend_on_read_block_boundaries(tmp_path: Path) -> None:
    got = []
    for accept_at in (200_000, 256 * 1024 - 10):  # inside the first block / first line of the second
        root = tmp_path / str(accept_at)
        _key_thread_file(root, accept_at)
        code, rep, _ = scan(root)
        assert code == 0
        got.append(sorted((a["email"], a["status"], a["last_milestone"]) for a in rep["activations"]))
    # BES-LOGS.md section 3: KEY_ACCEPT "belongs to the user last named on the same thread"
    assert got[0] == got[1]
