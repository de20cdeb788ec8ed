"""``--jobs``: any number of workers gives the same report, in input order."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest
from builders import ROOT, SAMPLE_LOGS, run_cli, run_json

from bes_logdiag.parallel import PROCESS_MIN_BYTES, THREAD_MIN_BYTES, _workers, in_threads
from bes_logdiag.prefilter import hyperscan_available
from bes_logdiag.read import discover
from bes_logdiag.settings import AUTO_JOBS

ENGINES = ["python", pytest.param("hyperscan", marks=pytest.mark.skipif(
    not hyperscan_available(), reason="hyperscan is not installed"))]  # fmt: skip


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """sample_logs, or (in an sdist without it) a freshly generated folder of several files."""
    if SAMPLE_LOGS.is_dir():
        return SAMPLE_LOGS
    script = ROOT / "scripts" / "make_sample_logs.py"  # pragma: no cover
    spec = importlib.util.spec_from_file_location("make_sample_logs", script)  # pragma: no cover
    assert spec and spec.loader, script  # pragma: no cover
    generator = importlib.util.module_from_spec(spec)  # pragma: no cover
    sys.modules[spec.name] = generator  # pragma: no cover
    spec.loader.exec_module(generator)  # pragma: no cover
    folder = tmp_path_factory.mktemp("logs")  # pragma: no cover
    generator.generate(folder)  # pragma: no cover
    return folder  # pragma: no cover


def _scan(logs: Path, jobs: str) -> str:
    result = run_cli("scan", logs, "--format", "json", "--jobs", jobs, "-q")
    assert result.exit_code in (0, 1), result.stderr
    return result.stdout


@pytest.mark.parametrize("engine", ENGINES)
def test_one_and_two_jobs_give_identical_json(
    logs: Path, engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # hyperscan runs files in threads, the pure-Python engine in spawned processes
    monkeypatch.setenv("BES_LOGDIAG_ENGINE", engine)
    one, two = _scan(logs, "1"), _scan(logs, "2")
    assert one == two
    files = [f["path"] for f in json.loads(one)["inputs"]["files"]]
    assert len(files) > 2, "several files, so that two workers share them"
    ignored = {i["path"] for i in json.loads(one)["inputs"]["ignored"]}
    found = [s.name for s in discover([str(logs)])[0] if s.name not in ignored]
    assert files == found, "in input order, not finish order"


def test_the_default_jobs_give_the_same_json(logs: Path) -> None:
    assert _scan(logs, "0") == _scan(logs, "1")


def test_big_input_is_read_in_processes_with_the_same_json(
    logs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Past PROCESS_MIN_BYTES even hyperscan reads in spawned processes (matched lines are parsed
    # holding the GIL): the report must not change.
    one = _scan(logs, "1")
    monkeypatch.setattr("bes_logdiag.parallel.PROCESS_MIN_BYTES", 1)
    assert not in_threads("hyperscan", 2)
    assert in_threads("hyperscan", 0)
    assert _scan(logs, "2") == one


@pytest.mark.parametrize(
    ("jobs", "sizes", "threads", "workers"),
    [
        (1, [10**9] * 4, True, 1),  # --jobs N is honoured ...
        (2, [100] * 4, False, 2),  # ... however small the input
        (3, [100] * 2, True, 2),  # no more workers than files
        (AUTO_JOBS, [THREAD_MIN_BYTES // 4] * 3, True, 1),  # too little to pay for workers
        (AUTO_JOBS, [PROCESS_MIN_BYTES // 4] * 3, False, 1),
        (AUTO_JOBS, [1], True, 1),
    ],
)
def test_workers(jobs: int, sizes: list[int], threads: bool, workers: int) -> None:
    assert _workers(jobs, sizes, threads) == workers


def test_auto_jobs_use_the_cores_on_big_input(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bes_logdiag.parallel._cores", lambda: 2)
    assert _workers(AUTO_JOBS, [THREAD_MIN_BYTES] * 3, True) == 2
    assert _workers(AUTO_JOBS, [PROCESS_MIN_BYTES] * 3, False) == 2


def test_jobs_and_engine_give_identical_json(
    busy_logs: Path, busy_maps: tuple[Path, Path], busy_report: tuple[int, dict, str]
) -> None:  # type: ignore[type-arg]
    _, r4, _ = run_json("scan", busy_logs, "--users", busy_maps[0], jobs="4")
    _, rpy, _ = run_json(
        "scan", busy_logs, "--users", busy_maps[0], jobs="4", env={"BES_LOGDIAG_ENGINE": "python"}
    )
    _, rpy1, _ = run_json(
        "scan", busy_logs, "--users", busy_maps[0], jobs="1", env={"BES_LOGDIAG_ENGINE": "python"}
    )
    assert r4 == busy_report[1]
    assert rpy == busy_report[1]
    assert rpy1 == busy_report[1]


def test_workers_started_while_listing_are_ended_when_the_logs_want_none(
    logs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Worker processes start while the input is still listed, once what was found calls for them
    (`parallel._EarlyStart`); when the activation logs turn out too few for them (an installer log
    counted while listing is set aside), the scan reads in one thread, the same report comes out,
    and no worker is left running."""
    import multiprocessing

    from bes_logdiag import parallel

    magt = next(logs.rglob("*_MAGT_01_*.txt"))
    folder = tmp_path / "logs"
    folder.mkdir()
    (folder / magt.name).write_bytes(magt.read_bytes())
    (folder / "install.log").write_text("Installing BlackBerry Enterprise Server\n" * 2000, encoding="utf-8")
    one = _scan(folder, "1")
    started: list[int] = []
    real_pool = parallel._process_pool

    def pool(workers: int, *args: object) -> object:
        started.append(workers)
        return real_pool(workers, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(parallel, "_process_pool", pool)
    monkeypatch.setattr(parallel, "PROCESS_MIN_BYTES", 1000)
    monkeypatch.setattr(parallel, "_cores", lambda: 2)
    assert _scan(folder, "0") == one
    assert started == [2], "the workers were started while listing"
    assert multiprocessing.active_children() == []
