"""Encodings and containers (BES-LOGS.md section 1): CRLF or LF, UTF-8 with or without BOM, UTF-16,
cp1252, a BOM inside a concatenated file, gzip, zip with or without day folders, stdin; the same
logs given twice count once.
"""

from __future__ import annotations

import gzip
import shutil
import zipfile
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from builders import (
    BUSY_SERVERS,
    EU1,
    JOERG,
    KIM,
    LON,
    LON_SITE,
    Activation,
    BusyDay,
    activation,
    bes_name,
    busy_rel_path,
    mail_flow,
    merge,
    q_seed_mix,
    rows,
    run_json,
    scan_json,
    time_ordered,
    unattached_users,
    verdict_rows,
    write_lines,
    write_server,
)

CONTAINERS = ["crlf", "lf", "cp1252", "utf-8-sig", "utf-16-le-bom", "gz", "zip-day-folder", "zip-flat"]


@pytest.mark.parametrize("how", CONTAINERS)
def test_encodings_and_containers(tmp_path: Path, how: str) -> None:
    t0 = datetime(2019, 6, 14, 9, 30, 0)
    parts = merge(
        activation(*JOERG, t0), {"MAGT": mail_flow(t0 - timedelta(minutes=5), t0 + timedelta(minutes=20))}
    )
    src = tmp_path / "src"
    if how == "lf":
        paths = write_server(src, EU1, parts, newline="\n")
    elif how == "cp1252":
        paths = write_server(src, EU1, parts, encoding=dict.fromkeys(parts, "cp1252"))
    elif how == "utf-8-sig":
        paths = write_server(src, EU1, parts, encoding=dict.fromkeys(parts, "utf-8-sig"))
    elif how == "utf-16-le-bom":
        paths = write_server(src, EU1, parts, encoding=dict.fromkeys(parts, "utf-16-le"))
        for p in paths:
            p.write_bytes(b"\xff\xfe" + p.read_bytes())
    else:
        paths = write_server(src, EU1, parts)
    target = src
    if how == "gz":
        for p in paths:
            gz = p.with_name(p.name + ".gz")
            gz.write_bytes(gzip.compress(p.read_bytes()))
            p.unlink()
        assert all(p.suffix == ".gz" for p in src.rglob("*") if p.is_file())
    elif how.startswith("zip"):
        target = tmp_path / f"{EU1}_logs.zip"
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as z:
            for p in paths:
                z.write(p, str(p.relative_to(src)) if how == "zip-day-folder" else p.name)
    code, rep, _ = scan_json(target)
    assert code == 0
    assert rows(rep) == [(EU1, *JOERG, "complete", 4, None)]
    assert rep["activations"][0]["started"].startswith("2019-06-14T09:30")
    assert rep["inputs"]["files_skipped"] == 0


def test_utf16_file_without_bom_and_mixed_encodings_in_one_tree(tmp_path: Path) -> None:
    t0 = datetime(2019, 6, 14, 9, 30, 0)
    write_server(
        tmp_path,
        EU1,
        activation(*JOERG, t0),
        encoding={"MAGT": "utf-8-sig", "POLC": "utf-16-le", "SYNC": "cp1252"},
    )
    code, rep, _ = scan_json(tmp_path)
    assert code == 0
    assert rows(rep) == [(EU1, *JOERG, "complete", 4, None)]


@pytest.mark.parametrize("enc", ["cp1252", "utf-16-le-bom", "utf-8-sig"])
def test_pasted_quirks_inside_non_utf8_files(tmp_path: Path, enc: str) -> None:
    """en dash (0x96), curly quotes (0x93/0x94) and × (0xD7) as cp1252 bytes, or in UTF-16."""
    t0 = datetime(2019, 6, 14, 9, 30, 0, 125000)
    parts = {s: [(t, q_seed_mix(x)) for t, x in items] for s, items in activation(*JOERG, t0).items()}
    codec = "utf-16-le" if enc == "utf-16-le-bom" else enc
    paths = write_server(tmp_path, EU1, parts, encoding=dict.fromkeys(parts, codec))
    if enc == "utf-16-le-bom":
        for p in paths:
            p.write_bytes(b"\xff\xfe" + p.read_bytes())
    else:
        assert (
            b"\x96" in (tmp_path / "20190614" / bes_name(EU1, "POLC", datetime(2019, 6, 14))).read_bytes()
            or enc != "cp1252"
        )
    code, rep, _ = scan_json(tmp_path)
    assert code == 0
    assert rows(rep) == [(EU1, *JOERG, "complete", 4, None)]
    assert len(rep["activations"][0]["milestones"]) == 9


def test_bom_in_the_middle_of_a_concatenated_file(tmp_path: Path) -> None:
    """``copy /b MAGT_0001.txt + MAGT_0002.txt``: each part had its own UTF-8 BOM, so the second
    one sits at the start of a line in the middle of the file, right in front of a milestone."""
    t0 = datetime(2013, 10, 2, 10, 0, 0)
    act = Activation(*KIM, t0, site=LON_SITE)
    magt = time_ordered(act.parts()["MAGT"])  # etp, key, accept, books, cical
    bom = "\ufeff".encode()
    part1 = "\r\n".join(magt[:1]).encode() + b"\r\n"
    part2 = "\r\n".join(magt[1:]).encode() + b"\r\n"
    day = datetime(2013, 10, 2)
    folder = tmp_path / "20131002"
    folder.mkdir()
    (folder / bes_name(LON, "MAGT", day)).write_bytes(bom + part1 + bom + part2)
    write_lines(folder / bes_name(LON, "POLC", day), time_ordered(act.parts()["POLC"]), bom=bom)
    write_lines(folder / bes_name(LON, "SYNC", day), time_ordered(act.parts()["SYNC"]))
    code, rep, _ = scan_json(tmp_path)
    assert code == 0
    assert rows(rep) == [(LON, *KIM, "complete", 4, None)]
    assert [m["milestone"] for m in rep["activations"][0]["milestones"]][:3] == [
        "etp_received",
        "key_generated",
        "key_accept_sent",
    ]


def test_same_logs_plain_and_zipped_count_once(tmp_path: Path) -> None:
    paths = write_server(
        tmp_path / "plain", EU1, activation(*JOERG, datetime(2019, 6, 14, 9, 30), upto="books")
    )
    with zipfile.ZipFile(tmp_path / "copy.zip", "w") as z:
        for p in paths:
            z.write(p, str(p.relative_to(tmp_path / "plain")))
    code, rep, _ = scan_json(tmp_path)
    assert code == 0
    assert rows(rep) == [(EU1, JOERG[0], None, None, "in_progress", 3, None)]
    a = rep["activations"][0]
    assert (len(a["milestones"]), a["attempts"]) == (4, [])


def _zip_tree(src: Path, dest: Path, under: str = "") -> Path:
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as z:
        for p in sorted(src.rglob("*.txt")):
            z.write(p, under + str(p.relative_to(src)).replace("\\", "/"))
    return dest


def test_zip_gz_and_mixed_give_the_same_verdicts(
    busy_world: BusyDay,
    busy_logs: Path,
    busy_maps: tuple[Path, Path],
    busy_report: tuple[int, dict, str],
    tmp_path: Path,
) -> None:  # type: ignore[type-arg]
    want = verdict_rows(busy_report[1])
    # one zip of the whole tree
    z = _zip_tree(busy_logs, tmp_path / "captured.zip")
    _, rz, _ = run_json("scan", z, "--users", busy_maps[0])
    assert verdict_rows(rz) == want
    # every file gzipped
    gz = tmp_path / "gz"
    for p in busy_logs.rglob("*.txt"):
        q = gz / p.relative_to(busy_logs)
        q.parent.mkdir(parents=True, exist_ok=True)
        q.with_name(q.name + ".gz").write_bytes(gzip.compress(p.read_bytes()))
    _, rg, _ = run_json("scan", gz, "--users", busy_maps[0])
    assert verdict_rows(rg) == want
    # a mix: server 1 plain, server 2 gzipped, server 3 zipped, in one ticket folder
    mix = tmp_path / "mix"
    shutil.copytree(busy_logs / BUSY_SERVERS[0], mix / BUSY_SERVERS[0])
    shutil.copytree(gz / BUSY_SERVERS[1], mix / BUSY_SERVERS[1])
    _zip_tree(busy_logs / BUSY_SERVERS[2], mix / f"{BUSY_SERVERS[2]}_logs.zip", under=f"{BUSY_SERVERS[2]}/")
    _, rm, _ = run_json("scan", mix, "--users", busy_maps[0])
    assert verdict_rows(rm) == want
    for r in (rz, rg, rm):
        assert r["inputs"]["lines"] == busy_report[1]["inputs"]["lines"]
        assert r["inputs"]["matched"] == busy_report[1]["inputs"]["matched"]
        assert r["inputs"]["files_read"] == busy_report[1]["inputs"]["files_read"]
        assert r["log_end"] == busy_report[1]["log_end"]
        assert len(unattached_users(r)) == len(unattached_users(busy_report[1]))


def test_stdin_of_one_messaging_agent_file_matches_that_file(
    busy_world: BusyDay, busy_logs: Path, tmp_path: Path
) -> None:
    """`scan - --year 2024` on one server's MAGT file gives the verdicts the file itself gives (same
    information: no POLC, no SYNC), with no server name; also gzipped through the pipe."""
    key = (BUSY_SERVERS[0], "MAGT", 2, 1)
    f = busy_logs / busy_rel_path(key)
    _, rf, _ = run_json("scan", f)
    _, rs, _ = run_json("scan", "-", "--year", "2024", input=f.read_bytes())
    _, rsz, _ = run_json("scan", "-", "--year", "2024", input=gzip.compress(f.read_bytes()))

    def strip(rows: list[tuple]) -> list[tuple]:  # type: ignore[type-arg]
        return [r[1:] for r in rows]

    assert [r[0] for r in verdict_rows(rs)] == [None] * len(rs["activations"])
    assert strip(verdict_rows(rs)) == strip(verdict_rows(rf))
    assert strip(verdict_rows(rsz)) == strip(verdict_rows(rf))
    assert list(rs["log_end"].values()) == list(rf["log_end"].values())
    # and on this file alone every one of its users is there, by address
    mine = {u.email for u in busy_world.users if u.server == BUSY_SERVERS[0] and u.agent == 2}
    assert {a["email"] for a in rs["activations"]} == mine
