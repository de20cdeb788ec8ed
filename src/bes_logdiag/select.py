"""Selecting activations and lines: the --user, --server, --since, --until and --status filters."""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from bes_logdiag.model import Activation, Event, Report, Status, Unattached
from bes_logdiag.names import fold_name


@dataclass(frozen=True)
class Selection:
    users: tuple[str, ...] = ()
    servers: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    statuses: tuple[Status, ...] = ()


@dataclass(frozen=True)
class Unmatched:
    """A ``--user`` or ``--server`` value that selected nothing."""

    option: str
    value: str
    in_logs: bool
    """The name is in the logs all the same (a server with no activation, a user with lines outside
    any activation): no typo, only nothing to show."""
    note: str
    """What to tell the user, with the near names when it is not in the logs ("did you mean")."""


_COMMA = re.compile(r"\s*,\s*")


def folded_query(text: str) -> str:
    """A name as given or as logged, folded for comparing (`names.fold_name`), its comma spaced one
    way: ``Dundas,Ian`` and ``Dundas , Ian`` are ``dundas, ian``."""
    return _COMMA.sub(", ", fold_name(text))


def _name_forms(text: str) -> set[str]:
    """``Müller, Jürgen`` as ``mueller, juergen`` and ``juergen mueller`` (accents folded)."""
    name = folded_query(text)
    last, comma, first = name.partition(",")
    return {name, f"{first.strip()} {last.strip()}"} if comma else {name}


def name_forms(email: str | None, user_id: str | None, display_name: str | None) -> set[str]:
    """Every form a user may be looked for by (`names_match`): the address, the id, and the
    display name as ``last, first`` and ``first last``, folded."""
    # (an address as written, and folded as a query is: "jörg.meier@" is found by itself too)
    names = {(email or "").lower(), folded_query(email or ""), user_id or ""}
    if display_name:
        names |= _name_forms(display_name)
    return names - {""}


def names_match(query: str, email: str | None, user_id: str | None, display_name: str | None) -> bool:
    """An address, a numeric user id or a display name (``Last, First`` or ``First Last``), in
    any case and spacing, accents folded as the identity join folds them."""
    return folded_query(query) in name_forms(email, user_id, display_name)


def user_matches(query: str, act: Activation) -> bool:
    """`names_match` against an activation's (joined) names."""
    return names_match(query, act.email, act.user_id, act.display_name)


def _server_in(server: str | None, servers: Iterable[str]) -> bool:
    return (server or "").lower() in {s.lower() for s in servers}


def _whose(item: Activation | Unattached, sel: Selection) -> bool:
    """Whether an activation (or a group of lines outside any) is a --user's, on a --server: the
    filters that are not times."""
    if sel.users and not any(names_match(u, item.email, item.user_id, item.display_name) for u in sel.users):
        return False
    return not sel.servers or _server_in(item.server, sel.servers)


def selected(act: Activation, sel: Selection) -> bool:
    last = act.last
    if not _whose(act, sel):
        return False
    if sel.since is not None and last.last_progress < sel.since:
        return False
    if sel.until is not None and last.started > sel.until:
        return False
    return not sel.statuses or last.status in sel.statuses


def group_selected(group: Unattached, sel: Selection) -> bool:
    """Whether a group of lines outside any activation is the --user's, on the --server, and runs
    into the time from --since to --until (from its first line to its last).  --status picks
    verdicts, and such lines have none: it keeps them all."""
    if not _whose(group, sel):
        return False
    if sel.since is not None and group.last.time < sel.since:
        return False
    return sel.until is None or group.first.time <= sel.until


def select(report: Report, sel: Selection) -> Report:
    """The report with only the activations the selection keeps, and the groups of lines outside
    any activation that are the selected users' on the selected servers (`group_selected`);
    inputs stay as they were read."""
    keep: Sequence[Activation] = [a for a in report.activations if selected(a, sel)]
    loose = tuple(u for u in report.unattached if group_selected(u, sel))
    return dataclasses.replace(report, activations=tuple(keep), unattached=loose)


def _same_person(group: Unattached, act: Activation) -> bool:
    """A group and an activation of one server that share a name (their joined names)."""
    if (group.server or "") != (act.server or ""):
        return False
    return bool(
        (group.email and act.email and group.email.lower() == act.email.lower())
        or (group.user_id and group.user_id == act.user_id)
        or (group.display_name and group.display_name == act.display_name)
    )


def outside_shown(everything: Report, chosen: Report, sel: Selection) -> tuple[Unattached, ...]:
    """The --user's groups of lines outside any activation that a report for people tells beside
    ``chosen`` (`select`'s report of ``everything``): those of a user with no activation on that
    server in the logs ("no activation, but ..."), and those beside an activation the report shows.
    A user whose activation --status or --since left out gets none: "no activation" would be
    untrue.  None are without --user (the caller then tells everyone's errors apart): every idle
    user's mailbox errors are no one's question."""
    if not sel.users:
        return ()
    return tuple(
        g
        for g in chosen.unattached
        if any(_same_person(g, a) for a in chosen.activations)
        or not any(_same_person(g, a) for a in everything.activations)
    )


def _known_names(report: Report) -> list[tuple[str, str | None, str | None, str | None]]:
    """(server, email, user id, display name) of everyone the report names: activations and the
    users of lines outside any activation."""
    people = [(a.server or "", a.email, a.user_id, a.display_name) for a in report.activations]
    people += [(u.server or "", u.email, u.user_id, u.display_name) for u in report.unattached]
    return people


def _near(query: str, names: Iterable[str]) -> list[str]:
    """Up to three names close to ``query``, shown as written: those that hold it (``dundas``),
    then the nearest by difflib and those almost as near.  An address is compared by its local
    part with the addresses of its own domain (else ``nobody@example.com`` is near every address
    at example.com) and whole with the others (``ian.dundas@exmaple.com``); a display name as
    ``Last, First`` and as ``First Last``; accents folded."""
    q = folded_query(query)
    if q.isdigit():  # every user id is near every other: 2040 is no nearer 2004 than 2049
        return []
    local, at, domain = q.partition("@")
    same: dict[str, str] = {}  # local part of an address at the query's domain -> the address
    forms: dict[str, str] = {}
    for n in names:
        for form in _name_forms(n):
            forms.setdefault(form, n)
            n_local, n_at, n_domain = form.partition("@")
            if n_at and (not at or n_domain == domain):
                same.setdefault(n_local, n)
                if at:
                    del forms[form]
    holding = [n for form, n in forms.items() if len(q) >= 3 and q in form]
    scored = [
        (difflib.SequenceMatcher(None, key, c).ratio(), table[c])
        for key, table in ((local if at else q, same), (q, forms))
        for c in difflib.get_close_matches(key, list(table), n=5, cutoff=0.75)
    ]
    scored.sort(key=lambda x: -x[0])
    nearest = [n for r, n in scored if r >= scored[0][0] - 0.1]
    return list(dict.fromkeys([*holding, *nearest]))[:3]


def near_users(report: Report, query: str) -> list[str]:
    """The names in the report nearest to a user ``query`` that matches no one (`_near`), for
    "did you mean" (``timeline``)."""
    people = _known_names(report)
    return _near(query, [n for _, email, uid, display in people for n in (email, display, uid) if n])


def _did_you_mean(near: list[str]) -> str:
    return f"; did you mean {' or '.join(near)}?" if near else ""


def unmatched(report: Report, sel: Selection) -> list[Unmatched]:
    """Each --user and --server value that no activation in the logs has: a typo should not pass
    for a clean run in CI.  A value the logs name elsewhere (lines outside activations, a server's
    files) is only nothing to show; one they never name gets the nearest names they hold."""
    acts = report.activations
    found: list[Unmatched] = []
    for u in sel.users:
        theirs = [a for a in acts if user_matches(u, a)]
        if theirs and sel.servers and not any(_server_in(a.server, sel.servers) for a in theirs):
            # (both in the logs, but not together: an empty report said nothing of why)
            on = ", ".join(sorted({a.server or "(no server name)" for a in theirs}))
            found.append(
                Unmatched(
                    "--user", u, True, f"--user {u!r}: no activation on the --server given (theirs: {on})"
                )
            )
        if theirs:
            continue
        loose = sum(x.count for x in report.unattached if names_match(u, x.email, x.user_id, x.display_name))
        if loose:
            note = (
                f"--user {u!r}: no activation of this user in the logs, only {loose:,} "
                f"line{'s' if loose != 1 else ''} outside any activation"
            )
            found.append(Unmatched("--user", u, True, note))
            continue
        note = f"--user {u!r}: no activation of this user in the logs{_did_you_mean(near_users(report, u))}"
        found.append(Unmatched("--user", u, False, note))
    with_acts = sorted({a.server for a in acts if a.server})
    logged = {f.info.server for f in report.inputs.files if f.info.server} | set(with_acts)
    logged |= {i.server for i in report.inputs.ignored if i.server}
    for s in sel.servers:
        if _server_in(s, with_acts):
            continue
        listed = f" (servers with activations: {', '.join(with_acts) or 'none'})"
        if _server_in(s, logged):
            found.append(
                Unmatched("--server", s, True, f"--server {s!r}: no activation on this server{listed}")
            )
            continue
        near = _did_you_mean(_near(s, sorted(logged)))
        found.append(
            Unmatched("--server", s, False, f"--server {s!r}: no activation on this server{listed}{near}")
        )
    return found


# --- events: every matched line --------------------------------------------------------------------


def _line_in_time(e: Event, sel: Selection) -> bool:
    return (sel.since is None or e.time >= sel.since) and (sel.until is None or e.time <= sel.until)


def select_lines(report: Report, sel: Selection) -> Report:
    """For ``events``: the report with only the matched lines the selection keeps, by the line's
    own time.  An activation's lines are kept when the activation is the user's (its joined
    names) and on the server; a line outside any activation when its own names are the user's,
    or name the user of an unattached group of its server that matches (a POLC line that names
    only ``UserId=2004`` for ``--user eva.lindqvist@example.com``).  Attempts keep only their
    kept lines: the activations are a view for listing lines, not verdicts."""
    acts: list[Activation] = []
    for a in report.activations:
        if not _whose(a, sel):
            continue
        attempts = tuple(
            dataclasses.replace(t, events=tuple(e for e in t.events if _line_in_time(e, sel)))
            for t in a.attempts
        )
        acts.append(dataclasses.replace(a, attempts=attempts))
    # A dense log names the same users on every line: each query is folded once, and each set of
    # names turned into its forms once.
    wanted = {folded_query(q) for q in sel.users}
    known: set[tuple[str, str]] = set()
    for u in report.unattached:
        forms = name_forms(u.email, u.user_id, u.display_name)
        if not wanted.isdisjoint(forms):
            known.update((u.server or "", n) for n in forms)
    servers = {s.lower() for s in sel.servers}
    forms_of: dict[tuple[str | None, str | None, str | None], set[str]] = {}

    def keep(e: Event) -> bool:
        if servers and (e.server or "").lower() not in servers:
            return False
        if sel.users:
            names = (e.email, e.user_id, e.display_name)
            forms = forms_of.get(names)
            if forms is None:
                forms = forms_of[names] = name_forms(*names)
            server = e.server or ""
            if wanted.isdisjoint(forms) and not any((server, n) in known for n in forms):
                return False
        return _line_in_time(e, sel)

    lines = tuple(e for e in report.unattached_lines if keep(e))
    return dataclasses.replace(report, activations=tuple(acts), unattached_lines=lines)
