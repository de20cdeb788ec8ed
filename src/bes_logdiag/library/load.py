"""Loading the pattern library: find the TOML files, read them, build and cross-check their rows."""

from __future__ import annotations

import difflib
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from bes_logdiag.errors import PatternError
from bes_logdiag.library.defs import JOIN_ROLES, TABLES, Library, Pattern, StallRule
from bes_logdiag.library.rows import (
    KEY_ORDER,
    build_article,
    build_milestones,
    build_pattern,
    build_rule,
    build_stage,
    choices,
)
from bes_logdiag.words import plural

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


@dataclass(frozen=True)
class Loaded:
    """What reading the library's files gave: the library when nothing was wrong, the patterns
    of the files whose examples must be checked (also those with a problem, if they could be
    built), and every problem as one line naming the file (and the pattern)."""

    library: Library | None
    checked: tuple[Pattern, ...]
    problems: tuple[str, ...]


def builtin_dir() -> Path:
    """The built-in pattern library: inside the installed wheel, or the checkout's ``patterns/``."""
    packaged = resources.files("bes_logdiag") / "patterns"
    if packaged.is_dir():
        return Path(str(packaged))
    checkout = Path(__file__).resolve().parents[3] / "patterns"
    if checkout.is_dir():
        return checkout
    raise PatternError(f"{packaged}: the built-in pattern library is missing from this install")


def load_library(extra_dirs: Sequence[Path] = ()) -> Library:
    """The built-in library plus the admin's own TOML files (``--patterns DIR``), checked for
    what compiling needs (TOML, tables, keys, regexes, references); the first problem is raised
    as one line.  `pattern_check.load_checked_library` also runs the admin's examples."""
    loaded = read_library(extra_dirs)
    if loaded.library is None:
        raise_problems(loaded.problems, extra_dirs)
    assert loaded.library is not None
    return loaded.library


def raise_problems(problems: Sequence[str], extra_dirs: Sequence[Path]) -> None:
    """Raise the first problem, with the count of the others and the command that lists them."""
    first, more = problems[0], len(problems) - 1
    if more:
        where = "".join(f" --patterns {d}" for d in extra_dirs)
        first += f" (and {plural(more, 'more problem')}: bes-logdiag patterns check{where} lists them)"
    raise PatternError(first)


def read_library(extra_dirs: Sequence[Path] = (), *, check_builtin: bool = False) -> Loaded:
    """Read and build every file; ``checked`` holds the admin's patterns (and, with
    ``check_builtin``, the built-in ones too), whose examples `pattern_check` runs."""
    problems: list[str] = []
    builtin = library_files(builtin_dir())
    admin = _admin_files(extra_dirs, builtin, problems)
    tables: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    pattern_rows: list[tuple[str, int, dict[str, Any], bool, bool]] = []
    files = builtin + admin
    for path in files:
        doc = _read_toml(path, problems)
        if doc is None:
            continue
        problems.extend(_table_problems(path, doc))
        checked = check_builtin or path in admin
        for kind in TABLES:
            rows = doc.get(kind)
            if not isinstance(rows, list):
                continue
            for n, row in enumerate(r for r in rows if isinstance(r, dict)):
                if kind == "pattern":
                    pattern_rows.append((str(path), n + 1, row, checked, path in builtin))
                else:
                    tables.setdefault(kind, []).append((str(path), row))
    stages = {
        s.stage: s for src, r in tables.get("stage", []) if (s := build_stage(src, r, problems)) is not None
    }
    milestones = build_milestones(tables.get("milestone", []), problems)
    articles = {
        a.id: a
        for src, r in tables.get("article", [])
        if (a := build_article(src, r, milestones, problems)) is not None
    }
    rules: dict[str, StallRule] = {}
    for src, r in tables.get("stall", []):
        rule = build_rule(src, r, milestones, articles, problems)
        if rule is not None:
            rules[rule.after] = rule
    patterns: list[Pattern] = []
    checked_patterns: list[Pattern] = []
    seen: dict[str, str] = {}
    for src, n, row, checked, is_builtin in pattern_rows:
        before = len(problems)
        p = build_pattern(row, src, n, milestones, articles, seen, problems, builtin=is_builtin)
        if p is not None and checked:
            checked_patterns.append(p)
        if p is not None and len(problems) == before:
            patterns.append(p)
    lib = None
    if not problems:
        lib = Library(tuple(patterns), stages, milestones, articles, rules, tuple(map(str, files)))
        problems = coverage_problems(lib)
        if problems:
            lib = None
    return Loaded(lib, tuple(checked_patterns), tuple(problems))


def library_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.toml"))


def _admin_files(extra_dirs: Sequence[Path], builtin: list[Path], problems: list[str]) -> list[Path]:
    """The files of ``--patterns``: each folder's .toml files, or a .toml file given by name."""
    seen = {p.resolve() for p in builtin}
    out: list[Path] = []
    for d in extra_dirs:
        if d.is_dir():
            found = library_files(d)
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


def _read_toml(path: Path, problems: list[str]) -> dict[str, Any] | None:
    try:
        with path.open("rb") as f:
            doc: dict[str, Any] = tomllib.load(f)
            return doc
    except tomllib.TOMLDecodeError as e:
        problems.append(f"{path}: invalid TOML: {e}")
    except OSError as e:
        problems.append(f"{path}: cannot read: {e.strerror or e}")
    return None


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
        elif key in KEY_ORDER:
            hint = "a pattern's keys go below its [[pattern]] header"
        else:
            hint = "the tables are " + ", ".join(f"[[{t}]]" for t in TABLES)
        out.append(f"{path}: unknown {what} {shown} ({hint})")
    return out


def coverage_problems(lib: Library) -> list[str]:
    """What the library as a whole lacks: a stall rule after every milestone that can stall, and
    the time-order join's milestones in pairs."""
    roles = [m for m in lib.milestones.values() if m.join is not None]
    out = [
        f"milestone {m.name}: join = {m.join!r} is not one of {choices(JOIN_ROLES)}"
        for m in roles
        if m.join not in JOIN_ROLES
    ]
    for role in JOIN_ROLES:
        named = [m.name for m in roles if m.join == role]
        if len(named) > 1:
            out.append(f"milestones {choices(named)}: only one milestone may have join = {role!r}")
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
