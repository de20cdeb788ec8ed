"""How the formats for people name an activation (``render.text``): by its address, else its display
name, else ``UserId=N``, with its other names beside it and never the same one twice."""

from __future__ import annotations

import io
from datetime import datetime, timedelta

import pytest

from bes_logdiag.model import Activation, Attempt, Diagnosis, Event, Inputs, Report, Status
from bes_logdiag.render import Format, writer_for
from bes_logdiag.render.text import other_names, server_name, who

T0 = datetime(2010, 5, 21, 9, 50)
KEY = Event(T0, "BB01", "MAGT", "BB01_MAGT_01_20100521_0001.txt", 14, "magt.key", 2, "key_generated",
            None, None, False, text="Generating 3DES key")  # fmt: skip
STALLED = Attempt((KEY,), Status.STALLED, 2, "Verifying encryption", "key_generated", T0, T0, None,
                  Diagnosis(None, None, "no progress", "key_generated", "key_accept_sent", (KEY.where,), ()),
                  timedelta(minutes=15))  # fmt: skip


def activation(
    email: str | None, user_id: str | None, display: str | None, server: str | None = "BB01"
) -> Activation:
    return Activation(server, email, user_id, display, (STALLED,))


NAMES = [  # email, user id, display name -> who, other names
    ("jdoe@corp.com", "2001", "Doe, Jane", "jdoe@corp.com", "Doe, Jane · 2001"),
    ("jdoe@corp.com", None, None, "jdoe@corp.com", ""),
    (None, "2001", "Doe, Jane", "Doe, Jane", "2001"),
    (None, None, "Doe, Jane", "Doe, Jane", ""),
    (None, "2001", None, "UserId=2001", ""),
]


@pytest.mark.parametrize("email, user_id, display, name, others", NAMES)
def test_who_and_other_names(
    email: str | None, user_id: str | None, display: str | None, name: str, others: str
) -> None:
    act = activation(email, user_id, display)
    assert (who(act), other_names(act)) == (name, others)


def test_an_unknown_server_is_a_dash() -> None:
    assert server_name(activation("jdoe@corp.com", None, None, server=None)) == "-"


def render(fmt: Format, act: Activation) -> str:
    out = io.StringIO()
    writer_for(fmt)(Report(activations=(act,), inputs=Inputs((), ())), out)
    return out.getvalue()


def test_a_user_known_by_id_alone_is_named_once_in_the_table() -> None:
    text = render(Format.table, activation(None, "3107", None))
    assert "UserId=3107 on BB01: stalled" in text
    assert "3107" not in text.replace("UserId=3107", "")


def test_a_user_known_by_id_alone_in_markdown_and_junit() -> None:
    act = activation(None, "3107", None)
    assert "| BB01 | UserId=3107 | stalled |" in render(Format.markdown, act)
    assert 'name="UserId=3107"' in render(Format.junit, act)


def test_the_other_names_in_table_and_markdown() -> None:
    act = activation("jdoe@corp.com", "2001", "Doe, Jane")
    assert "Doe, Jane · 2001" in render(Format.table, act)
    assert "jdoe@corp.com (Doe, Jane · 2001)" in render(Format.markdown, act)
