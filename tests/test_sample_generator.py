"""The sample-log generator: deterministic, and its lines say what its scenario table says."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from datetime import datetime, timedelta
from pathlib import Path
from types import ModuleType

import pytest
import regex
import tomllib

REPO = Path(__file__).resolve().parents[1]
HEADER = re.compile(  # [EEEEE] (MM/DD HH:MM:SS.mmm):{0xTID} {user}
    r"^\[(\d+)\] \((\d\d)/(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{3})\):"
    r"(\{0x[0-9A-F]+\})(?: \{([^}]*)\})?"
)


def _load_generator() -> ModuleType:
    path = REPO / "scripts" / "make_sample_logs.py"
    spec = importlib.util.spec_from_file_location("make_sample_logs", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


gen = _load_generator()


def _patterns() -> dict[str, dict]:
    found = {}
    for path in sorted((REPO / "patterns").glob("*.toml")):
        for p in tomllib.loads(path.read_text(encoding="utf-8")).get("pattern", []):
            found[p["id"]] = {**p, "compiled": regex.compile(p["regex"])}
    return found


PATTERNS = _patterns()


def _read(path: Path) -> str:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list]:
    out = tmp_path_factory.mktemp("a")
    return out, gen.generate(out)


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_deterministic(corpus: tuple[Path, list], tmp_path: Path) -> None:
    out, _ = corpus
    gen.generate(tmp_path)
    a, b = _files(out), _files(tmp_path)
    assert [p.relative_to(out) for p in a] == [p.relative_to(tmp_path) for p in b]
    for pa, pb in zip(a, b):
        assert pa.read_bytes() == pb.read_bytes(), pa.name


def test_rerun_deletes_only_log_files(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("keep me")
    gen.generate(tmp_path, noise_per_hour=10)
    gen.generate(tmp_path, noise_per_hour=10, extra_days=1)
    gen.generate(tmp_path, noise_per_hour=10)
    assert (tmp_path / "README.md").read_text() == "keep me"
    assert not list(tmp_path.glob("*/20240102"))


def test_key_lines_match_their_patterns(corpus: tuple[Path, list]) -> None:
    _, scenarios = corpus
    events = [e for sc in scenarios for e in sc.events]
    unused = {"bes.current-date", "magt.opendatabase-failed"}
    assert {e.pattern for e in events} >= set(PATTERNS) - unused
    for e in events:
        pattern = PATTERNS[e.pattern]
        assert pattern["compiled"].search(e.line), (e.pattern, e.line)
        assert any(lit in e.line for lit in pattern.get("prefilter", [""])), (e.pattern, e.line)


def test_only_key_lines_match_a_pattern(corpus: tuple[Path, list]) -> None:
    out, scenarios = corpus
    wanted = {(e.path, e.line): e.pattern for sc in scenarios for e in sc.events}
    seen = set()
    for path in _files(out):
        rel = path.relative_to(out).as_posix()
        for n, line in enumerate(_read(path).split("\r\n")[:-1]):
            hits = [pid for pid, p in PATTERNS.items() if p["compiled"].search(line)]
            if (rel, line) in wanted:
                assert hits == [wanted[rel, line]], line
                seen.add((rel, line))
            elif hits == ["bes.current-date"]:
                assert rel.endswith("_0002.txt") and n == 1, line
            else:
                assert not hits, (rel, line, hits)
    assert seen == set(wanted)


def test_file_shape(corpus: tuple[Path, list]) -> None:
    out, _ = corpus
    past_new_year = False
    for path in _files(out):
        server, day = path.parent.parent.name, path.parent.name
        assert re.fullmatch(rf"{server}_[A-Z]{{4}}_\d\d_{day}_\d{{4}}\.txt", path.name)
        text = _read(path)
        assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
        year, last = int(day[:4]), None
        for line in text.split("\r\n")[:-1]:
            m = HEADER.match(line)
            assert m, line
            month, dom, h, mi, s, ms = map(int, m.groups()[1:7])
            if last and month < last.month:
                year += 1
            stamp = datetime(year, month, dom, h, mi, s, ms * 1000)
            assert last is None or stamp >= last, line
            last = stamp
            past_new_year |= day == "20231231" and (month, dom) == (1, 1)
        if path.name.endswith("_0002.txt"):
            first, second = text.split("\r\n")[:2]
            assert first.startswith("[50000]") and "Current Date: " in second
    assert past_new_year
    assert {p.parent.parent.name for p in _files(out)} == {"BBPROD01", "BES_EAST_02"}


def test_key_accept_inherits_the_key_user(corpus: tuple[Path, list]) -> None:
    out, _ = corpus
    checked = 0
    for path in out.rglob("*_MAGT_*.txt"):
        named: dict[str, list[str]] = {}  # thread -> users named on it, in order
        previous: dict[str, str] = {}  # thread -> its last line
        for line in _read(path).split("\r\n")[:-1]:
            m = HEADER.match(line)
            assert m
            tid, user = m.group(8), m.group(9)
            if "KEY_ACCEPT" in line:
                assert "Generating" in previous[tid], line
                assert len(set(named[tid])) > 1, "no other user on the key thread before the key"
                checked += 1
            if user:
                named.setdefault(tid, []).append(user)
            previous[tid] = line
    assert checked >= 8


def test_timing_gives_the_expected_status(corpus: tuple[Path, list]) -> None:
    _, scenarios = corpus
    stages = tomllib.loads((REPO / "patterns" / "stages.toml").read_text(encoding="utf-8"))
    unit = {"m": timedelta(minutes=1), "h": timedelta(hours=1)}
    limit = {s["stage"]: int(s["stall_after"][:-1]) * unit[s["stall_after"][-1]] for s in stages["stage"]}
    for sc in scenarios:
        if not sc.activating:
            continue
        status = sc.expected()["status"]
        last = sc.events[-1]
        stage = PATTERNS[last.pattern]["stage"]
        gap = sc.log_end - last.time
        if status == "stalled":
            assert gap > limit[stage] + timedelta(hours=1), sc.user.email
        elif status == "in_progress":
            assert gap < limit[stage] / 2, sc.user.email
        books = [e.time for e in sc.events if e.pattern == "magt.service-books-queued"]
        join = ("magt.service-books-queued", "polc.itpolicy-queued")
        others = [
            e.time
            for o in scenarios
            if o.server == sc.server and o is not sc
            for e in o.events
            if e.pattern in join
        ]
        for t in books:  # the MAGT -> POLC join by time order is unambiguous
            assert all(abs(o - t) > timedelta(minutes=2) for o in others), sc.user.email


def test_committed_truth_matches_the_table() -> None:
    path = REPO / "tests" / "data" / "sample_expected.json"
    expected = json.loads(path.read_text(encoding="utf-8"))
    assert expected == [sc.expected() for sc in gen.scenarios() if sc.activating]
    assert {(r["status"], r["kb"]) for r in expected} >= {
        ("complete", None),
        ("in_progress", None),
        ("stalled", "KB13840"),
        ("stalled", "KB13843"),
        ("stalled", "KB03410"),
        ("stalled", "KB13847"),
        ("stalled", "KB03964"),
        ("stalled", "KB10496"),
        ("stalled", "KB13461"),
        ("failed", "KB04829"),
        ("failed", "KB10321"),
        ("failed", "KB02276"),
        ("failed", "KB13843"),
        ("failed", "KB04533"),
    }
