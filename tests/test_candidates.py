"""Candidate articles fit the evidence: an article whose problem lies before a milestone the
attempt got past is not offered (kb.toml's ``ruled_out_by``; README, "How it decides")."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from builders import (
    EU_SITE,
    activation,
    bes_line,
    explicit_error,
    merge,
    run_cli,
    scan_json,
    write_activation,
    write_lines,
    write_server,
)

from bes_logdiag.library import load_library

LIB = load_library()
USER = ("chloe.martin@example.com", 1008, "Martin, Chloe")
DAY = "20240101"


def kbs(doc: dict[str, object]) -> list[str]:
    return [c["kb"] for c in doc["candidates"]]  # type: ignore[attr-defined]


def stalled_after(tmp_path: Path, upto: str) -> dict[str, object]:
    """One user of the seed's walkthrough who stopped at `upto` (the logs run on until 23:50)."""
    write_activation(tmp_path, "BBPROD01", DAY, *USER, upto=upto)
    _, report, _ = scan_json(tmp_path)
    (act,) = report["activations"]
    assert act["status"] == "stalled" and act["last_milestone"] == upto
    return act  # type: ignore[no-any-return]


def test_a_stall_after_key_accept_does_not_offer_a_rejected_etp_dat_message(tmp_path: Path) -> None:
    act = stalled_after(tmp_path, "key_accept_sent")
    assert act["kb"] == "KB13843"
    assert "KB04829" not in kbs(act), "the key exchange happened: the ETP.DAT message was accepted"
    assert not {"KB13840", "KB10321"} & set(kbs(act)), "stage-1 articles: the key was generated"
    assert kbs(act) == ["KB03410"], "the stall rule's `also` still applies where it fits"


def test_a_stall_after_the_key_has_no_stage_1_candidates(tmp_path: Path) -> None:
    act = stalled_after(tmp_path, "key_generated")
    assert act["kb"] == "KB13843"
    assert kbs(act) == []


def test_a_stall_at_stage_1_still_lists_the_stage_1_articles(tmp_path: Path) -> None:
    act = stalled_after(tmp_path, "etp_received")
    assert act["kb"] == "KB13840"
    assert kbs(act) == ["KB02276", "KB04829", "KB10321"]


def test_kb02276_still_appears_where_it_fits(tmp_path: Path) -> None:
    """A prerequisite: the primary of a mailbox error, and a candidate at stage 1, at any point."""
    t0 = datetime(2024, 1, 1, 8, 30)
    parts, stage, kb = explicit_error("mailbox-not-reachable", t0)
    write_server(tmp_path, "BBPROD01", parts)
    _, report, _ = scan_json(tmp_path)
    (act,) = report["activations"]
    assert (act["status"], act["stage"], act["kb"]) == ("failed", stage, kb) == ("failed", 1, "KB02276")
    assert kbs(act) == ["KB04829", "KB13840", "KB10321"], "only the ETP.DAT message was seen"
    article = LIB.articles["KB02276"]
    assert article.ruled_out_by == ()
    assert LIB.fits(article, LIB.milestones)


def test_a_stall_after_the_calendar_keeps_only_the_later_slow_sync_articles(tmp_path: Path) -> None:
    t0 = datetime(2024, 1, 1, 9, 0)
    parts = activation("hana.sato@example.eu", 2008, "Sato, Hana", t0, upto="cical", site=EU_SITE)
    end = datetime(2024, 1, 1, 23, 50)
    ends = {svc: [(end, bes_line(end, "Total Msgs Pending 0", tid="A2C", eid=30000))] for svc in parts}
    write_server(tmp_path, "BES_EU_01", merge(parts, ends))
    _, report, _ = scan_json(tmp_path)
    (act,) = report["activations"]
    assert (act["status"], act["last_milestone"], act["kb"]) == ("stalled", "calendar_sync", "KB10496")
    assert kbs(act) == ["KB13461"], "GetConfig and the calendar came: not 'does not start', not 0%"


@pytest.mark.parametrize(
    ("reached", "kb", "fits"),
    [
        ((), "KB04829", True),
        (("etp_received",), "KB04829", True),
        (("etp_received", "key_generated"), "KB04829", False),
        (("key_accept_sent",), "KB13840", False),  # a milestone after key_generated rules it out too
        (("service_books_requested",), "KB13843", False),
        (("key_accept_sent",), "KB13843", True),
        (("calendar_sync",), "KB03410", False),  # the calendar without GetConfig (no SYNC log)
        (("itpolicy_queued",), "KB03410", True),
        (("slowsync_progress",), "KB13847", False),
        (("slowsync_progress",), "KB10496", True),
    ],
)
def test_fits_follows_the_milestone_order(reached: tuple[str, ...], kb: str, fits: bool) -> None:
    assert LIB.fits(LIB.articles[kb], reached) is fits


def test_every_ruled_out_by_names_a_milestone_and_no_stall_rule_names_a_ruled_out_article() -> None:
    for article in LIB.articles.values():
        assert set(article.ruled_out_by) <= set(LIB.milestones), article.id
    for rule in LIB.stall_rules.values():
        for kb in (rule.kb, *rule.also):
            assert LIB.fits(LIB.articles[kb], (rule.after,)), (rule.after, kb)


ARTICLE = """
[[article]]
id = "KB99001"
stage = 1
title = "Our own article"
{extra}
"""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            ARTICLE.format(extra='ruled_out_by = ["key_genrated"]'),
            "[[article]] KB99001: ruled_out_by names 'key_genrated', not a milestone (did you mean "
            "key_generated?): the milestones are etp_received, key_generated,",
        ),
        (
            ARTICLE.format(extra='ruled_out_by = "key_generated"'),
            '[[article]] KB99001: ruled_out_by must be a list of milestones: ruled_out_by = ["key_generated"]',
        ),
        (
            ARTICLE.format(extra='ruled_out = ["key_generated"]'),
            "[[article]] KB99001: unknown key ruled_out (did you mean ruled_out_by?); the keys are id, stage,",
        ),
        (
            '[[stall]]\nafter = "key_accept_sent"\nkb = "KB13843"\nwhy = "x"\nalso = ["KB04829"]\n',
            "stall rule after key_accept_sent: KB04829 is ruled out once key_accept_sent is reached "
            "(its ruled_out_by): drop it from also",
        ),
        (
            '[[stall]]\nafter = "slowsync_started"\nkb = "KB03964"\nwhy = "x"\nunseen = ["calendar_synk"]\n',
            "stall rule after slowsync_started: unseen names 'calendar_synk', not a milestone (did you mean "
            "calendar_sync?): the milestones are",
        ),
        (
            '[[stall]]\nafter = "itpolicy_queued"\nkb = "KB13843"\nwhy = "x"\n',
            "stall rule after itpolicy_queued: KB13843 is ruled out once itpolicy_queued is reached "
            "(its ruled_out_by): name an article that fits",
        ),
    ],
)
def test_patterns_check_validates_ruled_out_by(tmp_path: Path, text: str, message: str) -> None:
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "site.toml").write_text(text, encoding="utf-8")
    check = run_cli("patterns", "check", "--patterns", folder)
    assert check.exit_code == 1, check.output
    (line,) = check.stdout.splitlines()
    assert line.startswith(f"{folder / 'site.toml'}: {message}"), line
    log = write_lines(tmp_path / "BB01_MAGT_01_20100521_0001.txt", ["[30000] (05/21 10:00:00.000):{0x1} x"])
    scan = run_cli("scan", log, "--patterns", folder, "-q")
    assert scan.exit_code == 2
    assert scan.stderr.startswith(f"bes-logdiag: error: {line}")


def test_an_admin_article_with_a_known_ruled_out_by_loads(tmp_path: Path) -> None:
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "site.toml").write_text(
        ARTICLE.format(extra='ruled_out_by = ["key_generated"]'), encoding="utf-8"
    )
    lib = load_library((folder,))
    assert lib.articles["KB99001"].ruled_out_by == ("key_generated",)
    assert run_cli("patterns", "check", "--patterns", folder).exit_code == 0
