"""``bes-logdiag merge``: one scan per host, one merged report with scan's own fields; a server in two
reports for the same time is refused unless both say the same, and so is another schema_version."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from builders import SAMPLE_LOGS, run_cli, scan_json

PROD, EAST = "BBPROD01", "BES_EAST_02"


def save(path: Path, doc: dict[str, Any]) -> Path:
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def hosts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Each server's logs scanned on their own, as on their own host, and the whole sample at once."""
    folder = tmp_path_factory.mktemp("reports")
    out: dict[str, Any] = {"folder": folder}
    for server in (PROD, EAST):
        code, doc, _ = scan_json(SAMPLE_LOGS / server, "-q")
        assert code == 1
        out[server] = save(folder / f"{server}.json", doc)
    _, out["all"], _ = scan_json(SAMPLE_LOGS, "-q")
    return out


def merge(*args: object) -> tuple[int, dict[str, Any] | None, str]:
    result = run_cli("merge", *args)
    doc = json.loads(result.stdout) if result.exit_code == 0 and result.stdout else None
    return result.exit_code, doc, result.stderr


def test_two_hosts_merge_into_the_report_of_both(hosts: dict[str, Any]) -> None:
    code, doc, err = merge(hosts[PROD], hosts[EAST])
    assert (code, err) == (0, "")
    assert doc is not None
    assert list(doc) == list(hosts["all"])  # scan's fields, in scan's order
    assert doc == hosts["all"]  # summary, totals, stats and context counted again, the same


def test_the_merged_report_is_written_to_the_output_file(hosts: dict[str, Any]) -> None:
    target = hosts["folder"] / "fleet.json"
    result = run_cli("merge", hosts[PROD], hosts[EAST], "-o", target)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert json.loads(target.read_text(encoding="utf-8"))["summary"] == hosts["all"]["summary"]


def test_the_same_report_twice_is_taken_once(hosts: dict[str, Any]) -> None:
    _, once, _ = merge(hosts[PROD], hosts[EAST])
    code, twice, err = merge(hosts[PROD], hosts[EAST], hosts[PROD])
    assert (code, err) == (0, "")
    assert twice == once


def test_one_server_in_two_reports_of_different_days(tmp_path: Path) -> None:
    code, first, _ = scan_json(SAMPLE_LOGS / PROD / "20231230", "-q")
    _, last, _ = scan_json(SAMPLE_LOGS / PROD / "20240101", "-q")
    code, doc, err = merge(save(tmp_path / "dec.json", first), save(tmp_path / "jan.json", last))
    assert (code, err) == (0, "")
    assert doc is not None
    assert doc["activations"] == first["activations"] + last["activations"]
    assert doc["summary"]["activations"] == len(first["activations"]) + len(last["activations"])
    assert doc["log_end"] == {PROD: last["log_end"][PROD]}
    assert doc["inputs"]["files_read"] == first["inputs"]["files_read"] + last["inputs"]["files_read"]
    assert doc["stats"]["overall"]["activations"] == doc["summary"]["activations"]


def _verdicts(doc: dict[str, Any]) -> list[tuple[Any, ...]]:
    return sorted(
        (a["server"], a["email"], a["user_id"], a["status"], a["stage"], a["kb"],
         [(t["status"], t["stage"], t["started"]) for t in a.get("attempts") or ()])
        for a in doc["activations"]
    )  # fmt: skip


def test_one_servers_daily_reports_merge_into_the_report_of_all_its_days(tmp_path: Path) -> None:
    """ian.dundas stalls on 12-30 and completes on 12-31: the daily reports gave him twice (stalled
    and complete), counted the stall as open and the fleet 11 activations.  Merged, he is one
    activation, complete after an earlier attempt, as the scan of the three days says."""
    days = []
    for day in ("20231230", "20231231", "20240101"):
        _, doc, _ = scan_json(SAMPLE_LOGS / PROD / day, "-q")
        days.append(save(tmp_path / f"{day}.json", doc))
    _, whole, _ = scan_json(SAMPLE_LOGS / PROD, "-q")
    code, merged, err = merge(*days)
    assert (code, err) == (0, "")
    assert merged is not None
    assert _verdicts(merged) == _verdicts(whole)
    assert merged["summary"] == whole["summary"]
    assert merged["stats"]["overall"] == whole["stats"]["overall"]
    (ian,) = [a for a in merged["activations"] if a["email"] == "ian.dundas@example.com"]
    assert [t["status"] for t in ian["attempts"]] + [ian["status"]] == ["stalled", "complete"]


def test_two_people_of_one_display_name_in_two_reports_stay_two(tmp_path: Path) -> None:
    """January's john.smith@ and February's j.smith2@, both 'Smith, John': one shared display name
    is no one person (two addresses), and they were merged into one, January's completion an
    earlier attempt of February's stall."""
    _, jan, _ = scan_json(SAMPLE_LOGS / EAST / "20231231", "-q")
    _, feb, _ = scan_json(SAMPLE_LOGS / EAST / "20240101", "-q")
    (john,) = [a for a in jan["activations"] if a["email"] == "jsmith@example.com"]
    other = feb["activations"][0]
    other.update(display_name=john["display_name"], user_id=None)
    code, doc, err = merge(save(tmp_path / "jan.json", jan), save(tmp_path / "feb.json", feb))
    assert (code, err) == (0, "")
    assert doc is not None
    emails = [a["email"] for a in doc["activations"]]
    assert "jsmith@example.com" in emails and other["email"] in emails
    assert doc["summary"]["activations"] == len(jan["activations"]) + len(feb["activations"])


def test_the_same_logs_scanned_from_another_folder_are_taken_once(
    hosts: dict[str, Any], tmp_path: Path
) -> None:
    """A scheduled task and an admin by hand, the logs under another path: the reports differ in
    their paths only, and were refused as 'the same time with other results' (exit code 2)."""
    copy = tmp_path / "elsewhere" / PROD
    shutil.copytree(SAMPLE_LOGS / PROD, copy)
    _, again, _ = scan_json(copy, "-q")
    code, doc, err = merge(hosts[PROD], save(tmp_path / "again.json", again))
    assert (code, err) == (0, "")
    assert doc is not None
    assert doc == merge(hosts[PROD])[1]


def test_overlapping_time_with_other_results_is_refused(hosts: dict[str, Any], tmp_path: Path) -> None:
    other = json.loads(Path(hosts[PROD]).read_text(encoding="utf-8"))
    other["activations"][0]["status"] = "stalled"  # another verdict for the same hours
    changed = save(tmp_path / "prod-again.json", other)
    target = tmp_path / "fleet.json"
    result = run_cli("merge", hosts[PROD], changed, "-o", target)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(
        f"bes-logdiag: error: {changed}: server {PROD} is also in {hosts[PROD]} for the same time ("
    )
    assert not target.exists()


@pytest.mark.parametrize("version", [2, 4, "3"])
def test_another_schema_version_is_refused_naming_the_file(
    hosts: dict[str, Any], tmp_path: Path, version: object
) -> None:
    old = json.loads(Path(hosts[EAST]).read_text(encoding="utf-8"))
    old["schema_version"] = version
    path = save(tmp_path / "old.json", old)
    code, _, err = merge(hosts[PROD], path)
    assert code == 2
    advice = (
        "written by a newer bes-logdiag: upgrade this one"
        if version == 4
        else "scan that host again with this version"
    )
    assert (
        err
        == f"bes-logdiag: error: {path}: schema_version {version!r}, but this bes-logdiag reads 3: {advice}\n"
    )


@pytest.mark.parametrize(
    "content, message",
    [
        (
            "not json at all",
            "not a JSON report (Expecting value: line 1 column 1 (char 0)); give the output of scan --format json",
        ),
        (
            '{"a": 1}\n{"b": 2}\n',
            "not a JSON report (Extra data: line 2 column 1 (char 9)); give the output of scan --format json",
        ),
        (
            '{"activations": []}',
            "not a bes-logdiag scan report (no schema_version); give the output of scan --format json",
        ),
        (
            '{"schema_version": 3, "inputs": {}}',
            "not a bes-logdiag scan report ('activations' is missing or not a list)",
        ),
        (
            '{"schema_version": 3, "activations": [], "x": NaN}',
            "not a JSON report (NaN is no JSON number); give the output of scan --format json",
        ),
        (
            '{"schema_version": 3, "activations": [], "x": ' + "9" * 5000 + "}",
            "not a JSON report (a number too long to read); give the output of scan --format json",
        ),
        ("[" * 100_000, "not a JSON report (nested too deep); give the output of scan --format json"),
    ],
    ids=["text", "ndjson", "no-version", "no-activations", "nan", "long-number", "deep"],
)
def test_what_is_not_a_scan_report_is_refused(
    hosts: dict[str, Any], tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "x.json"
    path.write_text(content, encoding="utf-8")
    code, _, err = merge(hosts[PROD], path)
    assert code == 2
    assert err == f"bes-logdiag: error: {path}: {message}\n"


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("stage", 99, "activation 1 has stage 99, not 1 to 4"),
        ("stage", None, "activation 1 has stage null, not 1 to 4"),
        ("stage", "2", 'activation 1 has stage "2", not 1 to 4'),
        (
            "status",
            "bogus",
            'activation 1 has status "bogus", not one of complete, in_progress, stalled, failed',
        ),
        ("candidates", "KB03410", "activation 1 has candidates that are not a list"),
    ],
)
def test_an_activation_edited_out_of_what_scan_writes_is_refused_saying_what(
    hosts: dict[str, Any], tmp_path: Path, field: str, value: object, message: str
) -> None:
    """A stage 99 was merged (exit 0) and made the statistics stop adding up: the stalled count
    said 2 and the stalled per stage summed to 1."""
    doc = json.loads(Path(hosts[EAST]).read_text(encoding="utf-8"))
    doc["activations"][0][field] = value
    path = save(tmp_path / "edited.json", doc)
    code, _, err = merge(hosts[PROD], path)
    assert (code, err) == (2, f"bes-logdiag: error: {path}: not a bes-logdiag scan report ({message})\n")


def test_a_report_saved_as_utf16_is_read(hosts: dict[str, Any], tmp_path: Path) -> None:
    """Windows PowerShell 5.1 writes ``scan ... > east.json`` as UTF-16 with a byte-order mark."""
    path = tmp_path / "east-utf16.json"
    path.write_bytes(Path(hosts[EAST]).read_text(encoding="utf-8").encode("utf-16"))
    assert merge(hosts[PROD], path)[:3] == merge(hosts[PROD], hosts[EAST])[:3]


def test_a_missing_report_is_named(hosts: dict[str, Any], tmp_path: Path) -> None:
    code, _, err = merge(hosts[PROD], tmp_path / "nope.json")
    assert code == 2
    assert err.startswith(f"bes-logdiag: error: {tmp_path / 'nope.json'}: cannot read it: ")


def test_the_output_may_not_overwrite_an_input(hosts: dict[str, Any]) -> None:
    before = Path(hosts[EAST]).read_bytes()
    code, _, err = merge(hosts[PROD], hosts[EAST], "-o", hosts[EAST])
    assert code == 2
    assert err.startswith(f"bes-logdiag: error: -o {hosts[EAST]}: ")
    assert Path(hosts[EAST]).read_bytes() == before


def test_a_report_on_standard_input(hosts: dict[str, Any]) -> None:
    text = Path(hosts[EAST]).read_text(encoding="utf-8")
    result = run_cli("merge", hosts[PROD], "-", input=text)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["summary"] == hosts["all"]["summary"]


def test_fields_a_newer_scan_adds_are_kept(hosts: dict[str, Any], tmp_path: Path) -> None:
    a = json.loads(Path(hosts[PROD]).read_text(encoding="utf-8"))
    b = json.loads(Path(hosts[EAST]).read_text(encoding="utf-8"))
    a["baseline"], b["baseline"] = ["x"], ["y"]
    code, doc, _ = merge(save(tmp_path / "a.json", a), save(tmp_path / "b.json", b))
    assert code == 0 and doc is not None
    assert doc["baseline"] == ["x", "y"]


def _edited(doc: dict[str, Any], how: str) -> dict[str, Any]:
    act = doc["activations"][0]
    if how == "no-status":
        del act["status"]
    elif how == "bad-time":
        act["started"] = "yesterday"
    elif how == "null-activation":
        doc["activations"][0] = None
    elif how == "numeric-server":
        act["server"] = 7
    elif how == "notes-text":
        doc["notes"] = "hello"
    return doc


@pytest.mark.parametrize("how", ["no-status", "bad-time", "null-activation", "numeric-server", "notes-text"])
@pytest.mark.parametrize("command", ["merge", "report"])
def test_a_report_edited_by_hand_is_refused_in_one_line_naming_it(
    hosts: dict[str, Any], tmp_path: Path, how: str, command: str
) -> None:
    """A field removed or given the wrong type: one line naming the file, exit code 2, no internal
    error (README "Bad input"), whichever report it is merged with."""
    doc = _edited(json.loads(Path(hosts[EAST]).read_text(encoding="utf-8")), how)
    path = save(tmp_path / "edited.json", doc)
    result = run_cli(command, hosts[PROD], path, "-o", tmp_path / "out")
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(f"bes-logdiag: error: {path}: "), result.stderr
    assert "internal error" not in result.stderr
    assert not (tmp_path / "out").exists()
