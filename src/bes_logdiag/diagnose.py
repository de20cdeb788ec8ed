"""Diagnosis: an attempt's events to a verdict, a stage and a KB article (BES-LOGS.md section 4)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from bes_logdiag.coverage import ASSUMED_COMPLETE, Coverage
from bes_logdiag.library import Library
from bes_logdiag.model import Attempt, Candidate, Diagnosis, Event, Status
from bes_logdiag.words import duration


def stall_threshold(lib: Library, stage: int, overrides: dict[int | None, timedelta]) -> timedelta:
    """The stage's threshold: ``--stall-after 4=2h`` beats ``--stall-after 30m`` beats stages.toml."""
    if stage in overrides:
        return overrides[stage]
    if None in overrides:
        return overrides[None]
    return lib.stages[stage].stall_after if stage in lib.stages else timedelta(minutes=30)


def with_untied_policies(attempt: Attempt, user_ids: tuple[str, ...], lib: Library) -> Attempt:
    """A stall before the IT policy, said with the policies that the order in time could not tie
    to the user (`identities.Person.untied`): one of them may be theirs, and a user map ties it."""
    answer = lib.milestone_with("answer")
    if attempt.status is not Status.STALLED or attempt.diagnosis.next_expected != answer:
        return attempt
    ids = ", ".join(f"UserId={u}" for u in user_ids)
    queued = "an IT policy was" if len(user_ids) == 1 else "IT policies were"
    reason = (
        f"{attempt.diagnosis.reason}; but {queued} queued for {ids} just after the service-book request, "
        "and with other requests or policies as close the order in time could not tell whose: if one is "
        "this user's, a user map (--users) ties it"
    )
    return replace(attempt, diagnosis=replace(attempt.diagnosis, reason=reason))


def diagnose_attempt(
    events: Sequence[Event],
    lib: Library,
    log_end: datetime,
    overrides: dict[int | None, timedelta],
    coverage: Coverage = ASSUMED_COMPLETE,
    retried: Event | None = None,
) -> Attempt:
    """The verdict for one attempt, judged against the end of its server's logs (never the wall
    clock) and, where `coverage` says the logs of the service expected next are missing for the
    time after the last progress, marked as unconfirmed (``missing_logs``) rather than claiming
    that service did nothing.

    An attempt the device gave up on (``retried``: the first line of the user's next attempt) is
    judged up to that line, not the logs' end: unfinished, it stalled, and its reason says how long
    after its last progress the next began (a retry after 5 minutes is not 2 days of silence)."""
    milestones = [e for e in events if e.milestone]
    errors = [e for e in events if e.error]
    defs = lib.milestones
    top = max(milestones, key=lambda e: (defs[e.milestone].rank, e.moment), default=None)  # type: ignore[index]
    stage = max((e.stage or 1 for e in milestones + errors), default=1)
    last_name = top.milestone if top else None
    next_name = defs[last_name].next if last_name else lib.first_milestone
    started = events[0].time
    # Times are shown as logged; what passed is measured in moments (a clock that stepped back).
    # An ETP.DAT message re-sent is the device trying again, not progress: the attempt got to
    # stage 1 with the first (KB13840 is "stuck at Activating or Retrying").
    moving = [e for e in milestones if not defs[e.milestone].starts_attempt] or milestones[:1]  # type: ignore[index]
    progress = max(moving, key=lambda e: e.moment, default=events[0])
    last_progress = progress.time if milestones else started
    horizon = retried.moment if retried is not None else log_end
    waited = horizon - progress.moment
    done = next((e for e in milestones if defs[e.milestone].completes), None)  # type: ignore[index]
    threshold = stall_threshold(lib, stage, overrides)
    last_error = errors[-1] if errors else None
    reached = {e.milestone for e in milestones if e.milestone}
    since = max(e.moment for e in events)
    missing: tuple[str, ...] = ()
    unchecked = ""
    if done is None:
        until = max(since, horizon)  # (the whole silence the verdict rests on)
        # The step expected next, and those whose absence the stall's article rests on (after
        # GetConfig, the Messaging Agent's calendar step tells KB10496 from KB03964).
        rule = lib.stall_rules.get(last_name or "")
        unseen: list[str] = []
        for name in dict.fromkeys([next_name, *(rule.unseen if rule else ())]):
            lacked = coverage.missing(events[0].server, name, since, until)
            if lacked and name is not None:
                missing += tuple(s for s in lacked if s not in missing)
                unseen.append(name)
        unchecked = _unchecked(coverage, events[0].server, missing, since, until, lib, unseen)

    if done is not None:
        status = Status.COMPLETE
        diag = Diagnosis(None, None, f"slow synchronization complete ({done.where})", last_name,
                         None, (done.where,), ())  # fmt: skip
    elif last_error is not None and not any(e.moment > last_error.moment for e in milestones):
        status = Status.FAILED
        diag = _failure(last_error, top, next_name, lib, stage, reached)
    elif waited > threshold or retried is not None:
        status = Status.STALLED
        if retried is None:
            silence = f"no progress for {duration(waited)} (stage {stage} threshold {duration(threshold)}) "
            silence += f"before the logs end at {log_end:%Y-%m-%d %H:%M:%S}"
        else:
            within = "past" if waited > threshold else "within"
            silence = (
                f"the next attempt began {duration(waited)} after the last progress, at "
                f"{retried.time:%Y-%m-%d %H:%M:%S} ({within} the stage {stage} threshold of "
                f"{duration(threshold)})"
            )
        diag = _stall(top, next_name, lib, stage, silence, reached, bool(missing))
    else:
        status = Status.IN_PROGRESS
        diag = Diagnosis(
            None,
            None,
            f"waiting for {_title(lib, next_name)}: {duration(waited)} since the last progress, "
            f"under the stage {stage} threshold of {duration(threshold)}",
            last_name,
            next_name,
            (top.where,) if top else (),
            (),
        )
    if missing:
        diag = replace(diag, reason=f"{diag.reason}; {unchecked}")
    return Attempt(
        events=tuple(events),
        status=status,
        stage=stage,
        stage_name=lib.stages[stage].name if stage in lib.stages else f"stage {stage}",
        last_milestone=last_name,
        started=started,
        last_progress=last_progress,
        completed=done.time if done else None,
        diagnosis=diag,
        stall_after=threshold,
        missing_logs=missing,
    )


def _unchecked(
    coverage: Coverage,
    server: str | None,
    missing: tuple[str, ...],
    since: datetime,
    until: datetime,
    lib: Library,
    steps: Sequence[str],
) -> str:
    """What the verdict could not check, for its reason: ``no POLC or SYNC log was read, so whether
    the next step (IT policy queued by the Policy Service) came could not be checked``."""
    if not missing:
        return ""
    lacking = coverage.lacking(server, missing, since, until)
    said = " or ".join(_title(lib, s) for s in steps)
    return f"{lacking}, so whether the next step ({said}) came could not be checked"


def _failure(
    error: Event, top: Event | None, next_name: str | None, lib: Library, stage: int, reached: set[str]
) -> Diagnosis:
    article = lib.articles.get(error.kb or "")
    pattern_title = next((p.title for p in lib.patterns if p.id == error.pattern_id), error.error)
    evidence = [error.where] + ([top.where] if top else [])
    return Diagnosis(
        kb=article.id if article else None,
        kb_title=article.title if article else None,
        reason=f"{pattern_title} ({error.where}); no progress after it",
        last_milestone=top.milestone if top else None,
        next_expected=next_name,
        evidence=tuple(evidence),
        candidates=_candidates(lib, stage, reached, article.id if article else None),
    )


def _stall(
    top: Event | None,
    next_name: str | None,
    lib: Library,
    stage: int,
    silence: str,
    reached: set[str],
    unchecked: bool,
) -> Diagnosis:
    rule = lib.stall_rules.get(top.milestone or "") if top else None
    article = lib.articles.get(rule.kb) if rule else None
    why = rule.why if rule else "no progress"
    if unchecked and top is not None:
        # The rule's why says what never came; without the logs that would show it, say only
        # what was seen last (README, "Completeness").
        why = f"the last step seen was {_title(lib, top.milestone)}"
    return Diagnosis(
        kb=article.id if article else None,
        kb_title=article.title if article else None,
        reason=f"{why}; {silence}",
        last_milestone=top.milestone if top else None,
        next_expected=next_name,
        evidence=(top.where,) if top else (),
        candidates=_candidates(
            lib, stage, reached, article.id if article else None, rule.also if rule else ()
        ),
    )


def _candidates(
    lib: Library, stage: int, reached: set[str], primary: str | None, also: tuple[str, ...] = ()
) -> tuple[Candidate, ...]:
    """The other articles for the stage (and the primary's own stage), with what tells them apart;
    not those that a milestone the attempt reached rules out (kb.toml's ``ruled_out_by``): a
    rejected ETP.DAT message does not explain a stall after the key exchange."""
    stages = {stage}
    if primary and primary in lib.articles:
        stages.add(lib.articles[primary].stage)
    return tuple(
        Candidate(a.id, a.title, a.tell)
        for a in lib.articles.values()
        if (a.stage in stages or a.id in also) and a.id != primary and lib.fits(a, reached)
    )


def _title(lib: Library, milestone: str | None) -> str:
    if milestone is None:
        return "nothing more"
    m = lib.milestones.get(milestone)
    return m.title if m else milestone
