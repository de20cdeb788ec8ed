"""Builders for small BES logs used across the tests."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
SAMPLE_LOGS = ROOT / "sample_logs"


def data_file(name: str) -> Path:
    """A file of tests/data; a missing one fails loudly instead of skipping."""
    path = DATA / name
    if not path.exists():
        raise FileNotFoundError(f"test data missing: {path}")
    return path


def write_log(
    folder: Path,
    name: str,
    lines: Iterable[str],
    *,
    encoding: str = "utf-8",
    newline: str = "\r\n",
) -> Path:
    """Write a log file as a BES server would (CRLF by default)."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    text = newline.join(lines) + newline
    path.write_bytes(text.encode(encoding))
    return path


def line(time: str, msg: str, *, tid: str = "1A2B", user: str | None = None, eid: int = 40000) -> str:
    """One BES line: ``[40000] (05/21 06:51:39.000):{0x1A2B} {user} msg``."""
    who = f" {{{user}}}" if user else ""
    return f"[{eid}] ({time}):{{0x{tid}}}{who} {msg}"


def activation_lines(
    email: str, uid: int, display: str, day: str = "05/21", hour: int = 6, upto: str = "complete"
) -> dict[str, list[str]]:
    """The milestone lines of one activation, per service, stopping after milestone ``upto``."""
    h = f"{hour:02d}"
    magt = [
        (
            "etp_received",
            line(
                f"{day} {h}:50:00.100",
                "Queuing DATA from network@etp1006.etp.na.blackberry.net, Tag=-903057656, EntryId=2604425",
                tid="1AEC",
                user=email,
            ),
        ),
        ("key_generated", line(f"{day} {h}:51:39.000", "Generating 3DES key", tid="14D4", user=email)),
        (
            "key_accept_sent",
            line(
                f"{day} {h}:51:39.050",
                "*** OTAKEYGEN *** sending KEY_ACCEPT transID = 2077103732",
                tid="14D4",
            ),
        ),
        (
            "service_books_requested",
            line(
                f"{day} {h}:51:45.000",
                "*** OTAKEYGEN *** Queuing service book data to Policy Server",
                tid="1AA8",
                user=email,
            ),
        ),
    ]
    polc = [
        (
            "itpolicy_queued",
            line(
                f"{day} {h}:51:49.000",
                f"SCS::CheckITPolicyInGroup - Queuing SET_ITPOLICY_REQUEST request for UserId={uid}",
                tid="E1C",
            ),
        )
    ]
    sync = [
        (
            "slowsync_started",
            line(
                f"{day} {h}:52:24.000",
                f'[SYNC-DSession] Received "GetConfig" command from device. [{display}:{uid}]',
                tid="1294",
                eid=46046,
            ),
        ),
        (
            "slowsync_complete",
            line(
                f"{day} {h}:59:36.000",
                f"[SYNC-DSession] *** SLOWSYNC COMPLETE *** [{display}:{uid}]",
                tid="12AC",
                eid=36023,
            ),
        ),
    ]
    order = [m for m, _ in magt + polc + sync]
    keep = set(order[: order.index(upto) + 1])
    return {
        "MAGT": [text for m, text in magt if m in keep],
        "POLC": [text for m, text in polc if m in keep],
        "SYNC": [text for m, text in sync if m in keep],
    }


def write_activation(
    folder: Path,
    server: str,
    date: str,
    email: str,
    uid: int,
    display: str,
    *,
    hour: int = 6,
    upto: str = "slowsync_complete",
    end: str | None = "23:50:00.000",
) -> None:
    """One activation's lines in MAGT, POLC and SYNC files of ``server``; ``end`` adds a last
    noise line to every file so the server's logs run until then."""
    day = f"{date[4:6]}/{date[6:8]}"
    for service, lines in activation_lines(email, uid, display, day, hour, upto).items():
        path = folder / f"{server}_{service}_01_{date}_0001.txt"
        old = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
        new = [ln for ln in old if "Total Msgs Pending" not in ln] + lines
        new.sort(key=lambda t: t[t.index("(") + 1 : t.index(")")])
        if end:
            new.append(line(f"{day} {end}", "Total Msgs Pending 0", tid="A2C", eid=30000))
        write_log(folder, path.name, new)


def scan_json(*args: object) -> tuple[int, dict, str]:  # type: ignore[type-arg]
    """``bes-logdiag scan ARGS --format json --jobs 1`` through typer's CliRunner: the exit code
    (0 or 1, asserted), the parsed report and stderr."""
    import json

    from typer.testing import CliRunner

    from bes_logdiag.cli import app

    result = CliRunner().invoke(app, ["scan", *[str(a) for a in args], "--format", "json", "--jobs", "1"])
    assert result.exit_code in (0, 1), (result.exit_code, result.stderr, result.stdout)
    return result.exit_code, json.loads(result.stdout), result.stderr
