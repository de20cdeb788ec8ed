"""`presence check` takes folders, globs, archives and - as `scan` does, not only file names."""

from __future__ import annotations

import tarfile
import zipfile
from pathlib import Path

import pytest
from builders import host, presence_check, presence_cli, save
from guide_keys import host_text

CONFIG = "LyncPresenceProviderService.exe.config"
LOG4NET = '<?xml version="1.0"?>\n<log4net>\n  <root><level value="INFO" /></root>\n</log4net>\n'


@pytest.fixture
def hosts(tmp_path: Path) -> Path:
    """hosts/bems01 and hosts/bems02 as copied from the BEMS install folders: the config beside
    the service's binary, another .config file and a log."""
    root = tmp_path / "hosts"
    for n in (1, 2):
        folder = root / f"bems0{n}"
        host(root, f"bems0{n}", host_text(n))
        (folder / "LyncPresenceProviderService.exe").write_bytes(b"MZ\x90\x00binary")
        save(folder / "log4net.config", LOG4NET)
        (folder / "presence.log").write_text("2024-01-01 INFO started\n", encoding="utf-8")
    return root


def _files(doc: dict[str, object]) -> list[str]:
    capacity = doc["capacity"]
    assert isinstance(capacity, list)
    return [c["file"] for c in capacity]


def test_a_folder_means_the_presence_configs_below_it(hosts: Path) -> None:
    result, doc = presence_check(hosts)
    assert result.exit_code == 0, result.stdout
    assert _files(doc) == [str(hosts / "bems01" / CONFIG), str(hosts / "bems02" / CONFIG)]
    assert result.stderr.endswith(" in 2 files\n")


def test_a_folder_of_renamed_configs_means_every_config_file(tmp_path: Path) -> None:
    collected = tmp_path / "collected"
    one = save(collected / "bems01.config", host_text(1))
    two = save(collected / "bems02.config", host_text(2))
    (collected / "notes.txt").write_text("copied from both hosts\n", encoding="utf-8")
    result, doc = presence_check(collected)
    assert result.exit_code == 0
    assert _files(doc) == [str(one), str(two)]


@pytest.mark.parametrize("pattern", [f"*/{CONFIG}", "bems0*", "**/*.exe.config"])
def test_a_glob_is_expanded_folders_included(hosts: Path, pattern: str) -> None:
    result, doc = presence_check(f"{hosts}/{pattern}")
    assert result.exit_code == 0
    assert _files(doc) == [str(hosts / "bems01" / CONFIG), str(hosts / "bems02" / CONFIG)]


def test_a_file_matched_by_a_glob_is_read_whatever_its_name(tmp_path: Path) -> None:
    path = save(tmp_path / "bems01.xml", host_text(1))
    _, doc = presence_check(f"{tmp_path}/*.xml")
    assert _files(doc) == [str(path)]


def test_a_glob_matching_nothing_exits_2(tmp_path: Path) -> None:
    pattern = f"{tmp_path}/nothing/*.config"
    result = presence_cli("check", pattern)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == f"bes-logdiag: error: {pattern}: no file matches this pattern\n"


def test_a_folder_without_config_files_exits_2(tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    folder.mkdir()
    (folder / "presence.log").write_text("x\n", encoding="utf-8")
    result = presence_cli("check", folder)
    assert result.exit_code == 2
    assert result.stderr == f"bes-logdiag: error: {folder}: holds no .config file\n"


def test_a_zip_of_hosts_is_read_member_by_member(hosts: Path, tmp_path: Path) -> None:
    archive = tmp_path / "presence.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for n in (1, 2):
            zf.write(hosts / f"bems0{n}" / CONFIG, f"bems0{n}/{CONFIG}")
            zf.write(hosts / f"bems0{n}" / "log4net.config", f"bems0{n}/log4net.config")
    result, doc = presence_check(archive)
    assert result.exit_code == 0, result.stderr
    assert _files(doc) == [f"{archive}!bems01/{CONFIG}", f"{archive}!bems02/{CONFIG}"]


def test_a_tar_gz_of_hosts_is_read_member_by_member(hosts: Path, tmp_path: Path) -> None:
    archive = tmp_path / "presence.tar.gz"
    with tarfile.open(archive, "w:gz") as tf:
        tf.add(hosts, arcname="hosts")
    result, doc = presence_check(archive)
    assert result.exit_code == 0, result.stderr
    assert _files(doc) == [f"{archive}!hosts/bems01/{CONFIG}", f"{archive}!hosts/bems02/{CONFIG}"]


def test_stdin_is_one_config(tmp_path: Path) -> None:
    result = presence_cli("check", "-", "-f", "json", input=host_text(1).encode("utf-8"))
    assert result.exit_code == 0, result.stderr
    assert '"file": "<stdin>"' in result.stdout


def test_a_file_named_directly_and_found_in_its_folder_is_checked_once(hosts: Path) -> None:
    one = hosts / "bems01" / CONFIG
    result, doc = presence_check(one, hosts)
    assert result.exit_code == 0  # no host shares an endpoint with itself
    assert _files(doc) == [str(one), str(hosts / "bems02" / CONFIG)]


def test_an_unparsable_file_in_a_folder_still_exits_2(hosts: Path) -> None:
    broken = save(hosts / "bems02" / CONFIG, host_text(2).replace("</configuration>", "</configuratoin>"))
    result = presence_cli("check", hosts)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"bes-logdiag: error: {broken}:")
    assert "malformed XML" in result.stderr
