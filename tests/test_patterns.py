"""The pattern library: every example and counter-example, loading errors, admin patterns."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from helpers import write_log

from bes_logdiag.errors import PatternError
from bes_logdiag.match import Matcher, scan_source
from bes_logdiag.patterns import check_library, check_pattern, derive_literal, load_library
from bes_logdiag.read import Source, file_info

LIB = load_library()


@pytest.mark.parametrize("pattern", LIB.patterns, ids=lambda p: p.id)
def test_examples_and_counter_examples(pattern: object) -> None:
    assert check_pattern(pattern) == []  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("pattern", "example"),
    [(p, ex) for p in LIB.patterns if p.role is None for ex in p.examples],
    ids=lambda x: getattr(x, "id", "ex"),
)
def test_each_example_is_found_by_a_real_scan(tmp_path: Path, pattern: object, example: str) -> None:
    """Prefilter, parser and regex together: the example in a file yields this pattern's event."""
    path = write_log(tmp_path, "BB01_MAGT_01_20100521_0001.txt", [example], encoding="utf-8")
    src = Source(name=str(path), path=str(path), info=file_info(str(path)))
    result = scan_source(src, Matcher(LIB), year=None, default_year=2010, thread_window=timedelta(minutes=5))
    assert [e.pattern_id for e in result.events] == [pattern.id]  # type: ignore[attr-defined]


def test_every_seed_milestone_and_error_has_a_pattern() -> None:
    milestones = {p.milestone for p in LIB.patterns}
    assert {
        "etp_received", "key_generated", "key_accept_sent", "service_books_requested",
        "itpolicy_queued", "slowsync_started", "slowsync_complete",
    } <= milestones
    errors = {p.error: p.kb for p in LIB.patterns if p.error}
    assert errors["user_not_started"] == "KB10321"
    assert errors["mailbox_not_reachable"] == "KB02276"
    assert errors["itpolicy_rejected"] == "KB04533"


def test_the_whole_library_checks_clean() -> None:
    assert check_library(LIB) == []


def test_every_kb_article_of_the_table_is_reachable() -> None:
    """Each article is the primary of some stall rule or error pattern (BES-LOGS.md section 4)."""
    reachable = {r.kb for r in LIB.stall_rules.values()} | {p.kb for p in LIB.patterns if p.kb}
    assert reachable == set(LIB.articles) == {
        "KB04829", "KB13840", "KB10321", "KB13843", "KB04533", "KB03410",
        "KB03964", "KB10496", "KB13847", "KB13461", "KB02276",
    }


@pytest.mark.parametrize(
    ("regex_text", "literal"),
    [
        (r"Queuing DATA\s*from", "Queuing DATA"),
        (r"\*\*\* SLOWSYNC COMPLETE \*\*\*", "*** SLOWSYNC COMPLETE ***"),
        (r"abc?defg", "defg"),
        (r"(?:abcdef)?xyz", "xyz"),
        (r"a{0,3}bcd", "bcd"),
        (r"one|two", None),
        (r"(?i)case", None),
    ],
)
def test_derived_prefilter_literal(regex_text: str, literal: str | None) -> None:
    assert derive_literal(regex_text) == literal


ADMIN_PATTERN = """
[[pattern]]
id = "site.etp-variant"
service = "MAGT"
stage = 1
milestone = "etp_received"
regex = '''ETP message received from relay'''
examples = ['''[40000] (05/21 06:50:00.100):{0x1AEC} {ann.lee@example.net} ETP message received from relay''']
"""


def test_admin_patterns_extend_the_library(tmp_path: Path) -> None:
    (tmp_path / "site.toml").write_text(ADMIN_PATTERN)
    lib = load_library([tmp_path])
    p = next(p for p in lib.patterns if p.id == "site.etp-variant")
    assert p.prefilter == (b"ETP message received from relay",)
    assert check_pattern(p) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[pattern]\nid=", "invalid TOML"),
        ("[[pattern]]\nid = 'x.bad'\nregex = '''(unclosed'''\n", "pattern x.bad: invalid regex"),
        ("[[pattern]]\nid = 'x.none'\n", "pattern x.none: no regex"),
        ("[[pattern]]\nid = 'magt.etp-queued'\nregex = '''Queuing DATA'''\n", "pattern magt.etp-queued: duplicate id"),
        ("[[pattern]]\nid = 'x.alt'\nregex = '''a|b'''\n", "pattern x.alt: cannot derive a prefilter literal"),
        ("[[pattern]]\nid = 'x.ms'\nregex = '''hello there'''\nmilestone = 'nope'\n", "pattern x.ms: unknown milestone 'nope'"),
        ("[[pattern]]\nid = 'x.key'\nregex = '''hello there'''\nfoo = 1\n", "pattern x.key: unknown key(s) foo"),
    ],
)
def test_bad_pattern_files_name_file_and_id(tmp_path: Path, text: str, message: str) -> None:
    f = tmp_path / "bad.toml"
    f.write_text(text)
    with pytest.raises(PatternError) as info:
        load_library([tmp_path])
    assert str(info.value).startswith(str(f)) or "duplicate id" in str(info.value)
    assert message in str(info.value)
