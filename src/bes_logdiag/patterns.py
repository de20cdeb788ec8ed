"""The pattern library: load the TOML files of ``patterns/``, compile once, check examples."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import regex

from bes_logdiag.errors import PatternError
from bes_logdiag.parse import YearClock, parse_line
from bes_logdiag.settings import parse_duration

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

MATCH_TIMEOUT = 0.25
"""Seconds one regex may take on one line: an admin's catastrophic pattern cannot stall a scan."""

_KNOWN_PATTERN_KEYS = {
    "id", "title", "service", "stage", "milestone", "error", "kb", "level", "role", "prefilter",
    "regex", "inherit_user", "opens_attempt", "examples", "counter_examples", "note",
}  # fmt: skip
_LEVELS = {"info", "warning", "error", "debug"}


@dataclass(frozen=True)
class Pattern:
    id: str
    regex: regex.Pattern[str]
    source: str
    """The TOML file the pattern came from."""
    prefilter: tuple[bytes, ...]
    """Literals of which one must occur in the raw line for the regex to be tried."""
    title: str = ""
    service: str | None = None
    stage: int | None = None
    milestone: str | None = None
    error: str | None = None
    kb: str | None = None
    level: str = "info"
    role: str | None = None
    """``date`` for lines that carry the full date; None for activation lines."""
    inherit_user: bool = False
    opens_attempt: bool = True
    examples: tuple[str, ...] = ()
    counter_examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class StageDef:
    stage: int
    name: str
    stall_after: timedelta


@dataclass(frozen=True)
class MilestoneDef:
    name: str
    stage: int
    title: str
    rank: int
    """Position in the activation sequence: a larger rank is further along."""
    next: str | None = None
    starts_attempt: bool = False
    completes: bool = False


@dataclass(frozen=True)
class Article:
    id: str
    stage: int
    title: str
    device: str = ""
    tell: str = ""
    check: str = ""
    prerequisite: bool = False


@dataclass(frozen=True)
class StallRule:
    after: str
    kb: str
    why: str
    also: tuple[str, ...] = ()
    """Articles of other stages that the same silence can mean, listed as candidates."""


@dataclass(frozen=True)
class Library:
    patterns: tuple[Pattern, ...]
    stages: dict[int, StageDef]
    milestones: dict[str, MilestoneDef]
    articles: dict[str, Article]
    stall_rules: dict[str, StallRule]
    files: tuple[str, ...] = field(default=())

    @property
    def literals(self) -> tuple[bytes, ...]:
        """Every distinct prefilter literal, in a fixed order."""
        return tuple(dict.fromkeys(lit for p in self.patterns for lit in p.prefilter))


def builtin_dir() -> Path:
    """The built-in pattern library: inside the installed wheel, or the checkout's ``patterns/``."""
    packaged = resources.files("bes_logdiag") / "patterns"
    if packaged.is_dir():
        return Path(str(packaged))
    checkout = Path(__file__).resolve().parents[2] / "patterns"
    if checkout.is_dir():
        return checkout
    raise PatternError(f"{packaged}: the built-in pattern library is missing from this install")


def load_library(extra_dirs: Sequence[Path] = ()) -> Library:
    """Load the built-in library plus the admin's own TOML files (``--patterns DIR``)."""
    files = _library_files(builtin_dir())
    for d in extra_dirs:
        if not d.is_dir():
            raise PatternError(f"{d}: --patterns needs a folder of .toml files")
        found = _library_files(d)
        if not found:
            raise PatternError(f"{d}: no .toml pattern files in this folder")
        files.extend(found)
    tables: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for path in files:
        for kind, rows in _read_toml(path).items():
            if isinstance(rows, list):
                tables.setdefault(kind, []).extend((str(path), row) for row in rows)
    stages = {int(r["stage"]): _stage(src, r) for src, r in tables.get("stage", [])}
    milestones = _milestones(tables.get("milestone", []))
    articles = {str(r["id"]): _article(src, r) for src, r in tables.get("article", [])}
    rules = {str(r["after"]): _rule(src, r) for src, r in tables.get("stall", [])}
    patterns = _patterns(tables.get("pattern", []))
    for p in patterns:
        if p.milestone is not None and p.milestone not in milestones:
            raise PatternError(f"{p.source}: pattern {p.id}: unknown milestone {p.milestone!r}")
        if p.kb is not None and p.kb not in articles:
            raise PatternError(f"{p.source}: pattern {p.id}: unknown KB article {p.kb!r}")
    for r in rules.values():
        for kb in (r.kb, *r.also):
            if kb not in articles:
                raise PatternError(f"stall rule after {r.after}: unknown KB article {kb!r}")
    return Library(patterns, stages, milestones, articles, rules, tuple(map(str, files)))


def _library_files(folder: Path) -> list[Path]:
    # presence*.toml hold the BEMS Presence rules, which are not log patterns.
    return sorted(p for p in folder.glob("*.toml") if not p.name.startswith("presence"))


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            doc: dict[str, Any] = tomllib.load(f)
            return doc
    except tomllib.TOMLDecodeError as e:
        raise PatternError(f"{path}: invalid TOML: {e}") from e
    except OSError as e:
        raise PatternError(f"{path}: cannot read: {e.strerror or e}") from e


def _patterns(rows: Iterable[tuple[str, dict[str, Any]]]) -> tuple[Pattern, ...]:
    seen: dict[str, str] = {}
    out = []
    for src, row in rows:
        p = compile_pattern(row, src)
        if p.id in seen:
            raise PatternError(f"{src}: pattern {p.id}: duplicate id (also in {seen[p.id]})")
        seen[p.id] = src
        out.append(p)
    return tuple(out)


def compile_pattern(row: dict[str, Any], source: str) -> Pattern:
    """Build one Pattern from its TOML table; every problem names the file and the id."""
    pid = row.get("id")
    if not isinstance(pid, str) or not pid:
        raise PatternError(f"{source}: a [[pattern]] has no id")
    where = f"{source}: pattern {pid}"
    unknown = set(row) - _KNOWN_PATTERN_KEYS
    if unknown:
        raise PatternError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    text = row.get("regex")
    if not isinstance(text, str) or not text:
        raise PatternError(f"{where}: no regex")
    try:
        compiled = regex.compile(text)
    except regex.error as e:
        raise PatternError(f"{where}: invalid regex: {e}") from e
    level = row.get("level", "error" if row.get("error") else "info")
    if level not in _LEVELS:
        raise PatternError(f"{where}: level must be one of {', '.join(sorted(_LEVELS))}")
    stage = row.get("stage")
    if stage is not None and stage not in (1, 2, 3, 4):
        raise PatternError(f"{where}: stage must be 1, 2, 3 or 4")
    if row.get("role") not in (None, "date"):
        raise PatternError(f"{where}: role must be 'date' or absent")
    literals = row.get("prefilter")
    if literals is None:
        derived = derive_literal(text)
        if derived is None:
            raise PatternError(
                f"{where}: cannot derive a prefilter literal from the regex; add prefilter = [...]"
            )
        literals = [derived]
    if isinstance(literals, str):
        literals = [literals]
    if not literals or not all(isinstance(x, str) and len(x) >= 3 for x in literals):
        raise PatternError(f"{where}: prefilter must be literals of 3 characters or more")
    pattern = Pattern(
        id=pid,
        regex=compiled,
        source=source,
        prefilter=_encodings(literals),
        title=str(row.get("title", "")),
        service=row.get("service"),
        stage=stage,
        milestone=row.get("milestone"),
        error=row.get("error"),
        kb=row.get("kb"),
        level=level,
        role=row.get("role"),
        inherit_user=bool(row.get("inherit_user", False)),
        opens_attempt=bool(row.get("opens_attempt", True)),
        examples=tuple(row.get("examples", ())),
        counter_examples=tuple(row.get("counter_examples", ())),
    )
    _probe(pattern, where)
    return pattern


def _encodings(literals: Iterable[str]) -> tuple[bytes, ...]:
    # Lines are matched as raw bytes before decoding: a non-ASCII literal must be found whether
    # the file is UTF-8 or cp1252.
    out: dict[bytes, None] = {}
    for lit in literals:
        out[lit.encode("utf-8")] = None
        try:
            out[lit.encode("cp1252")] = None
        except UnicodeEncodeError:
            pass
    return tuple(out)


_META = set(".^$*+?{}[]\\|()")


def derive_literal(pattern: str) -> str | None:
    """The longest run of literal characters every match must contain, or None.

    Conservative: only runs outside groups count, and it gives up on alternation and
    case-insensitive patterns, where no single literal is required.
    """
    if "|" in pattern.replace("\\|", "") or "(?i" in pattern:
        return None
    best, run, depth, i = "", "", 0, 0

    def end_run(keep: str) -> str:
        return max(best, keep, key=len) if depth == 0 else best

    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            if nxt in _META or nxt in "-/\"'=:@,# ":
                run, i = run + nxt, i + 2
            else:  # \s, \d, \b ... end the run
                best, run, i = end_run(run), "", i + 2
            continue
        if c not in _META:
            run, i = run + c, i + 1
            continue
        optional = c in "?*" or (c == "{" and pattern[i:].startswith("{0"))
        best, run = end_run(run[:-1] if optional else run), ""
        if c in "[{":
            close = pattern.find("]" if c == "[" else "}", i + 2)
            i = close + 1 if close > 0 else len(pattern)
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth = max(0, depth - 1)
        i += 1
    best = end_run(run).strip()
    return best if len(best) >= 3 else None


_RUNAWAY: dict[str, str] = {}
"""Patterns that ran out of time in this process: id -> the line they choked on (start)."""


def search(p: Pattern, text: str) -> regex.Match[str] | None:
    """Run a pattern with a time limit.  A pattern that runs away once is dropped for the rest of
    the scan (a catastrophic pattern would otherwise cost its time limit on every line)."""
    if p.id in _RUNAWAY:
        return None
    try:
        return p.regex.search(text, timeout=MATCH_TIMEOUT)
    except TimeoutError:
        _RUNAWAY[p.id] = text[:80]
        return None


def runaway_patterns() -> dict[str, str]:
    """Which patterns this process has dropped for running out of time, and on what text."""
    return dict(_RUNAWAY)


def forget_runaway_patterns() -> None:
    """Give every pattern its chance again: a new scan starts with none dropped."""
    _RUNAWAY.clear()


def _probe(p: Pattern, where: str) -> None:
    """Refuse a regex that backtracks catastrophically on its own examples or on long runs of its
    own characters (``(x+x+)+y`` against ``xxxx…``): caught when loading, not mid-scan."""
    chars = sorted({c for c in p.regex.pattern if c.isalnum() or c in " ._-@"})[:24]
    heads = [""] + [lit.decode("utf-8", "replace") for lit in p.prefilter[:3]]
    probes = [f"{head}{sep}{c * 60}!" for head in heads for sep in ("", " ") for c in chars]
    probes += [" ".join([ex] * 4) for ex in p.examples[:3]]
    for text in probes:
        try:
            p.regex.search(text, timeout=MATCH_TIMEOUT)
        except TimeoutError:
            raise PatternError(
                f"{where}: the regex takes over {MATCH_TIMEOUT}s on a {len(text)}-character line "
                f"(catastrophic backtracking?): {text[:40]!r}"
            ) from None


def check_pattern(p: Pattern) -> list[str]:
    """Every problem with one pattern's examples, as messages naming the file and the id."""
    where = f"{p.source}: pattern {p.id}"
    problems = []
    if not p.examples:
        problems.append(f"{where}: has no examples")
    for ex in p.examples:
        if not any(lit in ex.encode("utf-8") for lit in p.prefilter):
            problems.append(f"{where}: example does not contain its prefilter: {ex!r}")
        if not matches_line(p, ex):
            problems.append(f"{where}: example does not match: {ex!r}")
    for ex in p.counter_examples:
        if matches_line(p, ex):
            problems.append(f"{where}: counter-example matches: {ex!r}")
    return problems


def matches_line(p: Pattern, line: str) -> bool:
    """Whether a whole log line (header and all) is matched by the pattern, as a scan would."""
    try:
        return _search_line(p, line) is not None
    except TimeoutError:
        return False


def _search_line(p: Pattern, line: str) -> regex.Match[str] | None:
    if p.role == "date":
        return p.regex.search(line, timeout=MATCH_TIMEOUT)
    parsed = parse_line(line, YearClock(None, 2000))
    if parsed is None:
        return None
    return p.regex.search(parsed.body, timeout=MATCH_TIMEOUT)


def check_library(lib: Library) -> list[str]:
    """Problems across a loaded library: each pattern's examples, plus stall-rule coverage."""
    problems = [msg for p in lib.patterns for msg in check_pattern(p)]
    for name, m in lib.milestones.items():
        if m.next is not None and not m.completes and name not in lib.stall_rules:
            problems.append(f"milestone {name}: no stall rule says which KB applies after it")
    return problems


def _stage(src: str, r: dict[str, Any]) -> StageDef:
    try:
        return StageDef(int(r["stage"]), str(r["name"]), parse_duration(str(r["stall_after"])))
    except (KeyError, ValueError) as e:
        raise PatternError(f"{src}: [[stage]] {r.get('stage')}: {e}") from e


def _milestones(rows: Iterable[tuple[str, dict[str, Any]]]) -> dict[str, MilestoneDef]:
    out: dict[str, MilestoneDef] = {}
    for rank, (src, r) in enumerate(rows):
        try:
            out[r["name"]] = MilestoneDef(
                name=r["name"], stage=int(r["stage"]), title=r.get("title", r["name"]),
                rank=rank, next=r.get("next"), starts_attempt=bool(r.get("starts_attempt")),
                completes=bool(r.get("completes")),
            )  # fmt: skip
        except KeyError as e:
            raise PatternError(f"{src}: [[milestone]] is missing {e}") from e
    return out


def _article(src: str, r: dict[str, Any]) -> Article:
    try:
        return Article(
            id=r["id"], stage=int(r["stage"]), title=r["title"], device=r.get("device", ""),
            tell=r.get("tell", ""), check=r.get("check", ""),
            prerequisite=bool(r.get("prerequisite")),
        )  # fmt: skip
    except KeyError as e:
        raise PatternError(f"{src}: [[article]] {r.get('id')} is missing {e}") from e


def _rule(src: str, r: dict[str, Any]) -> StallRule:
    try:
        return StallRule(r["after"], r["kb"], r.get("why", ""), tuple(r.get("also", ())))
    except KeyError as e:
        raise PatternError(f"{src}: [[stall]] is missing {e}") from e


def check_files(extra_dirs: Sequence[Path] = ()) -> tuple[Library | None, list[str]]:
    """Check every pattern of every file, reporting all problems rather than stopping at the first.

    The same checks as loading (TOML, regex, duplicate ids, references) plus every example and
    counter-example; ``patterns check`` and the tests both call this.
    """
    files = _library_files(builtin_dir())
    problems: list[str] = []
    for d in extra_dirs:
        found = _library_files(d) if d.is_dir() else []
        if not found:
            problems.append(f"{d}: no .toml pattern files in this folder")
        files.extend(found)
    seen: dict[str, str] = {}
    for path in files:
        try:
            doc = _read_toml(path)
        except PatternError as e:
            problems.append(str(e))
            continue
        for row in doc.get("pattern", []):
            try:
                p = compile_pattern(row, str(path))
            except PatternError as e:
                problems.append(str(e))
                continue
            if p.id in seen:
                problems.append(f"{path}: pattern {p.id}: duplicate id (also in {seen[p.id]})")
            seen.setdefault(p.id, str(path))
            problems.extend(check_pattern(p))
    if problems:
        return None, problems
    try:
        lib = load_library(extra_dirs)
    except PatternError as e:
        return None, [str(e)]
    return lib, [m for m in check_library(lib) if ": pattern " not in m]
