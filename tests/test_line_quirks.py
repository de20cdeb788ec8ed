"""Damaged lines (BES-LOGS.md section 2): event ids dropped or cut to one digit, no milliseconds, no
thread, ``}{``, ``0×``, en dashes, curly quotes, lost spaces, pasted prefixes, tabs, wrapped and very
long lines; none of it changes a verdict.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from builders import (
    BUSY_ENCODINGS,
    BUSY_SERVERS,
    ERROR_USER,
    ERRORS,
    EU1,
    KIM,
    LON,
    LON_SITE,
    QUIRKS,
    Activation,
    BusyDay,
    activation,
    bes_line,
    bes_name,
    busy_rel_path,
    explicit_error,
    mail_flow,
    merge,
    q_no_event_id,
    q_no_thread,
    q_one_digit_id,
    q_seed_mix,
    rows,
    run_cli,
    run_json,
    scan_json,
    time_ordered,
    unattached_users,
    verdict_rows,
    write_busy_day,
    write_lines,
    write_server,
)

U = ERROR_USER[0]


@pytest.mark.parametrize("quirk", QUIRKS, ids=[q.__name__ for q in QUIRKS])
def test_each_line_quirk_still_gives_one_complete_activation(tmp_path: Path, quirk) -> None:  # type: ignore[no-untyped-def]
    t0 = datetime(2019, 6, 14, 9, 30, 0, 125000)
    parts = activation("ian.dundas@example.eu", 2573, "Dundas, Ian", t0)
    parts = {svc: [(t, quirk(x)) for t, x in items] for svc, items in parts.items()}
    write_server(tmp_path, EU1, parts)
    code, rep, _ = scan_json(tmp_path)
    assert code == 0
    assert rows(rep) == [(EU1, "ian.dundas@example.eu", 2573, "Dundas, Ian", "complete", 4, None)]
    got = [m["milestone"] for m in rep["activations"][0]["milestones"]]
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
    write_lines(
        day / bes_name(EU1, "MAGT", datetime(2019, 5, 21)),
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
    write_lines(
        day / bes_name(EU1, "POLC", datetime(2019, 5, 21)),
        [
            "[40000] (05/21 06:51:49):{0xE1C} SCS::CheckITPolicyInGroup – Queuing SET_ITPOLICY_REQUEST request for "
            "UserId=2573",
        ],
    )
    write_lines(
        day / bes_name(EU1, "SYNC", datetime(2019, 5, 21)),
        [
            "[46046] (05/21 06:52:24):{0×1294} [SYNC-DSession] Received “GetConfig” command from device. [Dundas, "
            "Ian:2573]",
            "[36023] (05/21 07:05:36):{0x12AC} [SYNC-DSession] *** SLOWSYNC COMPLETE *** [Dundas, Ian:2573]",
        ],
    )
    code, rep, _ = scan_json(tmp_path)
    assert code == 0
    assert rows(rep) == [(EU1, "ian.dundas@example.net", 2573, "Dundas, Ian", "complete", 4, None)]
    assert rep["activations"][0]["completed"].startswith("2019-05-21T07:05:36")


@pytest.mark.parametrize(
    "quirk", [q_no_event_id, q_one_digit_id, q_seed_mix, q_no_thread], ids=lambda q: q.__name__
)
@pytest.mark.parametrize("name", ERRORS)
def test_explicit_errors_survive_line_quirks(tmp_path: Path, name: str, quirk) -> None:  # type: ignore[no-untyped-def]
    t0 = datetime(2019, 2, 11, 15, 0, 0)
    parts, stage, kb = explicit_error(name, t0)
    parts = {s: [(t, quirk(x)) for t, x in items] for s, items in parts.items()}
    write_server(tmp_path, EU1, merge(parts, {"MAGT": mail_flow(t0, t0 + timedelta(hours=1), step=60)}))
    code, rep, _ = scan_json(tmp_path)
    assert code == 1
    assert [r[:2] + r[4:] for r in rows(rep)] == [(EU1, U, "failed", stage, kb)]


def _respace(line: str) -> str:
    """Tabs and doubled blanks between header fields, trailing blanks and a tab at the end."""
    line = line.replace("] (", "]\t(", 1).replace("):{", ")  :{", 1).replace("} {", "}\t {", 1)
    return line + "   \t"


def test_tabs_double_blanks_and_trailing_whitespace(tmp_path: Path) -> None:
    act = Activation(*KIM, datetime(2013, 10, 2, 10, 0, 0), site=LON_SITE)
    parts = {s: [(t, _respace(x)) for t, x in items] for s, items in act.parts().items()}
    write_server(tmp_path, LON, parts)
    assert "\t" in (tmp_path / "20131002" / bes_name(LON, "SYNC", datetime(2013, 10, 2))).read_text()
    code, rep, _ = scan_json(tmp_path)
    assert code == 0
    assert rows(rep) == [(LON, *KIM, "complete", 4, None)]
    assert len(rep["activations"][0]["milestones"]) == 9
    assert rep["inputs"]["unparsed"] == 0


def test_very_long_mail_flow_lines_around_an_activation(tmp_path: Path) -> None:
    """Lines of 40 KB and 300 KB (longer than one read block) next to every milestone line."""
    t0 = datetime(2013, 10, 2, 10, 0, 0)
    act = Activation(*KIM, t0, upto="books", site=LON_SITE)
    rcpts = ";".join(f"user{i:05d}@corp.example" for i in range(1500))
    magt: list[str] = []
    for i, x in enumerate(time_ordered(act.parts()["MAGT"])):
        t = t0 + timedelta(seconds=i * 0.2)
        size = 300_000 if i % 2 else 40_000
        magt.append(
            bes_line(
                t,
                f"Sending message to device, RefId={i}, To={rcpts}, Body=" + "x" * size,
                tid="1C30",
                user="li.wei@corp.example",
            )
        )
        magt.append(x)
    day = datetime(2013, 10, 2)
    write_lines(tmp_path / bes_name(LON, "MAGT", day), magt)
    code, rep, _ = scan_json(tmp_path)
    assert code == 0
    assert rep["inputs"]["files_skipped"] == 0
    assert rows(rep) == [(LON, KIM[0], None, None, "in_progress", 3, None)]
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
    act = Activation(*KIM, t0, site=LON_SITE)
    parts = act.parts()
    out: dict[str, list[str]] = {}
    for svc, items in parts.items():
        lines: list[str] = []
        for t, x in sorted(items):
            lines.append(
                bes_line(
                    t,
                    "MAPIMailbox::SubmitMessage - message queued, Subject=Weekly report,",
                    tid="1C30",
                    user="omar.farouk@corp.example",
                )
            )
            lines.append("    continued: Generating delivery receipt for the device, see EntryId=4")
            lines.append("\tand GetConfig of the printer; Queuing DATA to device, size=4096")
            lines.append(x)
        out[svc] = lines
    day = datetime(2013, 10, 2)
    for svc, lines in out.items():
        write_lines(tmp_path / "20131002" / bes_name(LON, svc, day), lines)
    code, rep, _ = scan_json(tmp_path)
    assert code == 0
    assert rows(rep) == [(LON, *KIM, "complete", 4, None)]
    assert len(rep["activations"][0]["milestones"]) == 9


def _quirk_encodings(
    busy_world: BusyDay, rng: random.Random
) -> dict[tuple[str, str, int, int], tuple[str, str]]:
    encs = list(BUSY_ENCODINGS)
    out = {k: (rng.choice(encs), rng.choice(["\r\n", "\n"])) for k in sorted(busy_world.files)}
    # SYNC files hold the accented display names: one server each in cp1252, UTF-16 and UTF-8 BOM
    for s, enc in zip(BUSY_SERVERS, ("cp1252", "utf-16-le-bom", "utf-8-sig")):
        out[(s, "SYNC", 1, 1)] = (enc, "\r\n")
    return out


def _damaged_scan(busy_world: BusyDay, root: Path, users: Path, *, key_safe: bool) -> dict:  # type: ignore[type-arg]
    encs = _quirk_encodings(busy_world, random.Random(7))
    assert {e for e, _ in encs.values()} == set(BUSY_ENCODINGS)
    write_busy_day(busy_world, root, quirks=random.Random(11), encodings=encs, key_safe=key_safe)
    sync = (root / busy_rel_path((BUSY_SERVERS[0], "SYNC", 1, 1))).read_bytes()
    assert any(u.last.encode("cp1252") in sync and not u.last.isascii() for u in busy_world.users)
    # guard: every kind of damage is really in the tree, on milestone lines too
    codecs = {"utf-16-le-bom": "utf-16", "utf-8-sig": "utf-8-sig", "utf-8": "utf-8", "cp1252": "cp1252"}
    text = "\n".join((root / busy_rel_path(k)).read_bytes().decode(codecs[e]) for k, (e, _) in encs.items())
    milestone_lines = [
        x
        for x in text.splitlines()
        if "OTAKEYGEN" in x or "SET_ITPOLICY" in x or "SYNC-DSession" in x or "Queuing DATA from" in x
    ]
    for mark in ("{0×", " – ", "“GetConfig”", "fromnetwork@", "[4] (", "}{", "> [", "\t[", "): {", "):{0x"):
        assert any(mark in x for x in milestone_lines), mark
    assert any(x.startswith("(03/12") for x in milestone_lines)  # no event id
    assert any(x.count("] (03/12") == 2 for x in text.splitlines())  # two records on one line
    assert any("(03/12 " in x and x.split("(03/12 ", 1)[1][8] == ")" for x in milestone_lines)  # no ms
    _, rep, _ = run_json("scan", root, "--users", users)
    return rep  # type: ignore[no-any-return]


def _same_as_clean(rq: dict, clean: dict) -> None:  # type: ignore[type-arg]
    assert verdict_rows(rq, seconds=True) == verdict_rows(clean, seconds=True)
    assert rq["log_end"] == clean["log_end"]
    assert len(unattached_users(rq)) == len(unattached_users(clean))
    assert rq["inputs"]["files_skipped"] == 0, rq["inputs"]["skipped"]
    assert rq["inputs"]["unparsed"] == 0


def test_quirks_and_encodings_leave_every_verdict_unchanged(
    busy_world: BusyDay, busy_maps: tuple[Path, Path], busy_report: tuple[int, dict, str], tmp_path: Path
) -> None:  # type: ignore[type-arg]
    """Every quirk of section 2 at random on ~30 % of lines, UTF-8/BOM/UTF-16/cp1252, CRLF/LF; the
    key lines' thread ids undamaged and KEY_ACCEPT never glued to its owner's line (see the bugs)."""
    rq = _damaged_scan(busy_world, tmp_path / "damaged", busy_maps[0], key_safe=True)
    _same_as_clean(rq, busy_report[1])
    encodings = {f["encoding"] for f in rq["inputs"]["files"]}
    assert len(encodings) >= 4, encodings


def test_quirks_on_every_line_including_the_key_lines(
    busy_world: BusyDay, busy_maps: tuple[Path, Path], busy_report: tuple[int, dict, str], tmp_path: Path
) -> None:  # type: ignore[type-arg]
    rq = _damaged_scan(busy_world, tmp_path / "damaged_all", busy_maps[0], key_safe=False)
    _same_as_clean(rq, busy_report[1])


def test_the_summary_counts_lines_that_hold_a_patterns_words_but_no_bes_header(tmp_path: Path) -> None:
    """A milestone line whose stamp is written ``(5/1 6:40:0.100)`` (seconds without their zero)
    is not a BES line: it is not analysed, but the summary says how many such lines there were,
    in the table, Markdown and HTML, and not only in JSON ``unparsed``."""
    day = datetime(2024, 5, 1, 6, 40)
    etp = "Queuing DATA from network@etp1.etp.na.blackberry.net, Tag=1, EntryId=2"
    lines = [
        bes_line(day, "New mail has arrived, EntryId=1", user="a@example.com"),
        f"[40000] (5/1 6:40:0.100):{{0x1AEC}} {{b@example.com}} {etp}",
    ]
    write_lines(tmp_path / "20240501" / bes_name("BES01", "MAGT", day), lines)
    for fmt, said in (("table", "1 unparsed;"), ("markdown", "1 unparsed;"), ("html", "1 unparsed.")):
        result = run_cli("scan", tmp_path, "--format", fmt)
        assert result.exit_code == 0, result.stderr
        assert said in result.stdout, fmt


def test_an_etp_record_run_onto_another_users_line_is_its_own_users(tmp_path: Path) -> None:
    """Two threads' writes ran together with no space: Carol's mail line, then Alice's ETP.DAT
    record.  The activation is Alice's (each record's ``{user}`` is its own), none is Carol's."""
    t0 = datetime(2024, 5, 1, 6, 40)
    mail = bes_line(t0, "New mail has arrived, EntryId=280001", tid="1AEC", user="carol.white@example.com")
    etp = bes_line(
        t0 + timedelta(seconds=1),
        "Queuing DATA from network@etp1.etp.na.blackberry.net, Tag=1, EntryId=2",
        tid="1AEC",
        user="alice.smith@example.com",
    )
    write_lines(tmp_path / "20240501" / bes_name("BES01", "MAGT", t0), [mail + etp])
    code, rep, _ = scan_json(tmp_path)
    assert [(a["email"], a["last_milestone"]) for a in rep["activations"]] == [
        ("alice.smith@example.com", "etp_received")
    ]
