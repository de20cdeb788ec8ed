"""Prefilter: probes derived from regexes are necessary conditions, and both engines agree."""

from __future__ import annotations

import dataclasses
import json
import re
from io import StringIO

import pytest
import regex
from builders import SAMPLE_LOGS, bes_line
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bes_logdiag.errors import UsageError
from bes_logdiag.library import Library, load_library
from bes_logdiag.match import Matcher
from bes_logdiag.pattern_check import check_prefilter, matches_line
from bes_logdiag.prefilter import (
    BOM,
    Probe,
    PythonPrefilter,
    derive_probes,
    hyperscan_available,
    literal_probes,
    make_prefilter,
    probe_regex,
)
from bes_logdiag.render import Format, writer_for
from bes_logdiag.scan import run_scan
from bes_logdiag.settings import ScanConfig, default_engine

LIBRARY = load_library()
MATCHER = Matcher(LIBRARY, "python")


def _holds(probe: Probe, text: bytes) -> bool:
    """The reference: does some line of ``text`` hold the probe's runs, in order?"""
    if probe.caseless:
        text = text.lower()
    return any(regex.search(probe_regex(probe), raw) for raw in text.split(b"\n"))


# --- derive_probes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "probes"),
    [
        (r"Queuing DATA\s*from\s*network@(?P<host>[^\s,]+)", ((b"Queuing", b"network@"),)),
        (r"Generating\s+(?:3DES|AES)\s+key", ((b"Generating", b"3DES"), (b"Generating", b"AES"))),
        (r"OpenDatabase\(\)\s*failed", ((b"OpenDatabase()", b"failed"),)),
        (r"abc(?:defgh)?xyz", ((b"abc", b"yz"),)),  # optional part and "x" (normalise makes it) end runs
        (r"(?i)user\s+not\s+started", None),  # case-insensitive: no literal is required
        (r"(?:OTAKEYGEN.*KEY_REJECT|(?i:contact admin))", None),  # one alternative has none
        (r"(?:Generating){e<=1}", None),  # regex's fuzzy matching: `re` would read it as text
        (r"[[:alpha:]]+Started", ((b"Started",),)),  # a POSIX class is not the text "]"
        (r"\p{Lu}pdate", None),  # syntax only the regex module knows
        (r"Date:\s*\d{4}", ((b"Date:",),)),
        (r"ab", None),  # too short to search for
    ],
)
def test_derive_probes(source: str, probes: tuple[tuple[bytes, ...], ...] | None) -> None:
    derived = derive_probes(source)
    assert (None if derived is None else tuple(p.runs for p in derived)) == probes
    assert derived is None or not any(p.caseless for p in derived)


def test_spellings_in_other_case_share_one_caseless_probe() -> None:
    assert literal_probes([b"not started", b"NOT STARTED", b"Not Started", b"ETP.DAT"]) == (
        Probe((b"not started",), caseless=True),
        Probe((b"ETP.DAT",)),
    )


@pytest.mark.parametrize("pattern", LIBRARY.patterns, ids=lambda p: p.id)
def test_every_example_line_holds_a_probe_and_a_literal(pattern) -> None:  # type: ignore[no-untyped-def]
    matcher = MATCHER
    index = LIBRARY.patterns.index(pattern)
    for example in pattern.examples:
        raw = example.encode("utf-8")
        got = [ids for _, _, ids in matcher.candidates(raw + b"\r\n")]
        assert got and index in got[0], f"{pattern.id}: the prefilter drops {example!r}"


@pytest.mark.parametrize("engine", ["python", "auto"])
def test_patterns_check_finds_an_example_the_prefilter_would_drop(engine: str) -> None:
    assert check_prefilter(LIBRARY, engine) == []
    etp = next(p for p in LIBRARY.patterns if p.milestone == "etp_received")
    wrong = dataclasses.replace(etp, prefilter=(b"Queueing",))  # a misspelt literal: no line holds it
    lib = dataclasses.replace(LIBRARY, patterns=tuple(wrong if p is etp else p for p in LIBRARY.patterns))
    problems = check_prefilter(lib, engine)
    assert problems and all(f"pattern {etp.id}: the scan's prefilter drops example" in m for m in problems)
    assert len(problems) == len(etp.examples)


@st.composite
def _decorated(draw: st.DrawFn, source: str) -> str:
    """A line a BES server could write around text that matches ``source``."""
    body = draw(st.from_regex(source, fullmatch=False))
    return bes_line("05/21 06:51:39.000", body.replace("\r", " ").replace("\n", " "), user="a@b.c")


def _generable(source: str) -> bool:
    """Whether hypothesis (which reads `re` syntax) can generate text from the regex."""
    try:
        re.compile(source)
    except re.error:
        return False
    return derive_probes(source) is not None


@pytest.mark.parametrize("pattern", [p for p in LIBRARY.patterns if _generable(p.regex.pattern)],
                         ids=lambda p: p.id)  # fmt: skip
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_a_probe_holds_wherever_the_regex_matches(pattern, data: st.DataObject) -> None:  # type: ignore[no-untyped-def]
    text = data.draw(_decorated(pattern.regex.pattern))
    if not matches_line(pattern, text):
        return  # generated text the line grammar reads differently
    for encoding in ("utf-8", "cp1252"):
        try:
            raw = text.encode(encoding)
        except UnicodeEncodeError:
            continue
        probes = derive_probes(pattern.regex.pattern) or ()
        assert any(_holds(p, raw) for p in probes), (pattern.id, text)


# --- the engines agree -----------------------------------------------------------------------

hyperscan_engine = pytest.mark.skipif(not hyperscan_available(), reason="hyperscan is not installed")


def _lines(buf: bytes, hits: list[tuple[int, int]]) -> set[tuple[int, int]]:
    """Engine output reduced to what it means: (line start, probe) pairs."""
    return {(buf.rfind(b"\n", 0, off) + 1, probe) for off, probe in hits}


def _expected(buf: bytes, probes: list[tuple[bytes, ...]]) -> set[tuple[int, int]]:
    out, start = set(), 0
    for raw in buf.split(b"\n"):
        for i, p in enumerate(probes):
            if _holds(p, raw):
                out.add((start, i))
        start += len(raw) + 1
    return out


PROBES = list(Matcher(LIBRARY, "python").probes)
ENGINES = {"python": make_prefilter(PROBES, "python")}
if hyperscan_available():
    ENGINES["hyperscan"] = make_prefilter(PROBES, "hyperscan")
PIECES = sorted(
    {run for p in PROBES for run in p.runs}
    | {run.upper() for p in PROBES for run in p.runs}
    | {b"\n", b"\r\n", b" ", b"x", b"Not Started", b"NOT STARTED"}
)
_buffers = st.lists(
    st.one_of(st.sampled_from(PIECES), st.binary(max_size=12), st.just(BOM)), max_size=60
).map(b"".join)


@settings(max_examples=300, deadline=None)
@given(buf=_buffers)
def test_python_engine_reports_exactly_the_lines_that_hold_a_probe(buf: bytes) -> None:
    assert _lines(buf, ENGINES["python"].scan(buf)) == _expected(buf, PROBES)


@hyperscan_engine
@settings(max_examples=300, deadline=None)
@given(buf=_buffers)
def test_both_engines_report_the_same_lines(buf: bytes) -> None:
    assert _lines(buf, ENGINES["hyperscan"].scan(buf)) == _lines(buf, ENGINES["python"].scan(buf))


def test_a_common_anchor_moves_to_the_other_run_without_changing_the_hits() -> None:
    probes = [Probe((b"Received", b"command")), Probe((b"CICAL", b"slow"))]
    noise = b"".join(b"CheckResponseReceived - no changes %d\r\n" % i for i in range(200))
    buf = noise + b'Received "SyncData" command from device\r\n' + noise
    engine = PythonPrefilter(probes)
    first = _lines(buf, engine.scan(buf))
    second = _lines(buf, engine.scan(buf))  # now anchored on "command"
    assert first == second == {(len(noise), 0)}


@pytest.mark.parametrize("engine", ["python", pytest.param("hyperscan", marks=hyperscan_engine)])
def test_a_byte_order_mark_inside_a_word_does_not_hide_the_line(engine: str) -> None:
    text = bes_line("05/21 06:50:00.100", "Queuing DATA from net\ufeffwork@etp1006.etp.na.blackberry.net",
                user="a@b.c")  # fmt: skip
    matcher = Matcher(LIBRARY, engine)
    found = matcher.candidates(text.encode("utf-8") + b"\r\n")
    ids = {LIBRARY.patterns[i].id for _, _, ids in found for i in ids}
    assert "magt.etp-queued" in ids


@hyperscan_engine
def test_both_engines_give_the_same_report_on_sample_logs() -> None:
    reports = []
    for engine in ("hyperscan", "python"):
        report = run_scan(ScanConfig(paths=(str(SAMPLE_LOGS),), jobs=1, engine=engine))
        out = StringIO()
        writer_for(Format.json)(report, out)
        reports.append(json.loads(out.getvalue()))
    assert reports[0] == reports[1]
    assert reports[0]["activations"], "the sample holds activations"


def test_both_engines_give_the_same_candidates_on_sample_logs(library: Library) -> None:
    pytest.importorskip("hyperscan")
    fast, slow = Matcher(library, "hyperscan"), Matcher(library, "python")
    for path in sorted(SAMPLE_LOGS.rglob("*.txt")):
        buf = path.read_bytes()
        assert fast.candidates(buf) == slow.candidates(buf), path.name


# --- choosing the engine ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "engine"), [("", "auto"), ("python", "python"), (" Hyperscan ", "hyperscan")]
)
def test_the_engine_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, value: str, engine: str
) -> None:
    monkeypatch.setenv("BES_LOGDIAG_ENGINE", value)
    assert default_engine() == engine
    assert ScanConfig(paths=()).engine == engine


def test_an_unknown_engine_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BES_LOGDIAG_ENGINE", "grep")
    with pytest.raises(UsageError, match="BES_LOGDIAG_ENGINE=grep: unknown prefilter engine"):
        ScanConfig(paths=())
