"""Inputs as admins give them, each read or accounted for, none dropped without a word: a linked day
folder (logs on another drive), a glob of day folders (``Logs\\2024*``), two archive members of one
name, a zip written on Windows with backslashes, an empty archive, a cut zip, a tar where a log was
expected (inside a zip, or on standard input), and links that go nowhere or back up the tree."""

from __future__ import annotations

import io
import json
import os
import shutil
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import pytest
from builders import SAMPLE_LOGS, run_cli

DAY = SAMPLE_LOGS / "BBPROD01" / "20240101"
posix_links = pytest.mark.skipif(sys.platform == "win32", reason="needs symbolic links")


def scan(*args: object, input: bytes | None = None) -> tuple[int, dict[str, Any], str]:
    result = run_cli("scan", *args, "--format", "json", "-q", input=input)
    return result.exit_code, json.loads(result.stdout) if result.stdout else {}, result.stderr


def skipped(doc: dict[str, Any]) -> list[tuple[str, str]]:
    return [(Path(s["path"]).name, s["reason"]) for s in doc["inputs"]["skipped"]]


@posix_links
def test_a_linked_day_folder_is_read_and_a_link_back_up_is_not_followed(tmp_path: Path) -> None:
    """The link was passed over without a word: 0 activations, exit code 0."""
    logs = tmp_path / "Logs" / "BBPROD01"
    logs.mkdir(parents=True)
    os.symlink(DAY, logs / "20240101")
    os.symlink(tmp_path / "Logs", logs / "up")
    os.symlink(tmp_path / "gone", logs / "lost.txt")
    code, doc, _ = scan(tmp_path / "Logs")
    _, whole, _ = scan(DAY)
    assert (code, doc["summary"]) == (1, whole["summary"])
    assert sorted(skipped(doc)) == [
        ("lost.txt", "a link to nothing: no such file or directory"),
        ("up", "a folder listed already (the same, through a link)"),
    ]


def test_a_glob_of_day_folders_reads_them(tmp_path: Path) -> None:
    """``Logs\\2024*`` matched day folders, which were dropped: "nothing could be read (no input)"."""
    code, doc, _ = scan(str(SAMPLE_LOGS / "BBPROD01" / "2024*"))
    _, whole, _ = scan(DAY)
    assert (code, doc["summary"]) == (1, whole["summary"])


@pytest.mark.filterwarnings("ignore:Duplicate name")
def test_two_members_of_one_name_are_both_read(tmp_path: Path) -> None:
    """A zip appended to again holds a log twice, the older first: the second was dropped as the
    same file named twice, and the stale first read alone."""
    magt = DAY / "BBPROD01_MAGT_01_20240101_0001.txt"
    data = magt.read_bytes()
    archive = tmp_path / "again.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(magt.name, data[: len(data) // 2])
        zf.writestr(magt.name, data)
    code, doc, _ = scan(archive)
    assert doc["inputs"]["files_read"] == 2
    _, whole, _ = scan(magt)
    assert doc["summary"] == whole["summary"]


def test_a_windows_zip_keeps_its_day_folders(tmp_path: Path) -> None:
    """Members named ``Logs\\20240101\\polc.log``: the day folder was lost, and the renamed logs
    read as the current year."""
    archive = tmp_path / "win.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for log in sorted(DAY.glob("*.txt")):
            zf.writestr(
                f"Logs\\BBPROD01\\20240101\\{'_'.join(log.stem.split('_')[1:3]).lower()}.log",
                log.read_bytes(),
            )
    _, doc, _ = scan(archive)
    assert {f["first_time"][:4] for f in doc["inputs"]["files"]} == {"2024"}


@pytest.mark.parametrize("kind", ["zip", "tar"])
def test_an_empty_archive_is_named(tmp_path: Path, kind: str) -> None:
    archive = tmp_path / f"empty.{kind}"
    if kind == "zip":
        zipfile.ZipFile(archive, "w").close()
    else:
        tarfile.open(archive, "w").close()
    code, _, err = scan(archive)
    assert code == 2
    assert f"{archive}: the {kind} archive holds no files" in err


def test_a_cut_zip_says_so(tmp_path: Path) -> None:
    archive = tmp_path / "cut.zip"
    shutil.make_archive(str(archive.with_suffix("")), "zip", DAY)
    archive.write_bytes(archive.read_bytes()[:-30])
    code, _, err = scan(archive)
    assert code == 2
    assert "not a readable zip archive: cut short or damaged, its directory at the end is missing" in err


def tar_of(folder: Path) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tf:
        tf.add(folder, arcname=folder.name)
    return out.getvalue()


def test_a_tar_inside_a_zip_or_on_stdin_is_not_read_as_one_log(tmp_path: Path) -> None:
    """Its members' lines ran together as one log of no server, dated this year, activations twice."""
    archive = tmp_path / "logs.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("logs.tar", tar_of(DAY))
    code, doc, _ = scan(archive)
    assert code == 2
    assert skipped(doc) == [
        ("logs.zip!logs.tar", "a tar archive inside an archive, or without the .tar name: unpack it first")
    ]
    code, _, err = scan("-", input=tar_of(DAY))
    assert code == 2
    assert "<stdin>: a tar archive on standard input: give its file name instead" in err
