"""The pattern library: load the TOML files of ``patterns/``, compile once, check examples."""

from __future__ import annotations

import difflib
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import regex

from bes_logdiag.errors import PatternError
from bes_logdiag.model import LogLine
from bes_logdiag.parse import YearClock, parse_line, split_records
from bes_logdiag.settings import parse_duration
from bes_logdiag.words import plural

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

MATCH_TIMEOUT = 0.25
"""Seconds one regex may take on one line: an admin's catastrophic pattern cannot stall a scan."""

_KEY_ORDER = (
    "id", "title", "service", "stage", "milestone", "error", "kb", "level", "role", "prefilter",
    "regex", "inherit_user", "opens_attempt", "resumes", "examples", "counter_examples", "note",
)  # fmt: skip
_KNOWN_PATTERN_KEYS = set(_KEY_ORDER)
_TEXT_KEYS = ("id", "title", "service", "milestone", "error", "kb", "level", "role", "regex", "note")
_FLAG_KEYS = ("inherit_user", "opens_attempt", "resumes")
_LEVELS = {"info", "warning", "error", "debug"}

TABLES = {
    "pattern": "pattern",
    "milestone": "milestone",
    "stage": "stage",
    "article": "KB article",
    "stall": "stall rule",
}
"""The top-level tables of a pattern file (each an array of tables: ``[[pattern]]``) and what one
row of each is.  activation.toml and errors.toml hold patterns, stages.toml stages and milestones,
kb.toml articles, rules.toml stall rules; an admin's own file may hold any of them."""

USER_GROUPS = ("email", "user_id", "display_name")
"""Named groups that say who a line is about (match.py turns them into the event's identities)."""
KNOWN_GROUPS = (*USER_GROUPS, "trans_id", "etp_host", "command", "cipher", "hresult", "year", "month", "day")
"""Every named group the code or the built-in patterns use: the identities above, what the
built-in patterns capture for the evidence (KEY_ACCEPT transID, ETP host, device command, key
cipher, MAPI error code), and the date of a ``role = "date"`` line."""

SERVICE_CODES = (
    "MAGT", "POLC", "SYNC", "DISP", "ROUT", "CTRL", "CMNG",
    "MDAT", "MDSS", "ALRT", "BBIM", "CBCK", "CONN", "MAST", "BBUA",
)  # fmt: skip
"""The BES service codes of the log file names (BES-LOGS.md section 1)."""


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
    resumes: bool = False
    """A line that does not open an attempt but continues one in its stage after any pause (the
    device's own commands during the slow synchronization); other such lines only join an
    attempt whose last line is recent."""
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
    join: str | None = None
    """``request`` or ``answer``: the pair of lines the time-order identity join links."""


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

    def milestone_with(self, join: str) -> str | None:
        """The milestone that plays a part in the time-order join (``request`` or ``answer``)."""
        return next((m.name for m in self.milestones.values() if m.join == join), None)

    @property
    def first_milestone(self) -> str | None:
        """The milestone an activation begins with (``starts_attempt``): what a user with no
        milestone yet waits for."""
        return next((m.name for m in self.milestones.values() if m.starts_attempt), None)

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
    """Load the built-in library plus the admin's own TOML files (``--patterns DIR``).

    The admin's files get every check of ``patterns check`` (examples, counter-examples, users,
    the scan's prefilter); the built-in files only what compiling needs, their examples being
    tested.  The first problem is raised as one line, with the count of the others.
    """
    lib, problems = _gather(extra_dirs, check_builtin=False)
    if problems or lib is None:
        first, more = problems[0], len(problems) - 1
        if more:
            where = "".join(f" --patterns {d}" for d in extra_dirs)
            first += f" (and {plural(more, 'more problem')}: bes-logdiag patterns check{where} lists them)"
        raise PatternError(first)
    return lib


def check_files(extra_dirs: Sequence[Path] = ()) -> tuple[Library | None, list[str]]:
    """Check every pattern of every file, reporting all problems rather than stopping at the first.

    The same checks as loading (TOML, tables, keys, regex, duplicate ids, references) plus every
    example and counter-example of the built-in files too, and the scan's prefilter; ``patterns
    check`` and the tests both call this.
    """
    return _gather(extra_dirs, check_builtin=True)


def _library_files(folder: Path) -> list[Path]:
    # presence*.toml hold the BEMS Presence rules, which are not log patterns.
    return sorted(p for p in folder.glob("*.toml") if not p.name.startswith("presence"))


def _admin_files(extra_dirs: Sequence[Path], builtin: list[Path], problems: list[str]) -> list[Path]:
    """The files of ``--patterns``: each folder's .toml files, or a .toml file given by name."""
    seen = {p.resolve() for p in builtin}
    out: list[Path] = []
    for d in extra_dirs:
        if d.is_dir():
            found = _library_files(d)
            if not found:
                problems.append(f"{d}: no .toml pattern files in this folder")
        elif d.is_file():
            found = [d]
            if d.suffix.lower() != ".toml":
                problems.append(f"{d}: not a .toml file (--patterns takes a folder of .toml files, or one)")
                found = []
        elif d.exists():
            problems.append(f"{d}: not a folder or a .toml file")
            found = []
        else:
            problems.append(f"{d}: no such folder")
            found = []
        for path in found:
            if path.resolve() not in seen:  # the same file twice is not a duplicate of itself
                seen.add(path.resolve())
                out.append(path)
    return out


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            doc: dict[str, Any] = tomllib.load(f)
            return doc
    except tomllib.TOMLDecodeError as e:
        raise PatternError(f"{path}: invalid TOML: {e}") from e
    except OSError as e:
        raise PatternError(f"{path}: cannot read: {e.strerror or e}") from e


def _table_problems(path: Path, doc: dict[str, Any]) -> list[str]:
    """Top-level tables and keys that are not the library's: ``[[patterns]]``, ``[pattern]``, a
    pattern's keys written above any ``[[pattern]]`` header."""
    out = []
    for key, value in doc.items():
        rows = isinstance(value, list) and all(isinstance(r, dict) for r in value) and value
        if key in TABLES:
            if isinstance(value, dict):
                out.append(f"{path}: [{key}] must be written [[{key}]] (one per {TABLES[key]})")
            elif not rows:
                out.append(f"{path}: {key} = ... must be written as [[{key}]] tables (one per {TABLES[key]})")
            continue
        shown = f"[[{key}]]" if rows else f"[{key}]" if isinstance(value, dict) else f"key {key}"
        what = "table" if rows or isinstance(value, dict) else "top-level"
        close = difflib.get_close_matches(key.lower(), TABLES, n=1, cutoff=0.6)
        if close:
            hint = f"a {TABLES[close[0]]} is a [[{close[0]}]] table"
        elif key in _KNOWN_PATTERN_KEYS:
            hint = "a pattern's keys go below its [[pattern]] header"
        else:
            hint = "the tables are " + ", ".join(f"[[{t}]]" for t in TABLES)
        out.append(f"{path}: unknown {what} {shown} ({hint})")
    return out


def _gather(extra_dirs: Sequence[Path], *, check_builtin: bool) -> tuple[Library | None, list[str]]:
    """Read, compile and check; every problem is one line naming the file (and the pattern)."""
    problems: list[str] = []
    builtin = _library_files(builtin_dir())
    admin = _admin_files(extra_dirs, builtin, problems)
    tables: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    pattern_rows: list[tuple[str, int, dict[str, Any], bool]] = []
    files = builtin + admin
    for path in files:
        try:
            doc = _read_toml(path)
        except PatternError as e:
            problems.append(str(e))
            continue
        problems.extend(_table_problems(path, doc))
        checked = check_builtin or path in admin
        for kind in TABLES:
            rows = doc.get(kind)
            if not isinstance(rows, list):
                continue
            for n, row in enumerate(r for r in rows if isinstance(r, dict)):
                if kind == "pattern":
                    pattern_rows.append((str(path), n + 1, row, checked))
                else:
                    tables.setdefault(kind, []).append((str(path), row))
    stages = {s.stage: s for s in _build_all(tables.get("stage", []), _stage, problems)}
    milestones = _milestones(tables.get("milestone", []), problems)
    articles = {a.id: a for a in _build_all(tables.get("article", []), _article, problems)}
    rules: dict[str, StallRule] = {}
    for src, r in tables.get("stall", []):
        rule = _rule(src, r, milestones, articles, problems)
        if rule is not None:
            rules[rule.after] = rule
    patterns: list[Pattern] = []
    checked_patterns: list[Pattern] = []
    seen: dict[str, str] = {}
    for src, n, row, checked in pattern_rows:
        p, found = _build_pattern(row, src, n, milestones, articles, seen, check_examples=checked)
        problems.extend(found)
        if p is not None:
            patterns.append(p)
            if checked:
                checked_patterns.append(p)
    if problems:
        return None, problems
    lib = Library(tuple(patterns), stages, milestones, articles, rules, tuple(map(str, files)))
    problems = _coverage(lib)
    if checked_patterns:
        from bes_logdiag.match import check_prefilter  # match imports this module

        everything = len(checked_patterns) == len(patterns)
        problems += check_prefilter(lib if everything else replace(lib, patterns=tuple(checked_patterns)))
    return (None, problems) if problems else (lib, [])


JOIN_ROLES = ("request", "answer")


def _coverage(lib: Library) -> list[str]:
    roles = [m for m in lib.milestones.values() if m.join is not None]
    out = [
        f"milestone {m.name}: join = {m.join!r} is not one of {_choices(JOIN_ROLES)}"
        for m in roles
        if m.join not in JOIN_ROLES
    ]
    for role in JOIN_ROLES:
        named = [m.name for m in roles if m.join == role]
        if len(named) > 1:
            out.append(f"milestones {_choices(named)}: only one milestone may have join = {role!r}")
    if len({m.join for m in roles} & set(JOIN_ROLES)) == 1:
        out.append(
            f"milestone {roles[0].name}: join = {roles[0].join!r} needs a partner milestone with the "
            "other role (request and answer)"
        )
    return out + [
        f"milestone {name}: no stall rule says which KB applies after it "
        f"(add a [[stall]] with after = {name!r})"
        for name, m in lib.milestones.items()
        if m.next is not None and not m.completes and name not in lib.stall_rules
    ]


def _choices(values: Iterable[str]) -> str:
    return ", ".join(values)


def _suggest(value: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(value, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


def _label(row: dict[str, Any], n: int) -> str:
    pid = row.get("id")
    if isinstance(pid, str) and pid.strip():
        return pid
    title = row.get("title")
    if isinstance(title, str) and title.strip():
        short = " ".join(title.split())
        return f'#{n} "{short[:50]}{"…" if len(short) > 50 else ""}"'
    return f"#{n}"


def _build_pattern(
    row: dict[str, Any],
    src: str,
    n: int,
    milestones: dict[str, MilestoneDef],
    articles: dict[str, Article],
    seen: dict[str, str],
    *,
    check_examples: bool,
) -> tuple[Pattern | None, list[str]]:
    """One ``[[pattern]]`` table (the ``n``-th of its file): the Pattern, or every problem with it."""
    label = _label(row, n)
    where = f"{src}: pattern {label}"
    out: list[str] = []
    pid = row.get("id")
    if pid is None or pid == "":
        out.append(f'{where}: has no id: add id = "site.what-it-matches" (unique, never reused)')
    elif not isinstance(pid, str):
        out.append(f'{where}: id must be text in quotes: id = "site.what-it-matches"')
    elif pid in seen:
        out.append(f"{where}: duplicate id (also in {seen[pid]})")
    else:
        seen[pid] = src
    unknown = sorted(set(row) - _KNOWN_PATTERN_KEYS)
    if unknown:
        hints = [f"{k}{_suggest(k, _KEY_ORDER)}" for k in unknown]
        known = "" if all("did you mean" in h for h in hints) else f"; the keys are {_choices(_KEY_ORDER)}"
        out.append(f"{where}: unknown key{'s' if len(unknown) > 1 else ''} {', '.join(hints)}{known}")
    for key in _TEXT_KEYS:
        if key != "id" and key in row and not isinstance(row[key], str):
            out.append(f'{where}: {key} must be text in quotes: {key} = "..."')
    for key in _FLAG_KEYS:
        if key in row and not isinstance(row[key], bool):
            out.append(f"{where}: {key} must be true or false (without quotes)")
    bad_lists = [
        key
        for key in ("examples", "counter_examples")
        if not isinstance(row.get(key, []), list) or not all(isinstance(x, str) for x in row.get(key, []))
    ]
    for key in bad_lists:
        out.append(f"{where}: {key} must be a list of lines: {key} = ['''...''', '''...''']")
    compiled = _compile_regex(row, where, out)
    level = row.get("level", "error" if row.get("error") else "info")
    if level not in _LEVELS:
        out.append(f"{where}: level must be one of {_choices(sorted(_LEVELS))}")
    stage = row.get("stage")
    if stage is not None and (isinstance(stage, bool) or stage not in (1, 2, 3, 4)):
        out.append(f"{where}: stage must be 1, 2, 3 or 4")
        stage = None
    role = row.get("role")
    if role not in (None, "date"):
        out.append(f"{where}: role must be 'date' or absent")
    elif role == "date" and compiled is not None and not {"year", "month", "day"} <= set(compiled.groupindex):
        out.append(f'{where}: role = "date" needs the named groups year, month and day')
    literals = _literals(row, compiled, where, out)
    if role is None:
        out.extend(_meaning_problems(row, where, stage, milestones, articles))
    service = row.get("service")
    if isinstance(service, str) and service not in SERVICE_CODES:
        hint = _suggest(service.upper().replace("POLICY", "POLC"), SERVICE_CODES)
        out.append(
            f"{where}: service {service!r} is not a BES service code{hint}: use the code of the log "
            f"file names, one of {_choices(SERVICE_CODES)}, or leave service out"
        )
    if compiled is None or literals is None or bad_lists:
        return None, out
    pattern = Pattern(
        id=pid if isinstance(pid, str) and pid else label,
        regex=compiled,
        source=src,
        prefilter=_encodings(literals),
        title=str(row.get("title", "")),
        service=service,
        stage=stage,
        milestone=row.get("milestone"),
        error=row.get("error"),
        kb=row.get("kb"),
        level=level,
        role=role,
        inherit_user=row.get("inherit_user", False) is True,
        opens_attempt=row.get("opens_attempt", True) is not False,
        resumes=row.get("resumes", False) is True,
        examples=tuple(row.get("examples", ())),
        counter_examples=tuple(row.get("counter_examples", ())),
    )
    try:
        _probe(pattern, where)
    except PatternError as e:
        out.append(str(e))
        check_examples = False  # a runaway regex would spend its time limit on every example
    if check_examples:
        out.extend(check_pattern(pattern, where))
    return (None if out else pattern), out


def _compile_regex(row: dict[str, Any], where: str, out: list[str]) -> regex.Pattern[str] | None:
    text = row.get("regex")
    if not isinstance(text, str) or not text:
        if text is None or text == "":
            out.append(f"{where}: no regex: add regex = '''...''' (a TOML literal string)")
        return None
    try:
        compiled = regex.compile(text)
    except regex.error as e:
        out.append(f"{where}: invalid regex: {e}")
        return None
    unknown = [g for g in compiled.groupindex if g not in KNOWN_GROUPS]
    if unknown:
        hints = ", ".join(f"{g}{_suggest(g, KNOWN_GROUPS)}" for g in unknown)
        out.append(
            f"{where}: unknown named group{'s' if len(unknown) > 1 else ''} {hints}: "
            f"the known names are {_choices(KNOWN_GROUPS)}"
        )
    return compiled


def _literals(
    row: dict[str, Any], compiled: regex.Pattern[str] | None, where: str, out: list[str]
) -> list[str] | None:
    literals = row.get("prefilter")
    if literals is None:
        if compiled is None:
            return None
        derived = derive_literal(compiled.pattern)
        if derived is None:
            out.append(f"{where}: cannot derive a prefilter literal from the regex; add prefilter = [...]")
            return None
        return [derived]
    if isinstance(literals, str):  # one literal: as good as a list of one
        literals = [literals]
    if (
        not isinstance(literals, list)
        or not literals
        or not all(isinstance(x, str) and len(x) >= 3 for x in literals)
    ):
        out.append(
            f'{where}: prefilter must be a list of literals of 3 characters or more: prefilter = ["..."]'
        )
        return None
    return literals


def _meaning_problems(
    row: dict[str, Any],
    where: str,
    stage: int | None,
    milestones: dict[str, MilestoneDef],
    articles: dict[str, Article],
) -> list[str]:
    """What a matched line would mean: a milestone, or an error and its KB article, and its stage."""
    out = []
    ms, err, kb = row.get("milestone"), row.get("error"), row.get("kb")
    if ms is None and err is None:
        out.append(
            f"{where}: matches lines but names neither a milestone nor an error: it would have no "
            f'effect (add milestone = "...", or error = "..." with kb = "...")'
        )
    if ms is not None and err is not None:
        out.append(f"{where}: names both milestone {ms} and error {err}: give one (progress or an error)")
    if isinstance(ms, str):
        m = milestones.get(ms)
        if m is None:
            out.append(
                f"{where}: unknown milestone {ms!r}{_suggest(ms, milestones)}: the milestones are "
                f"{_choices(milestones)}"
            )
        elif stage is not None and stage != m.stage:
            out.append(f"{where}: stage {stage}, but milestone {ms} is stage {m.stage} (leave stage out)")
    if isinstance(kb, str) and kb not in articles:
        out.append(
            f"{where}: unknown KB article {kb!r}{_suggest(kb.upper(), articles)}: the articles are "
            f"{_choices(sorted(articles))}"
        )
    if isinstance(err, str):
        if kb is None:
            out.append(
                f'{where}: error {err} has no kb: add kb = "KB...", the article it points to, one of '
                f"{_choices(sorted(articles))}"
            )
        if stage is None:
            art = articles.get(kb) if isinstance(kb, str) else None
            hint = f" ({kb} is a stage {art.stage} article)" if art else ""
            out.append(f"{where}: error {err} has no stage: add stage = 1, 2, 3 or 4, where it stops{hint}")
    return out


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


def check_pattern(p: Pattern, where: str | None = None) -> list[str]:
    """Every problem with one pattern's examples, as messages naming the file and the id.

    Each example is read the way the scan reads a line (records, header, body, quotes), and the
    event it would give must say who it is about.
    """
    where = where or f"{p.source}: pattern {p.id}"
    problems = []
    if not p.examples:
        problems.append(f"{where}: has no examples: add examples = ['''...'''], real log lines it matches")
    for i, ex in enumerate(p.examples, 1):
        if not any(lit in ex.encode("utf-8") for lit in p.prefilter):
            problems.append(f"{where}: example does not contain its prefilter: {ex!r}")
        try:
            found = _scan_line(p, ex)
        except TimeoutError:
            found = None
        if found is None:
            if p.role is None and not any(parse_line(r, YearClock(None, 2000)) for r in split_records(ex)):
                problems.append(
                    f"{where}: example is not a BES log line (it needs the header, e.g. "
                    f"[40000] (05/21 06:51:39):{{0x1AEC}} {{user}} ...): {ex!r}"
                )
            else:
                problems.append(f"{where}: example does not match: {ex!r}")
            continue
        line, m = found
        if line is not None and not _names_user(p, line, m):
            problems.append(
                f"{where}: example {i} names no user: add a named group email, user_id or "
                "display_name, or inherit_user = true"
            )
    for ex in p.counter_examples:
        if matches_line(p, ex):
            problems.append(f"{where}: counter-example matches: {ex!r}")
    return problems


def _names_user(p: Pattern, line: LogLine, m: regex.Match[str]) -> bool:
    """Whether the event a scan makes of this match has an identity (as match.py builds it)."""
    if p.inherit_user or line.user:
        return True
    return any(m.groupdict().get(g) for g in USER_GROUPS)


def matches_line(p: Pattern, line: str) -> bool:
    """Whether a whole log line (header and all) is matched by the pattern, as a scan would."""
    try:
        return _scan_line(p, line) is not None
    except TimeoutError:
        return False


def _scan_line(p: Pattern, text: str) -> tuple[LogLine | None, regex.Match[str]] | None:
    """The parsed record and match a scan would make of one physical line, or None.

    As in match.py: a ``role = "date"`` pattern is tried on the whole line; any other on the body
    of each record the line holds; a match inside a quoted string does not count.
    """
    if p.role == "date":
        m = p.regex.search(text, timeout=MATCH_TIMEOUT)
        return (None, m) if m is not None and not in_quotes(text, m.start()) else None
    for record in split_records(text):
        parsed = parse_line(record, YearClock(None, 2000))
        if parsed is None:
            continue
        m = p.regex.search(parsed.body, timeout=MATCH_TIMEOUT)
        if m is not None and not in_quotes(parsed.body, m.start()):
            return parsed, m
    return None


def in_quotes(text: str, at: int) -> bool:
    """Whether `at` falls inside a quoted string of the message (``Subject="FW: ... SLOWSYNC
    COMPLETE ..."``): a mail subject or body that quotes a log line is not that line.  The scan
    (match.py) and the example checks here both ask this."""
    return text.count('"', 0, at) % 2 == 1


def check_library(lib: Library) -> list[str]:
    """Problems across a loaded library: each pattern's examples, plus stall-rule coverage."""
    return [msg for p in lib.patterns for msg in check_pattern(p)] + _coverage(lib)


def _build_all(rows: Iterable[tuple[str, dict[str, Any]]], build: Any, problems: list[str]) -> list[Any]:
    out = []
    for src, r in rows:
        try:
            out.append(build(src, r))
        except PatternError as e:
            problems.append(str(e))
    return out


def _stage(src: str, r: dict[str, Any]) -> StageDef:
    try:
        return StageDef(int(r["stage"]), str(r["name"]), parse_duration(str(r["stall_after"])))
    except KeyError as e:
        raise PatternError(f"{src}: [[stage]] {r.get('stage')}: is missing {e}") from e
    except (ValueError, TypeError) as e:
        raise PatternError(f"{src}: [[stage]] {r.get('stage')}: {e}") from e


def _milestones(rows: Iterable[tuple[str, dict[str, Any]]], problems: list[str]) -> dict[str, MilestoneDef]:
    out: dict[str, MilestoneDef] = {}
    for rank, (src, r) in enumerate(rows):
        try:
            out[r["name"]] = MilestoneDef(
                name=r["name"], stage=int(r["stage"]), title=r.get("title", r["name"]),
                rank=rank, next=r.get("next"), starts_attempt=bool(r.get("starts_attempt")),
                completes=bool(r.get("completes")), join=r.get("join"),
            )  # fmt: skip
        except KeyError as e:
            problems.append(f"{src}: [[milestone]] {r.get('name', '')}: is missing {e}".replace("  ", " "))
        except (ValueError, TypeError) as e:
            problems.append(f"{src}: [[milestone]] {r.get('name')}: {e}")
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
    except (ValueError, TypeError) as e:
        raise PatternError(f"{src}: [[article]] {r.get('id')}: {e}") from e


def _rule(
    src: str,
    r: dict[str, Any],
    milestones: dict[str, MilestoneDef],
    articles: dict[str, Article],
    problems: list[str],
) -> StallRule | None:
    try:
        rule = StallRule(r["after"], r["kb"], r.get("why", ""), tuple(r.get("also", ())))
    except KeyError as e:
        problems.append(f"{src}: [[stall]] {r.get('after', '')}: is missing {e}".replace("  ", " "))
        return None
    where = f"{src}: stall rule after {rule.after}"
    ok = True
    if rule.after not in milestones:
        problems.append(
            f"{where}: unknown milestone {rule.after!r}: the milestones are {_choices(milestones)}"
        )
        ok = False
    for kb in (rule.kb, *rule.also):
        if kb not in articles:
            problems.append(
                f"{where}: unknown KB article {kb!r}: the articles are {_choices(sorted(articles))}"
            )
            ok = False
    return rule if ok else None
