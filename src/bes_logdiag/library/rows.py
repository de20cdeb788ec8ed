"""Building the library's values from TOML rows: each builder appends every problem it finds to
one list, as a line naming the file (and the pattern), and returns the value or None."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

import regex

from bes_logdiag.library.defs import (
    KNOWN_GROUPS,
    MATCH_TIMEOUT,
    SERVICE_CODES,
    Article,
    MilestoneDef,
    Pattern,
    StageDef,
    StallRule,
    ruled_out,
)
from bes_logdiag.prefilter import required_literal
from bes_logdiag.settings import parse_duration

KEY_ORDER = (
    "id", "title", "service", "stage", "milestone", "error", "kb", "level", "role", "prefilter",
    "regex", "inherit_user", "inherit_from", "opens_attempt", "resumes", "examples", "counter_examples",
    "note",
)  # fmt: skip
"""A pattern's keys.  ``level`` and ``note`` are for the reader of the file (the severity the line
has in the log, a remark): checked, not used."""
_TEXT_KEYS = (
    "id", "title", "service", "milestone", "error", "kb", "level", "role", "regex", "note", "inherit_from",
)  # fmt: skip
_FLAG_KEYS = ("inherit_user", "opens_attempt", "resumes")
_LEVELS = {"info", "warning", "error", "debug"}


def choices(values: Iterable[str]) -> str:
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


def build_pattern(
    row: dict[str, Any],
    src: str,
    n: int,
    milestones: dict[str, MilestoneDef],
    articles: dict[str, Article],
    seen: dict[str, str],
    problems: list[str],
    *,
    builtin: bool = False,
) -> Pattern | None:
    """One ``[[pattern]]`` table (the ``n``-th of its file), or None when it cannot be built.

    A pattern built despite a problem (say, it names no milestone) is returned too, so that its
    examples can still be checked; the caller tells the two apart by the problems added.
    """
    label = _label(row, n)
    where = f"{src}: pattern {label}"
    out = problems
    pid = row.get("id")
    if pid is None or pid == "":
        out.append(f'{where}: has no id: add id = "site.what-it-matches" (unique, never reused)')
    elif not isinstance(pid, str):
        out.append(f'{where}: id must be text in quotes: id = "site.what-it-matches"')
    elif pid in seen:
        out.append(f"{where}: duplicate id (also in {seen[pid]})")
    else:
        seen[pid] = src
    unknown = sorted(set(row) - set(KEY_ORDER))
    if unknown:
        hints = [f"{k}{_suggest(k, KEY_ORDER)}" for k in unknown]
        known = "" if all("did you mean" in h for h in hints) else f"; the keys are {choices(KEY_ORDER)}"
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
        out.append(f"{where}: level must be one of {choices(sorted(_LEVELS))}")
    stage = row.get("stage")
    if stage is not None and (isinstance(stage, bool) or stage not in (1, 2, 3, 4)):
        out.append(f"{where}: stage must be 1, 2, 3 or 4")
        stage = None
    inherit_from = row.get("inherit_from")
    if isinstance(inherit_from, str):
        if inherit_from not in milestones:
            hint = _suggest(inherit_from, milestones)
            out.append(
                f"{where}: inherit_from {inherit_from!r} is not a milestone{hint}: "
                f"the milestones are {choices(milestones)}"
            )
        if row.get("inherit_user") is not True:
            out.append(f"{where}: inherit_from needs inherit_user = true (the line names no user)")
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
            f"file names, one of {choices(SERVICE_CODES)}, or leave service out"
        )
    if compiled is None or literals is None or bad_lists:
        return None
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
        role=role,
        inherit_user=row.get("inherit_user", False) is True,
        inherit_from=inherit_from if isinstance(inherit_from, str) else None,
        opens_attempt=row.get("opens_attempt", True) is not False,
        resumes=row.get("resumes", False) is True,
        examples=tuple(row.get("examples", ())),
        counter_examples=tuple(row.get("counter_examples", ())),
        builtin=builtin,
    )
    # A runaway regex would spend its time limit on every example: not worth checking them.
    return pattern if _probe(pattern, where, out) else None


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
            f"the known names are {choices(KNOWN_GROUPS)}"
        )
    return compiled


def _literals(
    row: dict[str, Any], compiled: regex.Pattern[str] | None, where: str, out: list[str]
) -> list[str] | None:
    literals = row.get("prefilter")
    if literals is None:
        if compiled is None:
            return None
        derived = required_literal(compiled.pattern)
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
                f"{choices(milestones)}"
            )
        elif stage is not None and stage != m.stage:
            out.append(f"{where}: stage {stage}, but milestone {ms} is stage {m.stage} (leave stage out)")
    if isinstance(kb, str) and kb not in articles:
        out.append(
            f"{where}: unknown KB article {kb!r}{_suggest(kb.upper(), articles)}: the articles are "
            f"{choices(sorted(articles))}"
        )
    if isinstance(err, str):
        if kb is None:
            out.append(
                f'{where}: error {err} has no kb: add kb = "KB...", the article it points to, one of '
                f"{choices(sorted(articles))}"
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


def _probe(p: Pattern, where: str, problems: list[str]) -> bool:
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
            problems.append(
                f"{where}: the regex takes over {MATCH_TIMEOUT}s on a {len(text)}-character line "
                f"(catastrophic backtracking?): {text[:40]!r}"
            )
            return False
    return True


def build_stage(src: str, r: dict[str, Any], problems: list[str]) -> StageDef | None:
    try:
        return StageDef(int(r["stage"]), str(r["name"]), parse_duration(str(r["stall_after"])))
    except KeyError as e:
        problems.append(f"{src}: [[stage]] {r.get('stage')}: is missing {e}")
    except (ValueError, TypeError) as e:
        problems.append(f"{src}: [[stage]] {r.get('stage')}: {e}")
    return None


def build_milestones(
    rows: Iterable[tuple[str, dict[str, Any]]], problems: list[str]
) -> dict[str, MilestoneDef]:
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


ARTICLE_KEYS = ("id", "stage", "prerequisite", "title", "device", "tell", "check", "ruled_out_by")
"""An article's keys (kb.toml's header says what each means)."""


def build_article(
    src: str, r: dict[str, Any], milestones: dict[str, MilestoneDef], problems: list[str]
) -> Article | None:
    where = f"{src}: [[article]] {r.get('id')}"
    unknown = sorted(set(r) - set(ARTICLE_KEYS))
    if unknown:
        hints = ", ".join(f"{k}{_suggest(k, ARTICLE_KEYS)}" for k in unknown)
        problems.append(f"{where}: unknown key{'s' if len(unknown) > 1 else ''} {hints}; "
                        f"the keys are {choices(ARTICLE_KEYS)}")  # fmt: skip
        return None
    ruled = _ruled_out_by(r.get("ruled_out_by", []), where, milestones, problems)
    try:
        article = Article(
            id=r["id"], stage=int(r["stage"]), title=r["title"], device=r.get("device", ""),
            tell=r.get("tell", ""), check=r.get("check", ""),
            prerequisite=bool(r.get("prerequisite")), ruled_out_by=ruled or (),
        )  # fmt: skip
    except KeyError as e:
        problems.append(f"{where} is missing {e}")
        return None
    except (ValueError, TypeError) as e:
        problems.append(f"{where}: {e}")
        return None
    return article if ruled is not None else None


def _ruled_out_by(
    value: object, where: str, milestones: dict[str, MilestoneDef], problems: list[str]
) -> tuple[str, ...] | None:
    """The milestones that rule an article out, each one the library knows; None if any is not."""
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        problems.append(
            f'{where}: ruled_out_by must be a list of milestones: ruled_out_by = ["key_generated"]'
        )
        return None
    unknown = [m for m in value if m not in milestones]
    for m in unknown:
        problems.append(
            f"{where}: ruled_out_by names {m!r}, not a milestone{_suggest(m, milestones)}: the milestones "
            f"are {choices(milestones)}"
        )
    return None if unknown else tuple(value)


def build_rule(
    src: str,
    r: dict[str, Any],
    milestones: dict[str, MilestoneDef],
    articles: dict[str, Article],
    problems: list[str],
) -> StallRule | None:
    try:
        rule = StallRule(
            r["after"], r["kb"], r.get("why", ""), tuple(r.get("also", ())), tuple(r.get("unseen", ()))
        )
    except KeyError as e:
        problems.append(f"{src}: [[stall]] {r.get('after', '')}: is missing {e}".replace("  ", " "))
        return None
    where = f"{src}: stall rule after {rule.after}"
    ok = True
    if rule.after not in milestones:
        problems.append(
            f"{where}: unknown milestone {rule.after!r}: the milestones are {choices(milestones)}"
        )
        ok = False
    for m in rule.unseen:
        if m not in milestones:
            problems.append(
                f"{where}: unseen names {m!r}, not a milestone{_suggest(m, milestones)}: the milestones "
                f"are {choices(milestones)}"
            )
            ok = False
    for kb in (rule.kb, *rule.also):
        if kb not in articles:
            problems.append(
                f"{where}: unknown KB article {kb!r}: the articles are {choices(sorted(articles))}"
            )
            ok = False
        elif ruled_out(articles[kb], (rule.after,), milestones):
            # A stall after this milestone can never be this article's problem (its ruled_out_by).
            fix = "drop it from also" if kb != rule.kb else "name an article that fits"
            problems.append(
                f"{where}: {kb} is ruled out once {rule.after} is reached (its ruled_out_by): {fix}"
            )
            ok = False
    return rule if ok else None
