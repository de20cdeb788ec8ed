"""A scan's `Report` redacted, field by field, with the pseudonyms a redaction of its logs would give:
every renderer then writes a redacted report (``scan --redact``), whatever its format."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TypedDict

from bes_logdiag.model import (
    Activation,
    Attempt,
    Diagnosis,
    Duplicate,
    Event,
    FileStats,
    Ignored,
    Inputs,
    Join,
    Report,
    Skipped,
    Unattached,
)
from bes_logdiag.names import fold
from bes_logdiag.redact.grammar import Redactor, protected_words
from bes_logdiag.redact.keys import RedactionKey
from bes_logdiag.redact.pseudonyms import Pseudonyms

_PATH_PARTS = re.compile(r"([/\\])")
ELLIPSIS = "\u2026"
"""What stands for the folders of a file name in a redacted report (`_ReportRedactor.path`)."""


def redact_report(
    report: Report,
    key: RedactionKey,
    *,
    servers: bool = False,
    user_maps: Sequence[tuple[str | None, Path]] = (),
    patterns: Sequence[Path] = (),
) -> Report:
    """`report` with its addresses, display names, user ids (and, with ``servers``, server names)
    replaced by their pseudonyms under `key`, in its values and in its texts (notes, joins,
    reasons, log lines, file names).  `user_maps`: the ``--users`` files of the scan, whose names
    its notes may quote."""
    from bes_logdiag.pattern_check import load_checked_library

    ps = Pseudonyms(key, protected=protected_words(load_checked_library(patterns)))
    names = _server_names(report) if servers else set()
    known = _known_names(report, user_maps)
    return _ReportRedactor(Redactor(ps, names), known, _paths(report), servers).report(report)


def _paths(report: Report) -> set[str]:
    """Every file name the report holds: its texts may quote them (``... complete (FILE:LINE)``)."""
    i = report.inputs
    found = {f.path for f in i.files} | {s.path for s in i.skipped} | {g.path for g in i.ignored}
    found |= {d.path for d in i.duplicates} | {d.same_as for d in i.duplicates}
    return found


def _server_names(report: Report) -> set[str]:
    found = {a.server for a in report.activations} | {u.server for u in report.unattached}
    found |= {f.info.server for f in report.inputs.files} | {i.server for i in report.inputs.ignored}
    found |= set(report.log_end)
    return {s for s in found if s}


def _known_names(
    report: Report, user_maps: Sequence[tuple[str | None, Path]]
) -> list[tuple[str, str | None, str | None]]:
    """Every (email, user id, display name) the report's values name, and the user maps' rows:
    texts may quote them bare (a join's ``dundas, ian and 1002 share a line``)."""
    rows: list[tuple[str, str | None, str | None]] = []

    def add(email: str | None, user_id: str | None, display: str | None) -> None:
        rows.append((email or "", user_id, display))

    for a in report.activations:
        add(a.email, a.user_id, a.display_name)
        for t in a.attempts:
            for e in t.events:
                add(e.email, e.user_id, e.display_name)
    for u in report.unattached:
        add(u.email, u.user_id, u.display_name)
    if user_maps:
        from bes_logdiag.errors import BesLogdiagError
        from bes_logdiag.usermap import load_user_map

        try:
            entries, _ = load_user_map(user_maps)
        except BesLogdiagError:
            entries = []
        for m in entries:
            add(m.email, m.user_id, m.display_name)
    return rows


class _Names(TypedDict):
    """The fields `_ReportRedactor.names` gives, for `dataclasses.replace`."""

    server: str | None
    email: str | None
    user_id: str | None
    display_name: str | None


def _head(path: str) -> str:
    """What comes before a path's last two parts (with its separator), or "" when it has no more."""
    cuts = [m.start() for m in _PATH_PARTS.finditer(path)]
    return path[: cuts[-2] + 1] if len(cuts) >= 2 else ""


class _ReportRedactor:
    def __init__(
        self,
        redactor: Redactor,
        known: Iterable[tuple[str, str | None, str | None]],
        paths: Iterable[str],
        servers: bool,
    ) -> None:
        self.r = redactor
        self.ps = redactor.ps
        self.servers = servers
        names: dict[str, str] = {}
        ids: set[str] = set()
        for _email, user_id, display in known:
            if display:
                pseudo = self.ps.display(display)
                names[display] = pseudo
                names[fold(display)] = fold(pseudo)
            if user_id and user_id.isdigit():
                ids.add(user_id)
        self._names = names
        alternatives = [re.escape(n) for n in sorted(names, key=len, reverse=True)]
        if ids:
            alternatives.append(
                rf"(?<![\w.:/\\-])(?:{'|'.join(sorted(ids, key=len, reverse=True))})(?![\w.])"
            )
        self._known = re.compile("|".join(alternatives)) if alternatives else None
        # The folders above a file's last two parts, as texts quote them: each becomes "…/"
        # (`path`).  A handful however many files: the input folders, the servers' day folders.
        heads = {h for h in map(_head, paths) if h}
        self._heads = (
            re.compile("|".join(re.escape(h) for h in sorted(heads, key=len, reverse=True)))
            if heads
            else None
        )

    def text(self, text: str) -> str:
        """Free text of the report (a note, a join, a reason, a log line)."""
        if self._heads is not None:
            text = self._heads.sub(ELLIPSIS + "/", text)
        out = self.r.redact(text)
        if self._known is not None:
            out = self._known.sub(self._known_one, out)
        return out

    def _known_one(self, m: re.Match[str]) -> str:
        found = m.group()
        pseudo = self._names.get(found)
        return pseudo if pseudo is not None else self.ps.user_id(found)

    def path(self, path: str) -> str:
        """A file name as ``…/<folder>/<file>``: the last two parts of the path (the day folder and
        the file, or the archive and its member), each redacted.

        The folders above them name the admin's machine and ticket, not the logs.  And the
        leading ``…`` names no folder: the renderers that show the lines around the evidence read
        them again from the files the report names (`bes_logdiag.evidence_context`), and must not
        find the originals, whose lines are not redacted."""
        parts = [p for p in _PATH_PARTS.split(path) if p and p not in "/\\"]
        return "/".join([ELLIPSIS, *(self.r.redact(p) for p in parts[-2:])])

    def server(self, server: str | None) -> str | None:
        return self.ps.server(server) if server and self.servers else server

    def email(self, email: str | None) -> str | None:
        return self.ps.address(email) if email else email

    def display(self, display: str | None) -> str | None:
        return self.ps.display(display) if display else display

    def user_id(self, user_id: str | None) -> str | None:
        return self.ps.user_id(user_id) if user_id and user_id.isdigit() else user_id

    def names(self, x: Activation | Event | Unattached) -> _Names:
        """The server and the three names an activation, an event or a group of lines carries."""
        return _Names(
            server=self.server(x.server),
            email=self.email(x.email),
            user_id=self.user_id(x.user_id),
            display_name=self.display(x.display_name),
        )

    def report(self, report: Report) -> Report:
        return replace(
            report,
            activations=tuple(self.activation(a) for a in report.activations),
            inputs=self.inputs(report.inputs),
            unattached=tuple(self.unattached(u) for u in report.unattached),
            notes=tuple(self.text(n) for n in report.notes),
            log_end={self.server(k): v for k, v in report.log_end.items()},
            unattached_lines=tuple(self.event(e) for e in report.unattached_lines),
        )

    def activation(self, a: Activation) -> Activation:
        return replace(
            a,
            **self.names(a),
            attempts=tuple(self.attempt(t) for t in a.attempts),
            joins=tuple(Join(j.kind, self.text(j.detail)) for j in a.joins),
            notes=tuple(self.text(n) for n in a.notes),
        )

    def attempt(self, t: Attempt) -> Attempt:
        d = t.diagnosis
        diagnosis = Diagnosis(
            d.kb, d.kb_title, self.text(d.reason), d.last_milestone, d.next_expected,
            tuple(self.path(e) for e in d.evidence), d.candidates,
        )  # fmt: skip
        return replace(t, events=tuple(self.event(e) for e in t.events), diagnosis=diagnosis)

    def event(self, e: Event) -> Event:
        return e._replace(
            **self.names(e),
            file=self.path(e.file),
            text=self.text(e.text),
        )

    def unattached(self, u: Unattached) -> Unattached:
        return replace(
            u,
            **self.names(u),
            first=self.event(u.first),
            last=self.event(u.last),
        )

    def inputs(self, inputs: Inputs) -> Inputs:
        return Inputs(
            files=tuple(self.file(f) for f in inputs.files),
            skipped=tuple(self.skipped(s) for s in inputs.skipped),
            ignored=tuple(
                Ignored(self.path(i.path), self.text(i.reason), self.server(i.server), i.last_time)
                for i in inputs.ignored
            ),
            duplicates=tuple(Duplicate(self.path(d.path), self.path(d.same_as)) for d in inputs.duplicates),
        )

    def skipped(self, s: Skipped) -> Skipped:
        return Skipped(self.path(s.path), self.text(s.reason), s.partial)

    def file(self, f: FileStats) -> FileStats:
        return replace(
            f,
            path=self.path(f.path),
            info=replace(f.info, server=self.server(f.info.server)),
            skipped=self.skipped(f.skipped) if f.skipped is not None else None,
            gaps=[self.text(g) for g in f.gaps],
            warnings=[self.text(w) for w in f.warnings],
            clock_steps=list(f.clock_steps),
        )
