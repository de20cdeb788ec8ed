"""The pattern library's values: patterns, stages, milestones, articles, stall rules, names."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

import regex

MATCH_TIMEOUT = 0.25
"""Seconds one regex may take on one line: an admin's catastrophic pattern cannot stall a scan."""

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

JOIN_ROLES = ("request", "answer")
"""The two parts a milestone may play in the time-order identity join (``join = ...``)."""

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
    role: str | None = None
    """``date`` for lines that carry the full date; None for activation lines."""
    inherit_user: bool = False
    inherit_from: str | None = None
    """With ``inherit_user``: the milestone whose line on the same thread, just before this one,
    names the user (the KEY_ACCEPT's is the key generation); other users' lines on the thread in
    between do not take it over.  None: the user last named on the thread."""
    opens_attempt: bool = True
    resumes: bool = False
    """A line that does not open an attempt but continues one in its stage after any pause (the
    device's own commands during the slow synchronization); other such lines only join an
    attempt whose last line is recent."""
    examples: tuple[str, ...] = ()
    counter_examples: tuple[str, ...] = ()
    builtin: bool = False
    """From the built-in library: tested, and probed for runaway backtracking when loaded, so the
    scan runs it without the per-search time limit an admin's pattern gets."""


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
    ruled_out_by: tuple[str, ...] = ()
    """Milestones that rule the article out: once an attempt reached one of them, or a milestone
    after it in stages.toml's order, the problem the article describes is behind it
    (`Library.fits`).  Empty: the article fits at any point (KB02276, a prerequisite)."""


def ruled_out(article: Article, reached: Iterable[str], milestones: dict[str, MilestoneDef]) -> bool:
    """Whether one of the milestones reached is, or comes after, one of the article's
    ``ruled_out_by`` (stages.toml's order): its problem is behind the attempt."""
    bars = [milestones[m].rank for m in article.ruled_out_by if m in milestones]
    ranks = [milestones[m].rank for m in reached if m in milestones]
    return bool(bars and ranks) and max(ranks) >= min(bars)


@dataclass(frozen=True)
class StallRule:
    after: str
    kb: str
    why: str
    also: tuple[str, ...] = ()
    """Articles of other stages that the same silence can mean, listed as candidates."""
    unseen: tuple[str, ...] = ()
    """Milestones besides the next one whose absence the article rests on: where the logs that
    would hold them are missing, the stall is unconfirmed (`coverage`)."""


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

    def fits(self, article: Article, reached: Iterable[str]) -> bool:
        """Whether the article is still possible for an attempt that reached these milestones."""
        return not ruled_out(article, reached, self.milestones)

    @property
    def first_milestone(self) -> str | None:
        """The milestone an activation begins with (``starts_attempt``): what a user with no
        milestone yet waits for."""
        return next((m.name for m in self.milestones.values() if m.starts_attempt), None)

    @property
    def literals(self) -> tuple[bytes, ...]:
        """Every distinct prefilter literal, in a fixed order."""
        return tuple(dict.fromkeys(lit for p in self.patterns for lit in p.prefilter))
