"""Shared fixtures: the pattern library, and the busy day built once for every file that reads it.
Builders of lines, files and worlds, and the CLI runner, live in builders.py (importable from every
test folder)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from builders import BUSY_SERVERS, BusyDay, busy_day, scan_json, write_busy_day, write_user_map
from test_watch_support import Bes, day_begun

from bes_logdiag.library import Library, load_library


@pytest.fixture(scope="session")
def library() -> Library:
    return load_library()


@pytest.fixture(scope="session")
def busy_world() -> BusyDay:
    """The busy day of three servers (builders.busy_day)."""
    return busy_day()


@pytest.fixture(scope="session")
def busy_logs(busy_world: BusyDay, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The busy day as an admin collects it: ``<server>/Logs/<YYYYMMDD>/<file>``, UTF-8, LF."""
    root = tmp_path_factory.mktemp("captured") / "captured"
    write_busy_day(busy_world, root)
    return root


@pytest.fixture(scope="session")
def busy_maps(busy_world: BusyDay, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The partial map (map users and idle users, as an export of one group) and the full map."""
    d = tmp_path_factory.mktemp("maps")
    part = [(u.email, u.uid, u.display) for u in busy_world.users if u.kind == "map"]
    part += [x for s in BUSY_SERVERS for x in busy_world.idle[s][:3]]
    full = part + [(u.email, u.uid, u.display) for u in busy_world.users if u.kind == "amb"]
    return write_user_map(d / "users.csv", part), write_user_map(d / "users_full.csv", full)


@pytest.fixture(scope="session")
def busy_report(busy_logs: Path, busy_maps: tuple[Path, Path]) -> tuple[int, dict[str, Any], str]:
    """``scan --format json`` of the busy day with the partial map: exit code, report, stderr."""
    return scan_json(busy_logs, "--users", busy_maps[0])


@pytest.fixture
def bes(tmp_path: Path) -> Bes:
    """A server whose logs of the day have begun (`test_watch_support.day_begun`): what the watch
    tests follow."""
    return day_begun(tmp_path)
