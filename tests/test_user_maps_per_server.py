"""User maps per server (README "How it decides", Identities; BES-LOGS.md section 3): a user id is
unique only in one BES configuration database, so user id 1002 of one server is another person on
the next.  A map row of one server never joins or names a user of another, whether the map says
its server in a column, is given as ``--users SERVER=FILE``, or is a plain file for every server.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from builders import (
    Parts,
    activation,
    bes_line,
    encode,
    one,
    rows,
    run_cli,
    scan_json,
    write_server,
    write_user_map,
)

A, B = "BBPROD01", "BES_EAST_02"
T0 = datetime(2024, 3, 12, 9, 0, 0)
IAN = ("idundas@example.com", 1002, "Dundas, Ian")
"""Server A's user 1002: an address whose shape says nothing, so only the map joins it."""
JOHN = ("jsmith@example.com", 1002, "Smith, John")
"""Server B's user 1002: another person with the same id, joined on B by the order in time."""


END = T0 + timedelta(hours=6)


def until_end(parts: Parts) -> Parts:
    """The parts with a last line at END in each service's file, so that the server's logs (all
    three of them, SYNC even when no one got that far) run until then."""
    for svc in ("MAGT", "POLC", "SYNC"):
        parts.setdefault(svc, []).append((END, bes_line(END, "Total Msgs Pending 0", tid="A2C", eid=30000)))
    return parts


def two_servers(root: Path, *, john_upto: str = "complete") -> Path:
    """A's logs with Ian's activation, B's with John's (up to ``john_upto``), an hour apart."""
    logs = root / "logs"
    write_server(logs / A, A, until_end(activation(*IAN, T0)))
    write_server(logs / B, B, until_end(activation(*JOHN, T0 + timedelta(hours=1), upto=john_upto)))
    return logs


def map_text(header: str, *lines: str) -> str:
    return "\r\n".join([header, *lines]) + "\r\n"


def details(act: dict[str, Any]) -> list[str]:
    return [j["detail"] for j in act["joins"]]


def kinds(act: dict[str, Any]) -> set[str]:
    return {j["kind"] for j in act["joins"]}


def assert_john_keeps_his_names(rep: dict[str, Any], *, display: str | None = "Smith, John") -> None:
    john = one(rep, server=B)
    assert (john["email"], john["user_id"], john["display_name"]) == ("jsmith@example.com", 1002, display)
    assert not any(IAN[0] in d for d in details(john)), details(john)
    assert kinds(john) == {"time"}


@pytest.mark.parametrize("john_upto", ["complete", "policy"])
def test_a_plain_map_of_one_server_never_names_a_user_of_another(tmp_path: Path, john_upto: str) -> None:
    """The reported case: A's export applied to every server joined B's user 1002 through "user map:
    idundas@...".  On B that row is no evidence: B's logs never saw Ian's address, and (when John
    got to the slow sync) they show 1002 as 'Smith, John'."""
    logs = two_servers(tmp_path, john_upto=john_upto)
    users = write_user_map(tmp_path / "bbprod01.csv", [IAN])
    code, rep, _ = scan_json(logs, "--users", users)
    ian = one(rep, server=A)
    assert (ian["email"], ian["user_id"], ian["display_name"], ian["status"]) == (*IAN, "complete")
    assert details(ian) == ["user map: idundas@example.com, 1002, dundas, ian"]
    assert_john_keeps_his_names(rep, display="Smith, John" if john_upto == "complete" else None)
    assert [a["server"] for a in rep["activations"]] == [A, B]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8-sig", "cp1252"])
@pytest.mark.parametrize("header", ["ServerName", "server", "BlackBerry Server", "BES_Server"])
def test_a_server_column_keeps_each_row_on_its_server(tmp_path: Path, encoding: str, header: str) -> None:
    """One export of a BES domain, a server column (any case; UTF-16 as Windows writes it): each
    row joins on its own server only, so both users 1002 get their own address and name, and
    John's display name comes from his own row."""
    logs = two_servers(tmp_path, john_upto="policy")
    users = tmp_path / "domain.csv"
    users.write_bytes(
        map_text(
            f"MailboxSMTPAddr,UserConfigId,DisplayName,{header}",
            'idundas@example.com,1002,"Dundas, Ian",bbprod01',
            'jsmith@example.com,1002,"Smith, John",Bes_East_02',
        ).encode(encoding)
    )
    code, rep, err = scan_json(logs, "--users", users)
    assert rows(rep) == [
        (A, *IAN, "complete", 4, None),
        (B, *JOHN, "stalled", 3, "KB13847"),
    ]
    assert details(one(rep, server=A)) == ["user map: idundas@example.com, 1002, dundas, ian"]
    assert details(one(rep, server=B)) == ["user map: jsmith@example.com, 1002, smith, john"]
    assert rep["notes"] == []


def test_users_server_equals_file_gives_each_server_its_own_map(tmp_path: Path) -> None:
    logs = two_servers(tmp_path, john_upto="policy")
    a = write_user_map(tmp_path / "prod01.csv", [IAN])
    b = write_user_map(tmp_path / "east.csv", [JOHN])
    code, rep, _ = scan_json(logs, "--users", f"{A}={a}", "--users", f"bes_east_02={b}")
    assert rows(rep) == [
        (A, *IAN, "complete", 4, None),
        (B, *JOHN, "stalled", 3, "KB13847"),
    ]
    assert details(one(rep, server=B)) == ["user map: jsmith@example.com, 1002, smith, john"]
    assert rep["notes"] == []


def test_a_server_given_for_a_map_that_is_not_in_the_logs_gets_a_note(tmp_path: Path) -> None:
    logs = two_servers(tmp_path)
    a = write_user_map(tmp_path / "prod01.csv", [IAN])
    code, rep, err = scan_json(logs, "--users", f"BBPROD1={a}")
    note = (
        f"user map BBPROD1={a}: no matched line comes from server BBPROD1 "
        f"(servers in these logs: {A}, {B}); its rows are not used"
    )
    assert rep["notes"] == [note]
    assert f"bes-logdiag: {note}\n" in err
    assert kinds(one(rep, server=A)) == {"time"}


def test_a_server_column_that_names_no_server_of_the_logs_gets_a_note(tmp_path: Path) -> None:
    logs = two_servers(tmp_path)
    users = tmp_path / "domain.csv"
    users.write_text(
        map_text(
            "email,user_id,display_name,ServerName",
            'idundas@example.com,1002,"Dundas, Ian",bbprod01.corp.example.com',
            'jsmith@example.com,1002,"Smith, John",BBPROD01.corp.example.com',
            'x.y@example.com,7,"Y, X",EAST',
        ),
        encoding="utf-8",
    )
    code, rep, _ = scan_json(logs, "--users", users)
    assert rep["notes"] == [
        f"user map {users}: no matched line comes from server bbprod01.corp.example.com or EAST "
        f"(servers in these logs: {A}, {B}); its rows are not used"
    ]
    assert not any(j["kind"] == "map" for a in rep["activations"] for j in a["joins"])


def test_a_row_for_another_server_in_a_server_equals_file_is_left_out(tmp_path: Path) -> None:
    logs = two_servers(tmp_path, john_upto="policy")
    users = tmp_path / "east.csv"
    users.write_text(
        map_text(
            "MailboxSMTPAddr,UserConfigId,DisplayName,ServerName",
            'jsmith@example.com,1002,"Smith, John",',
            f'idundas@example.com,1002,"Dundas, Ian",{A}',
        ),
        encoding="utf-8",
    )
    code, rep, _ = scan_json(logs, "--users", f"{B}={users}")
    assert rep["notes"] == [
        f"{users}: line 3: the row is for server '{A}', but the file was given as "
        f"--users {B}={users}; row left out"
    ]
    assert kinds(one(rep, server=A)) == {"time"}
    assert rows(rep)[1] == (B, *JOHN, "stalled", 3, "KB13847")


@pytest.mark.parametrize(
    ("row", "why"),
    [
        (("jsmith@example.com", 2002, "Smith, John"), "these logs show 'Smith, John' as user id 1002"),
        (("jsmith@example.com", 1002, "Jones, Mary"), "these logs show user id 1002 as 'Smith, John'"),
    ],
)
def test_a_plain_map_row_the_logs_contradict_is_not_used(
    tmp_path: Path, row: tuple[str, int, str], why: str
) -> None:
    """John's address is on B, but B's own lines say the row is not his (an export of another
    server, where he had another id): the row is refused with a note and the logs decide."""
    logs = two_servers(tmp_path)
    users = write_user_map(tmp_path / "other.csv", [row])
    code, rep, _ = scan_json(logs, "--users", users)
    shown = ", ".join(str(x) for x in row)
    assert rep["notes"] == [f"server {B}: not using user map row {users}:2 ({shown}): {why}"]
    assert_john_keeps_his_names(rep)
    assert kinds(one(rep, server=B)) == {"time"}


def john_and_ian_on_b(root: Path) -> Path:
    """B's logs: John (1002) up to his IT policy, then Ian, whose address only, up to his key."""
    logs = root / "logs"
    parts = activation(*JOHN, T0, upto="policy")
    parts["MAGT"] += activation(
        "idundas@example.com", 1002, "Dundas, Ian", T0 + timedelta(hours=2), upto="key"
    )["MAGT"]
    write_server(logs, B, until_end(parts))
    return logs


def test_two_plain_maps_that_give_one_id_two_addresses_are_both_refused(tmp_path: Path) -> None:
    """Both addresses are on B: which of the two exports is B's, nothing in the logs can say."""
    logs = john_and_ian_on_b(tmp_path)
    a = write_user_map(tmp_path / "a.csv", [IAN])
    b = write_user_map(tmp_path / "b.csv", [JOHN])
    code, rep, _ = scan_json(logs, "--users", a, "--users", b)
    assert rep["notes"] == [
        f"server {B}: not using user map row {a}:2 (idundas@example.com, 1002, Dundas, Ian): the user map "
        "gives user id 1002 to idundas@example.com, jsmith@example.com",
        f"server {B}: not using user map row {b}:2 (jsmith@example.com, 1002, Smith, John): the user map "
        "gives user id 1002 to idundas@example.com, jsmith@example.com",
    ]
    assert one(rep, email="idundas@example.com")["user_id"] is None


def test_a_servers_own_map_that_gives_one_id_two_addresses_merges_no_one(tmp_path: Path) -> None:
    """The same clash in B's own map (``--users B=FILE``): a map gone wrong, not the database
    speaking.  Both rows are refused, and Ian, who only started, is not merged into John."""
    logs = john_and_ian_on_b(tmp_path)
    users = write_user_map(tmp_path / "b.csv", [IAN, JOHN])
    code, rep, _ = scan_json(logs, "--users", f"{B}={users}")
    clash = "the user map gives user id 1002 to idundas@example.com, jsmith@example.com"
    assert rep["notes"] == [
        f"server {B}: not using user map row {B}={users}:2 (idundas@example.com, 1002, Dundas, Ian): {clash}",
        f"server {B}: not using user map row {B}={users}:3 (jsmith@example.com, 1002, Smith, John): {clash}",
    ]
    assert one(rep, email="idundas@example.com")["user_id"] is None
    assert one(rep, email="jsmith@example.com")["user_id"] == 1002


def test_a_servers_own_row_older_than_the_logs_is_refused(tmp_path: Path) -> None:
    """B's own map still has Ian as user 1002; the logs show ``[Dundas, Ian:1005]`` (the user was
    made again) and 1002 nowhere.  The row would give his address an id nobody logs and split his
    activation in two; it is refused with a note, and his names join as without a map."""
    logs = tmp_path / "logs"
    write_server(logs, B, until_end(activation("ian.dundas@example.com", 1005, "Dundas, Ian", T0)))
    users = write_user_map(tmp_path / "b.csv", [("ian.dundas@example.com", 1002, "Dundas, Ian")])
    code, rep, _ = scan_json(logs, "--users", f"{B}={users}")
    assert rep["notes"] == [
        f"server {B}: not using user map row {B}={users}:2 (ian.dundas@example.com, 1002, Dundas, Ian): "
        "these logs show 'Dundas, Ian' as user id 1005, and user id 1002 nowhere"
    ]
    assert rows(rep) == [(B, "ian.dundas@example.com", 1005, "Dundas, Ian", "complete", 4, None)]


def test_an_own_row_whose_id_only_polc_logs_is_not_taken_for_old(tmp_path: Path) -> None:
    """B's map has John Smith as 100; his IT policy is queued (POLC ``UserId=100``) and he goes no
    further, while a namesake reaches SYNC as ``[Smith, John:200]``.  100 is in the logs, on POLC's
    line: the row is used, not refused as older than the logs."""
    logs = tmp_path / "logs"
    parts = activation("jsmith@example.com", 100, "Smith, John", T0, upto="policy")
    later = activation("john.smith2@sub.example.com", 200, "Smith, John", T0 + timedelta(hours=3))
    write_server(
        logs, B, until_end({s: parts.get(s, []) + later.get(s, []) for s in ("MAGT", "POLC", "SYNC")})
    )
    users = write_user_map(tmp_path / "b.csv", [("jsmith@example.com", 100, "Smith, John")])
    code, rep, _ = scan_json(logs, "--users", f"{B}={users}")
    assert not [n for n in rep["notes"] if "not using user map row" in n], rep["notes"]
    assert one(rep, email="jsmith@example.com")["user_id"] == 100


def test_a_plain_map_on_one_server_works_as_before(tmp_path: Path) -> None:
    """One server, one export: the map joins what nothing else would and fills in the names the
    logs lack (a user stalled at stage 1 gets the id and name of their row)."""
    logs = tmp_path / "logs"
    parts = activation(*IAN, T0)
    parts["MAGT"] += activation("kreed@example.com", 1004, "Reed, Tom", T0 + timedelta(hours=1), upto="etp")[
        "MAGT"
    ]
    write_server(logs, A, until_end(parts))
    users = write_user_map(tmp_path / "users.csv", [IAN, ("kreed@example.com", 1004, "Reed, Tom")])
    code, rep, _ = scan_json(logs, "--users", users)
    assert rows(rep) == [
        (A, *IAN, "complete", 4, None),
        (A, "kreed@example.com", 1004, "Reed, Tom", "stalled", 1, "KB13840"),
    ]
    assert details(one(rep, user_id=1004)) == ["user map: kreed@example.com, 1004, reed, tom"]
    assert rep["notes"] == []
    # without the map the order in time still joins Ian, and nothing joins the stalled user
    code, rep, _ = scan_json(logs)
    assert kinds(one(rep, email=IAN[0])) == {"time"}
    assert one(rep, email="kreed@example.com")["user_id"] is None


def test_a_plain_map_rows_id_that_the_logs_never_name_lets_the_order_in_time_find_theirs(
    tmp_path: Path,
) -> None:
    """A map exported on server A (no server column) used for B, where Carol is user 2003: her
    IT policy is queued for 2003 four seconds after her request.  The row's 1003, which B never
    logs, must not stand in the way: she is 2003, waiting for GetConfig, and a note says the map
    disagrees.  (Before, she was 1003, 'the Policy Service never queued', and 2003 was no one's.)"""
    carol = ("ccole@example.com", 2003, "Cole, Carol")
    logs = tmp_path / "logs"
    write_server(logs / B, B, until_end(activation(*carol, T0, upto="policy")))
    users = write_user_map(tmp_path / "users.csv", [("ccole@example.com", 1003, "Cole, Carol")])
    _, rep, _ = scan_json(logs, "--users", users)
    act = one(rep, email="ccole@example.com")
    assert (act["user_id"], act["status"], act["stage"], act["kb"]) == (2003, "stalled", 3, "KB13847")
    assert rep["unattached"] == []
    assert any(
        "gives ccole@example.com UserId=1003, which these logs never name" in n and "UserId=2003" in n
        for n in rep["notes"]
    ), rep["notes"]


def test_the_timeline_takes_per_server_maps(tmp_path: Path) -> None:
    logs = two_servers(tmp_path, john_upto="policy")
    a = write_user_map(tmp_path / "prod01.csv", [IAN])
    result = run_cli("timeline", "1002", logs, "--users", f"{A}={a}", "--format", "json", "-j", "1")
    assert result.exit_code == 0, result.stderr
    acts = json.loads(result.stdout)["activations"]
    assert [(x["server"], x["email"]) for x in acts] == [(A, IAN[0]), (B, JOHN[0])]


def test_a_file_whose_name_holds_an_equals_sign_is_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    logs = two_servers(tmp_path)
    monkeypatch.chdir(tmp_path)
    write_user_map(tmp_path / f"{B}=old.csv", [IAN])
    code, rep, _ = scan_json(logs, "--users", f"{B}=old.csv")
    assert details(one(rep, server=A)) == ["user map: idundas@example.com, 1002, dundas, ian"]
    assert rep["notes"] == []


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "BBPROD01=missing.csv",
            "BBPROD01=missing.csv: no such file missing.csv (the user map of server BBPROD01)",
        ),
        ("BBPROD01=", "'BBPROD01=': give the user map file after '=' (BBPROD01=users.csv)"),
        ("C:\\maps\\a=b.csv", "C:\\maps\\a=b.csv: no such file"),
        ("maps/a=b.csv", "maps/a=b.csv: no such file"),
    ],
)
def test_a_missing_map_file_is_a_usage_error(tmp_path: Path, value: str, message: str) -> None:
    logs = two_servers(tmp_path)
    result = run_cli("scan", logs, "--users", value)
    assert result.exit_code == 2
    assert message in " ".join(result.stderr.split()), result.stderr
    assert "--users" in result.stderr


def test_utf16_map_without_bom_and_with_a_server_column(tmp_path: Path) -> None:
    logs = two_servers(tmp_path, john_upto="policy")
    users = tmp_path / "east.csv"
    text = map_text(
        "DisplayName,Server Name,MailboxSMTPAddr,UserId", f'"Smith, John",{B},jsmith@example.com,1002'
    )
    users.write_bytes(encode(text, "utf-16-le"))
    code, rep, _ = scan_json(logs, "--users", users)
    assert rows(rep)[1] == (B, *JOHN, "stalled", 3, "KB13847")
    assert kinds(one(rep, server=A)) == {"time"}


@pytest.mark.parametrize("stalled_first", [True, False])
def test_a_user_who_went_on_on_another_server_is_noted(tmp_path: Path, stalled_first: bool) -> None:
    """Ian stalls on A, then activates on B an hour later (moved to another BES): each server
    keeps its verdict, and a note says A's stall may be left behind.  Done on A first and stalled
    on B later is no such case: B's stall is the news."""
    logs = tmp_path / "logs"
    early, late = ("etp", "complete") if stalled_first else ("complete", "etp")
    write_server(logs / A, A, until_end(activation(*IAN, T0, upto=early)))
    write_server(logs / B, B, until_end(activation(*IAN, T0 + timedelta(hours=1), upto=late)))
    _, rep, _ = scan_json(logs)
    statuses = ("stalled", "complete") if stalled_first else ("complete", "stalled")
    assert sorted((r[0], r[4]) for r in rows(rep)) == list(zip((A, B), statuses))
    said = [n for n in rep["notes"] if "moved servers" in n]
    assert said == (
        [
            f"{IAN[0]}: stalled on {A} (from 2024-03-12 09:00), then an activation on {B} from "
            f"2024-03-12 10:00 (complete): a user who moved servers may have left {A}'s problem behind"
        ]
        if stalled_first
        else []
    )
