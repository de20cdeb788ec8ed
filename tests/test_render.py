"""Renderers: every format against one hand-built report, exact text for people, machine formats parsed back."""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import pytest

from bes_logdiag.model import (
    Activation,
    Attempt,
    Candidate,
    Diagnosis,
    Event,
    FileInfo,
    FileStats,
    Inputs,
    Join,
    Report,
    Skipped,
    Status,
)
from bes_logdiag.render import Format, junit, writer_for
from bes_logdiag.render import csv as csv_render

DAY = datetime(2010, 5, 21)
MAGT1, SYNC1 = "BB01_MAGT_01_20100521_0001.txt", "BB01_SYNC_01_20100521_0001.txt"
MAGT2, POLC2 = "BB02_MAGT_01_20100521_0001.txt", "BB02_POLC_01_20100521_0001.txt"
WINDOWS_FILE = r"D:\BES\Logs\20100521\MAGT_01_20100521_0001.txt"
MUELLER = "Müller, Jürgen | Vertrieb"


def at(hms: str) -> datetime:
    return datetime.combine(DAY, datetime.strptime(hms, "%H:%M:%S.%f" if "." in hms else "%H:%M:%S").time())


def milestone(name: str, stage: int, when: str, file: str, line: int, server: str | None = "BB01") -> Event:
    return Event(
        time=at(when),
        server=server,
        service=file.split("_")[1] if "_" in file else None,
        file=file,
        line=line,
        pattern_id=f"p.{name}",
        stage=stage,
        milestone=name,
        error=None,
        kb=None,
        opens_attempt=name == "etp_received",
        text=f"{name} line",
    )


def attempt(
    status: Status,
    stage: int,
    stage_name: str,
    events: tuple[Event, ...],
    diagnosis: Diagnosis,
    completed: datetime | None = None,
) -> Attempt:
    last = [e for e in events if e.milestone][-1]
    return Attempt(
        events=events,
        status=status,
        stage=stage,
        stage_name=stage_name,
        last_milestone=last.milestone,
        started=events[0].time,
        last_progress=last.time,
        completed=completed,
        diagnosis=diagnosis,
        stall_after=timedelta(hours=1),
    )


def build_report() -> Report:
    """Two servers and a null one; every status; an earlier attempt; a KB with candidates; an error event;
    two people with the same display name; a display name with a comma, a pipe and non-ASCII letters."""
    ian_first = attempt(
        Status.STALLED,
        2,
        "Verifying encryption",
        (
            milestone("etp_received", 1, "06:50:00.100", MAGT1, 10),
            milestone("key_generated", 2, "06:51:39", MAGT1, 14),
        ),
        Diagnosis(
            "KB13843",
            "Activation error: Contact Service Administrator",
            "the encryption key was generated but no KEY_ACCEPT followed on its thread",
            "key_generated",
            "key_accept_sent",
            (f"{MAGT1}:14",),
            (Candidate("KB04829", "Wrong activation password", "ETP.DAT rejected"),),
        ),
    )
    ian_done = attempt(
        Status.COMPLETE,
        4,
        "Slow synchronization",
        (
            milestone("etp_received", 1, "07:50:00", MAGT1, 60),
            milestone("slowsync_complete", 4, "07:59:36", SYNC1, 88),
        ),
        Diagnosis(
            None,
            None,
            f"slow synchronization complete ({SYNC1}:88)",
            "slowsync_complete",
            None,
            (f"{SYNC1}:88",),
            (),
        ),
        completed=at("07:59:36"),
    )
    mueller = attempt(
        Status.STALLED,
        4,
        "Slow synchronization",
        (
            milestone("itpolicy_queued", 3, "08:10:00", SYNC1, 100),
            milestone("slowsync_started", 4, "08:20:00", SYNC1, 120),
        ),
        Diagnosis(
            "KB03964",
            "Slow synchronization stops at 0%",
            "GetConfig was received but no synchronization data followed; no progress for 2h 10m",
            "slowsync_started",
            "slowsync_progress",
            (f"{SYNC1}:120",),
            (
                Candidate("KB13847", "Slow synchronization does not start", "no GetConfig"),
                Candidate("KB10496", "Calendar slow sync stops", "CICAL started, nothing after"),
            ),
        ),
    )
    rejected = Event(
        time=at("09:00:05"),
        server="BB02",
        service="MAGT",
        file=MAGT2,
        line=17,
        pattern_id="magt.activation-password-rejected",
        stage=1,
        milestone=None,
        error="activation_message_rejected",
        kb="KB04829",
        opens_attempt=False,
        email="cat@example.com",
        text="ETP.DAT could not be verified",
    )
    cat = attempt(
        Status.FAILED,
        1,
        "Activation",
        (milestone("etp_received", 1, "09:00:00.250", MAGT2, 12, "BB02"), rejected),
        Diagnosis(
            "KB04829",
            "Device shows 'An error has occurred. Please contact your administrator' during activation",
            f"The ETP.DAT activation message could not be verified ({MAGT2}:17); no progress after it",
            "etp_received",
            "key_generated",
            (f"{MAGT2}:17", f"{MAGT2}:12"),
            (),
        ),
    )
    lee_waiting = attempt(
        Status.IN_PROGRESS,
        3,
        "Receiving services",
        (
            milestone("key_accept_sent", 2, "10:00:00", MAGT2, 30, "BB02"),
            milestone("service_books_requested", 3, "10:00:06", MAGT2, 31, "BB02"),
        ),
        Diagnosis(
            None,
            None,
            "waiting for the IT policy: 5m since the last progress",
            "service_books_requested",
            "itpolicy_queued",
            (f"{MAGT2}:31",),
            (),
        ),
    )
    lee_done = attempt(
        Status.COMPLETE,
        4,
        "Slow synchronization",
        (
            milestone("itpolicy_queued", 3, "10:01:00", POLC2, 5, "BB02"),
            milestone("slowsync_complete", 4, "10:09:00", POLC2, 9, "BB02"),
        ),
        Diagnosis(
            None, None, "slow synchronization complete", "slowsync_complete", None, (f"{POLC2}:9",), ()
        ),
        completed=at("10:09:00"),
    )
    orphan = attempt(
        Status.STALLED,
        1,
        "Activation",
        (milestone("etp_received", 1, "05:00:00", WINDOWS_FILE, 5, None),),
        Diagnosis(None, None, "no progress", "etp_received", "key_generated", (f"{WINDOWS_FILE}:5",), ()),
    )
    activations = (
        Activation("BB01", "ian.dundas@example.net", "2573", "Dundas, Ian", (ian_first, ian_done),
                   joins=(Join("name", "Dundas, Ian = ian.dundas@example.net"),)),
        Activation("BB01", None, "3107", MUELLER, (mueller,)),
        Activation("BB02", "cat@example.com", "1101", None, (cat,)),
        Activation("BB02", None, "1201", "Lee, Sam", (lee_waiting,)),
        Activation("BB02", None, "1202", "Lee, Sam", (lee_done,)),
        Activation(None, None, "4242", None, (orphan,)),
    )  # fmt: skip
    return Report(
        activations=activations, inputs=INPUTS, log_end={"BB01": at("10:30:00"), "BB02": at("10:10:00")}
    )


INPUTS = Inputs(
    files=(
        FileStats(MAGT1, FileInfo(server="BB01", service="MAGT"), bytes=400_000, lines=6000, matched=20),
        FileStats(SYNC1, FileInfo(server="BB01", service="SYNC"), bytes=300_000, lines=4000, matched=12),
        FileStats(MAGT2, FileInfo(server="BB02", service="MAGT"), bytes=200_000, lines=2345, matched=8),
    ),
    skipped=(Skipped("broken.zip", "not a zip file"),),
)
EMPTY = Report(activations=(), inputs=Inputs(files=(), skipped=()))
SUMMARY = "3 files, 1 skipped, 12,345 lines, 40 matched; 6 activations: 2 complete, 1 in progress, 2 stalled, 1 failed"


@pytest.fixture(scope="module")
def report() -> Report:
    return build_report()


def render(fmt: Format, report: Report) -> str:
    out = io.StringIO()
    writer_for(fmt)(report, out)
    return out.getvalue()


def json_activations(report: Report) -> list[dict[str, Any]]:
    return json.loads(render(Format.json, report))["activations"]  # type: ignore[no-any-return]


# --- exact text ---------------------------------------------------------------------------------------


def test_csv_exact(report: Report) -> None:
    assert render(Format.csv, report) == (
        "server,email,user_id,display_name,status,stage,stage_name,kb,kb_title,started,last_progress,completed\n"
        'BB01,ian.dundas@example.net,2573,"Dundas, Ian",complete,4,Slow synchronization,,,2010-05-21T07:50:00.000,2010-05-21T07:59:36.000,2010-05-21T07:59:36.000\n'
        'BB01,,3107,"Müller, Jürgen | Vertrieb",stalled,4,Slow synchronization,KB03964,Slow synchronization stops at 0%,2010-05-21T08:10:00.000,2010-05-21T08:20:00.000,\n'
        "BB02,cat@example.com,1101,,failed,1,Activation,KB04829,Device shows 'An error has occurred. Please contact your administrator' during activation,2010-05-21T09:00:00.250,2010-05-21T09:00:00.250,\n"
        'BB02,,1201,"Lee, Sam",in_progress,3,Receiving services,,,2010-05-21T10:00:00.000,2010-05-21T10:00:06.000,\n'
        'BB02,,1202,"Lee, Sam",complete,4,Slow synchronization,,,2010-05-21T10:01:00.000,2010-05-21T10:09:00.000,2010-05-21T10:09:00.000\n'
        ",,4242,,stalled,1,Activation,,,2010-05-21T05:00:00.000,2010-05-21T05:00:00.000,\n"
    )


def test_markdown_exact(report: Report) -> None:
    assert render(Format.markdown, report) == (
        "| Server | User | Status | Stage | KB | Last milestone | Evidence |\n"
        "| --- | --- | --- | --- | --- | --- | --- |\n"
        "| BB01 | ian.dundas@example.net (Dundas, Ian · 2573) | complete | 4 Slow synchronization |  | `slowsync_complete` 2010-05-21 07:59:36 | `BB01_SYNC_01_20100521_0001.txt:88` |\n"
        "| BB01 | Müller, Jürgen \\| Vertrieb (3107) | stalled | 4 Slow synchronization | KB03964 Slow synchronization stops at 0% | `slowsync_started` 2010-05-21 08:20:00 | `BB01_SYNC_01_20100521_0001.txt:120` |\n"
        "| BB02 | cat@example.com (1101) | failed | 1 Activation | KB04829 Device shows 'An error has occurred. Please contact your administrator' during activation | `etp_received` 2010-05-21 09:00:00 | `BB02_MAGT_01_20100521_0001.txt:17`, `BB02_MAGT_01_20100521_0001.txt:12` |\n"
        "| BB02 | Lee, Sam (1201) | in_progress | 3 Receiving services |  | `service_books_requested` 2010-05-21 10:00:06 | `BB02_MAGT_01_20100521_0001.txt:31` |\n"
        "| BB02 | Lee, Sam (1202) | complete | 4 Slow synchronization |  | `slowsync_complete` 2010-05-21 10:09:00 | `BB02_POLC_01_20100521_0001.txt:9` |\n"
        "| - | UserId=4242 | stalled | 1 Activation |  | `etp_received` 2010-05-21 05:00:00 | `D:\\BES\\Logs\\20100521\\MAGT_01_20100521_0001.txt:5` |\n"
        "\n"
        f"{SUMMARY}\n"
        # a card for each activation that did not complete; the files are not there to read
        # again, so each evidence line comes with its own text, without the lines around it
        "\n"
        "## Details\n"
        "\n"
        "### Müller, Jürgen \\| Vertrieb on BB01: stalled at stage 4 (Slow synchronization)\n"
        "\n"
        "- **Names:** 3107\n"
        "- **Article:** KB03964 Slow synchronization stops at 0%\n"
        "- **Device shows:** slow synchronization at 0%\n"
        "- **Why:** GetConfig was received but no synchronization data followed; no progress for 2h 10m\n"
        "- **Expected next:** `slowsync_progress`\n"
        "- **What to check:** the Synchronization Service log for the user after GetConfig; organizer data permissions of the service account\n"
        "- **Also consider:** KB13847 (Slow synchronization does not start): no GetConfig\n"
        "- **Also consider:** KB10496 (Calendar slow sync stops): CICAL started, nothing after\n"
        "\n"
        "Evidence:\n"
        "\n"
        "- `BB01_SYNC_01_20100521_0001.txt:120` slowsync\\_started line\n"
        "\n"
        "### cat@example.com on BB02: failed at stage 1 (Activation)\n"
        "\n"
        "- **Names:** 1101\n"
        "- **Article:** KB04829 Device shows 'An error has occurred. Please contact your administrator' during activation\n"
        "- **Device shows:** An error has occurred. Please contact your administrator\n"
        "- **Why:** The ETP.DAT activation message could not be verified (BB02\\_MAGT\\_01\\_20100521\\_0001.txt:17); no progress after it\n"
        "- **Expected next:** `key_generated`\n"
        "- **What to check:** set a new activation password for the user and have the user type it again\n"
        "\n"
        "Evidence:\n"
        "\n"
        "- `BB02_MAGT_01_20100521_0001.txt:17` ETP.DAT could not be verified\n"
        "- `BB02_MAGT_01_20100521_0001.txt:12` etp\\_received line\n"
        "\n"
        "### Lee, Sam on BB02: in\\_progress at stage 3 (Receiving services)\n"
        "\n"
        "- **Names:** 1201\n"
        "- **Why:** waiting for the IT policy: 5m since the last progress\n"
        "- **Expected next:** `itpolicy_queued`\n"
        "\n"
        "Evidence:\n"
        "\n"
        "- `BB02_MAGT_01_20100521_0001.txt:31` service\\_books\\_requested line\n"
        "\n"
        "### UserId=4242 on -: stalled at stage 1 (Activation)\n"
        "\n"
        "- **Why:** no progress\n"
        "- **Expected next:** `key_generated`\n"
        "\n"
        "Evidence:\n"
        "\n"
        "- `D:\\BES\\Logs\\20100521\\MAGT_01_20100521_0001.txt:5` etp\\_received line\n"
    )


def test_markdown_escapes_what_would_break_a_cell() -> None:
    from bes_logdiag.render.markdown import code, text

    assert (
        text("a|b *c* _d_ `e` <f> [g] \\h\nnext")
        == "a\\|b \\*c\\* \\_d\\_ \\`e\\` \\<f\\> \\[g\\] \\\\h next"
    )
    assert code("odd|name`x.txt:3") == "`` odd\\|name`x.txt:3 ``"


# --- machine formats parsed back and compared with json ----------------------------------------------


def test_ndjson_lines_are_the_json_activations(report: Report) -> None:
    text = render(Format.ndjson, report)
    assert text.endswith("\n") and "\r" not in text
    lines = text.split("\n")[:-1]
    assert all(line.startswith("{") and "\n" not in line for line in lines)
    assert [json.loads(line) for line in lines] == json_activations(report)
    assert MUELLER in text  # UTF-8 as is, not \u escapes


def test_csv_rows_are_the_json_activations(report: Report) -> None:
    rows = list(csv.DictReader(io.StringIO(render(Format.csv, report), newline="")))
    assert rows[0].keys() == set(csv_render.COLUMNS)
    expected = [
        {c: "" if a[c] is None else str(a[c]) for c in csv_render.COLUMNS} for a in json_activations(report)
    ]
    assert rows == expected
    assert rows[1]["display_name"] == MUELLER


def test_junit_cases_are_the_json_activations(report: Report) -> None:
    text = render(Format.junit, report)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    root = ET.fromstring(text.encode("utf-8"))
    assert root.tag == "testsuites"
    cases = [(suite, case) for suite in root.findall("testsuite") for case in suite.findall("testcase")]
    acts = json_activations(report)
    assert len(cases) == len(acts)
    for (suite, case), a in zip(cases, acts):
        server = a["server"] or "unknown-server"
        assert suite.get("name") == server
        assert case.get("classname") == f"bes-logdiag.{server}"
        assert case.get("name", "").startswith(a["email"] or a["display_name"] or f"UserId={a['user_id']}")
        failure, skipped = case.find("failure"), case.find("skipped")
        if a["status"] in ("stalled", "failed"):
            assert failure is not None and skipped is None
            assert failure.get("type") == a["status"]
            assert failure.get("message") == (
                f"{a['status']}: {a['kb']} {a['kb_title']}" if a["kb"] else a["status"]
            )
            assert a["reason"] in (failure.text or "")
            assert f"last milestone: {a['last_milestone']}" in (failure.text or "")
            assert f"next expected: {a['next_expected']}" in (failure.text or "")
            assert all(f"  {w}" in (failure.text or "") for w in a["evidence"])
        elif a["status"] == "in_progress":
            assert failure is None and skipped is not None
            assert skipped.get("message") == f"in progress: waiting for {a['next_expected']}"
        else:
            assert failure is None and skipped is None
        if failure is None:  # a passing case says its verdict in system-out
            assert (case.findtext("system-out") or "").startswith(a["status"])
        assert case.get("time") == "0"  # a verdict read from logs: not the activation's duration


def test_junit_counts_and_unique_names(report: Report) -> None:
    root = ET.fromstring(render(Format.junit, report).encode("utf-8"))
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["BB01", "BB02", "unknown-server"]
    for suite in suites:
        server = suite.get("name")
        statuses = Counter(
            a.last.status for a in report.activations if (a.server or "unknown-server") == server
        )
        cases = suite.findall("testcase")
        assert int(suite.get("tests", "")) == len(cases) == sum(statuses.values())
        assert int(suite.get("failures", "")) == statuses[Status.STALLED] + statuses[Status.FAILED]
        assert int(suite.get("failures", "")) == len(suite.findall("testcase/failure"))
        assert (
            int(suite.get("skipped", ""))
            == statuses[Status.IN_PROGRESS]
            == len(suite.findall("testcase/skipped"))
        )
        names = [c.get("name") for c in cases]
        assert len(set(names)) == len(names)
    assert [c.get("name") for c in suites[1].findall("testcase")] == [
        "cat@example.com",
        "Lee, Sam (UserId=1201)",
        "Lee, Sam (UserId=1202)",
    ]
    assert [c.get("name") for c in suites[2].findall("testcase")] == ["UserId=4242"]
    assert root.get("tests") == "6" and root.get("failures") == "3" and root.get("skipped") == "1"


def test_junit_names_stay_unique_without_user_ids() -> None:
    act = build_report().activations[3]
    twins = [Activation("BB02", None, None, "Lee, Sam", act.attempts)] * 2
    assert junit._unique_names(twins) == ["Lee, Sam #1", "Lee, Sam #2"]


def test_junit_drops_characters_xml_cannot_hold(report: Report) -> None:
    """A control character in a name is shown as its escape, as in the other formats: two names
    that differ by it stay two cases (as U+FFFD both were one, and GitLab keeps one of them)."""
    act = report.activations[1]
    odd = [Activation("BB01", None, "3107", f"bell{c}name", act.attempts) for c in ("\x07", "\x08")]
    text = render(Format.junit, Report(activations=tuple(odd), inputs=INPUTS))
    names = [c.get("name") for c in ET.fromstring(text.encode("utf-8")).iter("testcase")]
    assert names == ["bell\\x07name", "bell\\x08name"]


# --- every format ------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", list(Format), ids=lambda f: f.value)
def test_every_format_writes_the_report(fmt: Format, report: Report) -> None:
    writer = writer_for(fmt)
    assert callable(writer)
    assert render(fmt, report).strip()


EMPTY_OUTPUT = {
    Format.ndjson: "",
    Format.csv: "server,email,user_id,display_name,status,stage,stage_name,kb,kb_title,started,last_progress,completed\n",
    Format.markdown: (
        "| Server | User | Status | Stage | KB | Last milestone | Evidence |\n"
        "| --- | --- | --- | --- | --- | --- | --- |\n"
        "\n"
        "0 files, 0 lines, 0 matched; 0 activations: 0 complete, 0 in progress, 0 stalled, 0 failed\n"
    ),
}


@pytest.mark.parametrize("fmt", list(Format), ids=lambda f: f.value)
def test_every_format_writes_an_empty_report(fmt: Format) -> None:
    text = render(fmt, EMPTY)
    if fmt in EMPTY_OUTPUT:
        assert text == EMPTY_OUTPUT[fmt]
    elif fmt is Format.junit:
        root = ET.fromstring(text.encode("utf-8"))
        assert root.tag == "testsuites" and root.get("tests") == "0"
        assert root.findall(".//testcase") == []
    elif fmt is Format.json:
        assert json.loads(text)["activations"] == []
    else:
        assert "0 activations" in text


@pytest.mark.parametrize("fmt", list(Format), ids=lambda f: f.value)
def test_no_ansi_escapes_in_a_stream(fmt: Format, report: Report, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    assert "\x1b[" not in render(fmt, report)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("columns", [80, 100])
def test_a_narrow_terminal_gets_a_table_that_keeps_names_whole(
    report: Report, columns: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bes_logdiag.render import table

    monkeypatch.setenv("COLUMNS", str(columns))
    monkeypatch.setenv("NO_COLOR", "1")
    out = _Terminal()
    table.write(report, out)
    text = re.sub(r"\x1b\[[0-9;]*m", "", out.getvalue())  # NO_COLOR keeps bold and dim
    assert max(len(x) for x in text.splitlines()) <= columns
    for a in report.activations:
        who = a.email or a.display_name or f"UserId={a.user_id}"
        assert who in text, who
        assert f"on {a.server or '-'}" in text
        if a.last.diagnosis.kb:
            assert a.last.diagnosis.kb in text
        if a.last.status in (Status.STALLED, Status.FAILED):
            for e in a.last.events:
                assert e.where in text, e.where  # file:line never cut
