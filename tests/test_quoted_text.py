"""Quoted text is not a milestone: mail subjects and bodies that quote milestone lines, or a
``Current Date`` line, are logged under other users and change nobody's verdict or year.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from builders import LON, LON_SITE, TOM, Activation, bes_line, mail_flow, one, rows, scan_json, write_server


def test_mail_subject_quoting_slowsync_complete_does_not_complete_someone_else(tmp_path: Path) -> None:
    """An admin forwards a SYNC excerpt by mail; the Messaging Agent logs the arriving message with
    its subject under the *recipient's* address.  The stalled user must stay stalled, and the
    recipient must not be merged with him (SLOWSYNC COMPLETE is a SYNC line: BES-LOGS.md section 3)."""
    t0 = datetime(2018, 11, 20, 8, 0, 0)
    act = Activation("amir.sadeghi@corp.example", 1301, "Sadeghi, Amir", t0, upto="getconfig", site=LON_SITE)
    parts = act.parts()
    t = t0 + timedelta(minutes=30)
    parts["MAGT"] += [
        (
            t,
            bes_line(
                t,
                'New mail has arrived, EntryId=991, Subject="FW: [SYNC-DSession] *** SLOWSYNC '
                'COMPLETE *** [Sadeghi, Amir:1301]"',
                tid="1B44",
                user="helpdesk@corp.example",
                eid="30085",
            ),
        )
    ]
    parts["MAGT"] += mail_flow(t0, t0 + timedelta(hours=2), step=60, site=LON_SITE)
    write_server(tmp_path, LON, parts)
    code, rep, _ = scan_json(tmp_path)
    assert not any(a["email"] == "helpdesk@corp.example" for a in rep["activations"]), rows(rep)
    amir = one(rep, user_id=1301)
    assert (amir["email"], amir["status"], amir["stage"], amir["kb"]) == (
        "amir.sadeghi@corp.example",
        "stalled",
        4,
        "KB03964",
    )
    assert code == 1


def test_mail_body_quoting_generating_key_is_not_an_activation(tmp_path: Path) -> None:
    """A message whose subject quotes the seed's key line, logged under an idle user: no activation
    for that user (the key line without an ETP.DAT pickup is a stage-2 stall out of nowhere)."""
    t0 = datetime(2018, 11, 20, 8, 0, 0)
    act = Activation(*TOM, t0, site=LON_SITE)
    parts = act.parts()
    t = t0 + timedelta(minutes=3)
    parts["MAGT"] += [
        (
            t,
            bes_line(
                t,
                'New mail has arrived, EntryId=992, Subject="why does the log say Generating '
                'AES key (this is based on server setting)?"',
                tid="1B44",
                user="li.wei@corp.example",
                eid="30085",
            ),
        )
    ]
    parts["MAGT"] += mail_flow(t0, t0 + timedelta(hours=1), step=60, site=LON_SITE)
    write_server(tmp_path, LON, parts)
    code, rep, _ = scan_json(tmp_path)
    assert rows(rep) == [(LON, *TOM, "complete", 4, None)]
    assert code == 0


def test_current_date_text_in_a_message_does_not_move_the_year(tmp_path: Path) -> None:
    """A BES-named file of 2018: a mail subject with 'Current Date: 2003/01/01' must not put the
    activation that follows into 2003."""
    t0 = datetime(2018, 11, 20, 8, 0, 0)
    act = Activation(*TOM, t0, site=LON_SITE)
    parts = act.parts()
    t = t0 - timedelta(minutes=1)
    parts["MAGT"] += [
        (
            t,
            bes_line(
                t,
                'New mail has arrived, EntryId=993, Subject="Current Date: 2003/01/01 archive"',
                tid="1B44",
                user="li.wei@corp.example",
                eid="30085",
            ),
        )
    ]
    write_server(tmp_path, LON, parts)
    code, rep, _ = scan_json(tmp_path)
    assert code == 0
    assert rows(rep) == [(LON, *TOM, "complete", 4, None)]
    a = rep["activations"][0]
    assert a["started"].startswith("2018-11-20T08:00") and a["completed"].startswith("2018-11-20T08:14")
