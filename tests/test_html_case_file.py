"""``scan PATH --user U --format html`` (and ``markdown``): a case file for a ticket or vendor support,
with the verdict, reason, article, what to check, the timeline and the evidence with the log lines
around it; the Markdown report's cards say what the HTML cards say, without pictures."""

from __future__ import annotations

import re

import pytest
from builders import SAMPLE_LOGS, run_cli

TOM = "tom.reed@example.com"
"""Stalled at stage 1 on BBPROD01: KB13840, the ETP.DAT message picked up and nothing after it."""
IAN = "Dundas, Ian"
"""Complete on his second attempt."""


def scan(*args: str) -> str:
    result = run_cli("scan", SAMPLE_LOGS, *args, "-q", "--jobs", "1")
    assert result.exit_code in (0, 1), result.stderr
    assert result.stderr == ""
    return result.stdout


@pytest.fixture(scope="module")
def tom_html() -> str:
    return scan("--user", TOM, "--format", "html")


@pytest.fixture(scope="module")
def tom_markdown() -> str:
    return scan("--user", TOM, "--format", "markdown")


def test_the_html_case_file_names_the_person_and_leads_with_the_card(tom_html: str) -> None:
    assert f"<h1>Activation case file: {TOM}</h1>" in tom_html
    assert f"<title>Activation case file: {TOM} · 1 activations, 1 stalled, 0 failed</title>" in tom_html
    assert '<section id="stats"' not in tom_html  # no fleet to count
    assert tom_html.index('<article class="card stalled" id="a-0"') < tom_html.index('<section id="read"')
    assert len(re.findall(r'<tr role="row" data-i="\d+"', tom_html)) == 1


def test_the_html_case_file_holds_what_support_needs(tom_html: str) -> None:
    card = tom_html.split('id="a-0"', 1)[1].split("</article>", 1)[0]
    for part in (
        "<dt>Verdict</dt>",
        "<strong>KB13840</strong> Activation stops responding at the Activating stage",
        "<dt>Device shows</dt><dd>Activating, or Retrying, with no end</dd>",
        "<dt>Why</dt><dd>the ETP.DAT message was picked up but no encryption key was generated",
        "<dt>Expected next</dt><dd><code>key_generated</code></dd>",
        "<dt>What to check</dt><dd>that the Messaging Agent for the user is running",
        "<dt>Also consider</dt>",
        '<svg class="tl"',
        'data-milestone="etp_received"',
        "16h39m2s without progress (threshold 15m)",
        '<pre class="ctx">',
        "Queuing DATA from network@etp1884.etp.na.blackberry.net",
    ):
        assert part in card, part


def test_a_complete_activation_gets_a_whole_card_in_a_case_file() -> None:
    page = scan("--user", IAN, "--format", "html")
    assert "<h1>Activation case file: ian.dundas@example.com</h1>" in page
    card = page.split('id="a-0"', 1)[1].split("</article>", 1)[0]
    assert "after 1 earlier attempt" in card
    assert 'data-attempt="1"' in card and 'class="att early"' in card  # the first try, faint
    assert "<dt>Why</dt><dd>slow synchronization complete" in card


def test_the_markdown_case_file(tom_markdown: str) -> None:
    assert tom_markdown.startswith(f"# Activation case file: {TOM}\n\n| Server | User |")
    card = tom_markdown.split("## Details\n", 1)[1]
    assert card.startswith(f"\n### {TOM} on BBPROD01: stalled at stage 1 (Activation)\n\n")
    for line in (
        "- **Article:** KB13840 Activation stops responding at the Activating stage",
        "- **Device shows:** Activating, or Retrying, with no end",
        "- **Expected next:** `key_generated`",
        "- **What to check:** that the Messaging Agent for the user is running",
        "- **Also consider:** KB02276 (BES service account cannot open the user's mailbox): ",
        "sample_logs/BBPROD01/20240101/BBPROD01_MAGT_02_20240101_0001.txt` line 326:",
        "```text",
    ):
        assert line in card, line
    block = card.split("```text\n", 1)[1].split("\n```", 1)[0].splitlines()
    assert [line[:7] for line in block] == ["  324 |", "  325 |", "> 326 |", "  327 |", "  328 |"]
    assert "{tom.reed@example.com} Queuing DATA from network@" in block[2]


def test_markdown_cards_for_every_activation_that_did_not_complete() -> None:
    text = scan("--format", "markdown")
    heads = re.findall(r"^### \S+ on \S+: (\S+) at stage", text, re.MULTILINE)
    # 7 stalled, 5 failed, 1 in progress (a heading's text escapes Markdown's underscore)
    assert sorted(heads) == ["failed"] * 5 + ["in\\_progress"] + ["stalled"] * 7
    assert "# Activation case file" not in text


def test_a_fence_longer_than_the_backticks_in_the_lines() -> None:
    from bes_logdiag.render.markdown import _fence

    assert _fence(["plain"]) == "```"
    assert _fence(["a ``` b", "````"]) == "`````"
