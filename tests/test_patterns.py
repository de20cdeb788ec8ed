"""The pattern library: every example and counter-example, loading errors, admin patterns."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest
from builders import SEED_KBS, run_cli, write_lines
from rich.console import Console

from bes_logdiag.cli.patterns_cmd import patterns_table
from bes_logdiag.errors import PatternError
from bes_logdiag.filescan import scan_source
from bes_logdiag.library import load_library
from bes_logdiag.library.defs import KNOWN_GROUPS, SERVICE_CODES
from bes_logdiag.match import Matcher
from bes_logdiag.pattern_check import check_files, check_library, check_pattern
from bes_logdiag.prefilter import required_literal
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
    path = write_lines(tmp_path / "BB01_MAGT_01_20100521_0001.txt", [example], encoding="utf-8")
    src = Source(name=str(path), path=str(path), info=file_info(str(path)))
    kw = {"year": None, "default_year": 2010, "thread_window": timedelta(minutes=5)}
    result = scan_source(src, Matcher(LIB), **kw, compact=False)  # (every line an event)
    assert [e.pattern_id for e in result.events] == [pattern.id]  # type: ignore[attr-defined]


def test_every_seed_milestone_and_error_has_a_pattern() -> None:
    milestones = {p.milestone for p in LIB.patterns}
    assert {
        "etp_received",
        "key_generated",
        "key_accept_sent",
        "service_books_requested",
        "itpolicy_queued",
        "slowsync_started",
        "slowsync_complete",
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
    assert reachable == set(LIB.articles) == set(SEED_KBS)


@pytest.mark.parametrize(
    ("regex_text", "literal"),
    [
        (r"Queuing DATA\s*from", "Queuing"),
        (r"\*\*\* SLOWSYNC COMPLETE \*\*\*", "SLOWSYNC"),
        (r"abc?defg", "defg"),
        (r"(?:abcdef)?wyz1", "wyz1"),
        (r"(?:abcdef)?xyz", None),  # "x" may be a normalised "×": no run holds it
        (r"a{0,3}bcd", "bcd"),
        (r"one|two", None),
        (r"(?i)case", None),
    ],
)
def test_derived_prefilter_literal(regex_text: str, literal: str | None) -> None:
    assert required_literal(regex_text) == literal


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
    assert p.prefilter == (b"received",)  # the longest run without a space: a no-break space is read as one
    assert check_pattern(p) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[pattern]\nid=", "invalid TOML"),
        ("[[pattern]]\nid = 'x.bad'\nregex = '''(unclosed'''\n", "pattern x.bad: invalid regex"),
        ("[[pattern]]\nid = 'x.none'\n", "pattern x.none: no regex"),
        (
            "[[pattern]]\nid = 'magt.etp-queued'\nregex = '''Queuing DATA'''\n",
            "pattern magt.etp-queued: duplicate id",
        ),
        (
            "[[pattern]]\nid = 'x.alt'\nregex = '''a|b'''\n",
            "pattern x.alt: cannot derive a prefilter literal",
        ),
        (
            "[[pattern]]\nid = 'x.ms'\nregex = '''hello there'''\nmilestone = 'nope'\n",
            "pattern x.ms: unknown milestone 'nope'",
        ),
        (
            "[[pattern]]\nid = 'x.key'\nregex = '''hello there'''\nfoo = 1\n",
            "pattern x.key: unknown key foo; the keys are id, title",
        ),
    ],
)
def test_bad_pattern_files_name_file_and_id(tmp_path: Path, text: str, message: str) -> None:
    f = tmp_path / "bad.toml"
    f.write_text(text)
    with pytest.raises(PatternError) as info:
        load_library([tmp_path])
    assert str(info.value).startswith(str(f)) or "duplicate id" in str(info.value)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


# --- An admin's mistakes: one line each in `patterns check` (exit 1) and `scan --patterns` (exit 2) ---

Q = "'" * 3
EXAMPLE = "[40000] (05/21 06:50:00.100):{0x1AEC} {ann.lee@example.net} ETP message received from relay"
COUNTER = "[40000] (05/21 06:50:00.100):{0x1AEC} {ann.lee@example.net} ETP message lost"
GOOD = f"""[[pattern]]
id = "site.etp-variant"
title = "ETP message from the relay"
service = "MAGT"
stage = 1
milestone = "etp_received"
regex = {Q}ETP message received from relay{Q}
examples = [{Q}{EXAMPLE}{Q}]
counter_examples = [{Q}{COUNTER}{Q}]
"""


def mistake(tmp_path: Path, text: str) -> tuple[Path, Path]:
    """A folder holding one pattern file, and a small log to scan with it."""
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "site.toml").write_text(text, encoding="utf-8")
    log = write_lines(tmp_path / "BB01_MAGT_01_20100521_0001.txt", [EXAMPLE], encoding="utf-8")
    return folder, log


def both_refuse(folder: Path, log: Path) -> list[str]:
    """`patterns check` and `scan` on the admin's folder: the problems, and the same first line."""
    check = run_cli("patterns", "check", "--patterns", folder)
    assert check.exit_code == 1, check.output
    lines = check.stdout.splitlines()
    assert lines and all(line.startswith(str(folder)) for line in lines)
    count = f"{len(lines)} problem{'' if len(lines) == 1 else 's'}"
    assert check.stderr.strip() == f"bes-logdiag: {count} in the pattern library"
    scan = run_cli("scan", log, "--patterns", folder, "-q")
    assert scan.exit_code == 2, scan.output
    (err,) = scan.stderr.splitlines()
    assert err.startswith(f"bes-logdiag: error: {lines[0]}")
    assert "Traceback" not in check.output + scan.output and "internal error" not in scan.stderr
    return lines


def test_a_good_admin_pattern_checks_clean_and_scans(tmp_path: Path) -> None:
    folder, log = mistake(tmp_path, GOOD)
    check = run_cli("patterns", "check", "--patterns", folder)
    assert check.exit_code == 0 and "all pass" in check.stdout, check.output
    scan = run_cli("scan", log, "--patterns", folder, "-f", "json", "-q")
    assert scan.exit_code in (0, 1), scan.output
    assert "ann.lee@example.net" in scan.stdout


SITE = "site/site.toml: pattern site.etp-variant"
QUOTED = (
    '[40000] (05/21 06:50:00.100):{0x1AEC} {ann.lee@example.net} Subject="ETP message received from relay"'
)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        # 1. an event with no user
        (
            "{ann.lee@example.net} ETP message received",
            "ETP message received",
            f"{SITE}: example 1 names no user: add a named group email, user_id or display_name, or inherit_user = true",
        ),
        # 2. unknown named groups
        (
            f"{Q}ETP message received from relay{Q}",
            f"{Q}ETP message received from (?P<userid>relay){Q}",
            f"{SITE}: unknown named group userid (did you mean user_id?): the known names are email, user_id, "
            "display_name, trans_id, etp_host, command",
        ),
        # 4. a string where a list belongs
        (
            f"examples = [{Q}{EXAMPLE}{Q}]",
            f"examples = {Q}{EXAMPLE}{Q}",
            f"{SITE}: examples must be a list of lines: examples = [{Q}...{Q}, {Q}...{Q}]",
        ),
        (
            f"counter_examples = [{Q}{COUNTER}{Q}]",
            f"counter_examples = {Q}{COUNTER}{Q}",
            f"{SITE}: counter_examples must be a list of lines",
        ),
        (
            "stage = 1\n",
            'stage = 1\nprefilter = ["ETP message", 5]\n',
            f"{SITE}: prefilter must be a list of literals of 3 characters or more",
        ),
        # 5. what a matched line means
        (
            'milestone = "etp_received"\n',
            "",
            f"{SITE}: matches lines but names neither a milestone nor an error: it would have no effect",
        ),
        (
            'milestone = "etp_received"\n',
            'milestone = "etp_received"\nerror = "relay_failed"\nkb = "KB13840"\n',
            f"{SITE}: names both milestone etp_received and error relay_failed: give one",
        ),
        (
            'milestone = "etp_received"\n',
            'error = "relay_failed"\n',
            f'{SITE}: error relay_failed has no kb: add kb = "KB...", the article it points to, one of KB02276,',
        ),
        ("stage = 1\n", "", ""),  # a milestone's stage may be left out
        (
            "stage = 1\n",
            "stage = 2\n",
            f"{SITE}: stage 2, but milestone etp_received is stage 1 (leave stage out)",
        ),
        (
            'service = "MAGT"',
            'service = "POLICY"',
            f"{SITE}: service 'POLICY' is not a BES service code (did you mean POLC?): use the code of the log "
            "file names, one of MAGT, POLC, SYNC",
        ),
        ('milestone = "etp_received"\n', 'error = "relay_failed"\nkb = "KB13840"\n', ""),  # a good error
        (
            'stage = 1\nmilestone = "etp_received"\n',
            'error = "relay_failed"\nkb = "KB13840"\n',
            f"{SITE}: error relay_failed has no stage: add stage = 1, 2, 3 or 4, where it stops (KB13840 is a stage 1 article)",
        ),
        # 7. references list the valid values
        (
            'milestone = "etp_received"',
            'milestone = "etp_recieved"',
            f"{SITE}: unknown milestone 'etp_recieved' (did you mean etp_received?): the milestones are "
            "etp_received, key_generated,",
        ),
        (
            'milestone = "etp_received"\n',
            'error = "relay_failed"\nkb = "KB99999"\n',
            f"{SITE}: unknown KB article 'KB99999': the articles are KB02276, KB03410,",
        ),
        # the checks `patterns check` always made, now also refused by a scan
        (
            f"counter_examples = [{Q}{COUNTER}",
            f"counter_examples = [{Q}{EXAMPLE}",
            f"{SITE}: counter-example matches: ",
        ),
        (
            f"examples = [{Q}{EXAMPLE}{Q}]",
            f"examples = [{Q}{QUOTED}{Q}]",
            f"{SITE}: example does not match: ",
        ),
        (
            "stage = 1\n",
            'stage = 1\nprefilter = ["relay!"]\n',
            f"{SITE}: example does not contain its prefilter: ",
        ),
        (f"examples = [{Q}{EXAMPLE}{Q}]", "examples = []", f"{SITE}: has no examples"),
        (
            f"examples = [{Q}[40000] (05/21 06:50:00.100):{{0x1AEC}} ",
            f"examples = [{Q}",
            f"{SITE}: example is not a BES log line",
        ),
        (
            "stage = 1\n",
            'stage = 1\ninherit_user = "yes"\n',
            f"{SITE}: inherit_user must be true or false (without quotes)",
        ),
        ("stage = 1\n", "stage = 1\nfoo = 1\n", f"{SITE}: unknown key foo; the keys are id, title, service,"),
        ("stage = 1\n", "stage = 1\nexample = []\n", f"{SITE}: unknown key example (did you mean examples?)"),
        (
            'id = "site.etp-variant"\n',
            "",
            'site/site.toml: pattern #1 "ETP message from the relay": has no id: add id = ',
        ),
        (
            'id = "site.etp-variant"\ntitle = "ETP message from the relay"\n',
            "",
            "site/site.toml: pattern #1: has no id",
        ),
        (
            'id = "site.etp-variant"',
            'id = "magt.etp-queued"',
            "site/site.toml: pattern magt.etp-queued: duplicate id (also in ",
        ),
    ],
)
def test_each_admin_mistake_is_one_line_naming_file_pattern_and_fix(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    assert old in GOOD
    text = GOOD.replace(old, new, 1)
    folder, log = mistake(tmp_path, text)
    if not message:
        assert check_files([folder])[1] == []
        return
    lines = both_refuse(folder, log)
    assert lines[0].startswith(message.replace("site/site.toml", str(folder / "site.toml"))), lines
    assert len(lines) == 1, lines


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[patterns]]\nid = 'x'\n", "unknown table [[patterns]] (a pattern is a [[pattern]] table)"),
        ("[pattern]\nid = 'x'\n", "[pattern] must be written [[pattern]] (one per pattern)"),
        (
            "[[milestones]]\nname = 'x'\n",
            "unknown table [[milestones]] (a milestone is a [[milestone]] table)",
        ),
        (
            "[[rule]]\nafter = 'x'\n",
            "unknown table [[rule]] (the tables are [[pattern]], [[milestone]], [[stage]], [[article]], [[stall]])",
        ),
        ("pattern = ['x']\n", "pattern = ... must be written as [[pattern]] tables (one per pattern)"),
    ],
)
def test_unknown_or_misshapen_tables(tmp_path: Path, text: str, message: str) -> None:
    folder, log = mistake(tmp_path, text)
    lines = both_refuse(folder, log)
    assert lines == [f"{folder / 'site.toml'}: {message}"]


def test_pattern_keys_above_any_header(tmp_path: Path) -> None:
    folder, log = mistake(tmp_path, GOOD.replace("[[pattern]]\n", ""))
    lines = both_refuse(folder, log)
    assert (
        lines[0]
        == f"{folder / 'site.toml'}: unknown top-level key id (a pattern's keys go below its [[pattern]] header)"
    )
    assert len(lines) == 8


def test_a_folder_of_mistakes_lists_them_all_and_scan_counts_them(tmp_path: Path) -> None:
    folder, log = mistake(tmp_path, GOOD.replace("stage = 1", "stage = 3").replace('"MAGT"', '"magt"'))
    lines = both_refuse(folder, log)
    assert len(lines) == 2
    assert "service 'magt' is not a BES service code (did you mean MAGT?)" in lines[1]
    scan = run_cli("scan", log, "--patterns", folder)
    assert scan.stderr.strip().endswith(
        f"(and 1 more problem: bes-logdiag patterns check --patterns {folder} lists them)"
    )


def test_inherit_user_or_a_user_group_names_the_user(tmp_path: Path) -> None:
    no_user = GOOD.replace("{ann.lee@example.net} ETP message received", "ETP message received")
    inherit = no_user.replace("stage = 1\n", "stage = 1\ninherit_user = true\n")
    group = no_user.replace(f"relay{Q}\nexamples", f"relay (?P<user_id>\\d+){Q}\nexamples").replace(
        f"relay{Q}]\ncounter", f"relay 2573{Q}]\ncounter"
    )
    for n, text in enumerate((inherit, group)):
        (tmp_path / f"{n}").mkdir()
        (tmp_path / f"{n}" / "site.toml").write_text(text)
        assert check_files([tmp_path / f"{n}"])[1] == []
    assert "(?P<user_id>" in group


def test_built_in_named_groups_and_services_are_the_known_ones() -> None:
    used = {g for p in LIB.patterns for g in p.regex.groupindex}
    assert used <= set(KNOWN_GROUPS)
    assert {"email", "user_id", "display_name", "trans_id", "etp_host", "command"} <= set(KNOWN_GROUPS)
    assert {p.service for p in LIB.patterns if p.service} <= set(SERVICE_CODES)


def test_every_built_in_id_has_a_service_prefix() -> None:
    for p in LIB.patterns:
        prefix = p.id.split(".")[0]
        assert "." in p.id and prefix in {"magt", "polc", "sync", "bes"}, p.id
        assert (p.service or "bes").lower() == prefix, p.id
    assert any(p.id == "bes.itpolicy-rejected" for p in LIB.patterns)


def test_patterns_option_messages(tmp_path: Path) -> None:
    missing = run_cli("patterns", "check", "--patterns", tmp_path / "nonexist")
    assert missing.exit_code == 1 and missing.stdout.strip() == f"{tmp_path / 'nonexist'}: no such folder"
    assert missing.stderr.strip() == "bes-logdiag: 1 problem in the pattern library"
    empty = run_cli("patterns", "check", "--patterns", tmp_path)
    assert empty.stdout.strip() == f"{tmp_path}: no .toml pattern files in this folder"
    scan = run_cli("scan", tmp_path, "--patterns", tmp_path / "nonexist")
    assert scan.exit_code == 2 and f"{tmp_path / 'nonexist'}: no such folder" in scan.stderr


def test_a_single_pattern_file_can_be_given(tmp_path: Path) -> None:
    folder, _ = mistake(tmp_path, GOOD)
    (folder / "other.toml").write_text("[[patterns]]\n")  # not loaded: only the file named is
    check = run_cli("patterns", "check", "--patterns", folder / "site.toml")
    assert check.exit_code == 0, check.output
    listing = run_cli("patterns", "list", "--patterns", folder / "site.toml")
    assert "site.etp-variant" in listing.stdout
    twice = run_cli(
        "patterns", "check", "--patterns", folder / "site.toml", "--patterns", folder / "site.toml"
    )
    assert twice.exit_code == 0, "the same file twice is not a duplicate of itself"
    txt = tmp_path / "site.txt"
    txt.write_text(GOOD)
    assert "not a .toml file" in run_cli("patterns", "check", "--patterns", txt).stdout


def test_check_counts_problems_in_the_plural(tmp_path: Path) -> None:
    folder, _ = mistake(tmp_path, GOOD.replace("stage = 1", "stage = 2").replace('"MAGT"', '"XXXX"'))
    check = run_cli("patterns", "check", "--patterns", folder)
    assert check.stderr.strip() == "bes-logdiag: 2 problems in the pattern library"


@pytest.mark.parametrize("width", [60, 80, 100, 160])
def test_patterns_list_never_cuts_an_id(width: int) -> None:
    out = io.StringIO()
    Console(width=width, file=out, color_system=None).print(patterns_table(LIB, width))
    text = out.getvalue()
    for p in LIB.patterns:
        assert p.id in text, f"{p.id} cut at {width} columns"
    assert all(len(line.rstrip()) <= width for line in text.splitlines())
    assert ("activation.toml" in text) is (width >= 120)
    assert ("MAGT" in text) is (width >= 90)
