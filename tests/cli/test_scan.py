"""``bes-logdiag scan`` end to end through CliRunner: verdicts on sample_logs, JSON fields, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from builders import SAMPLE_LOGS, SEED_KBS, data_file, run_cli


@pytest.fixture(scope="module")
def sample_json() -> dict:  # type: ignore[type-arg]
    result = run_cli("scan", str(SAMPLE_LOGS), "--format", "json", "--jobs", "1")
    assert result.exit_code == 1, result.stderr  # the sample holds stalled and failed activations
    return json.loads(result.stdout)


def _key(a: dict) -> tuple[str, str]:  # type: ignore[type-arg]
    return (a["server"], a["email"])


def test_every_sample_activation_matches_the_ground_truth(sample_json: dict) -> None:  # type: ignore[type-arg]
    expected = json.loads(data_file("sample_expected.json").read_text())
    got = {_key(a): a for a in sample_json["activations"]}
    assert sorted(got) == sorted(_key(e) for e in expected), "activations split, missing or invented"
    for e in expected:
        a = got[_key(e)]
        assert (a["status"], a["stage"], a["kb"]) == (e["status"], e["stage"], e["kb"]), e["email"]
        assert len(a["attempts"]) + 1 == e["attempts"], e["email"]
        if a["user_id"] is not None:
            assert a["user_id"] == e["user_id"], e["email"]


def test_the_sample_has_every_outcome_of_the_kb_table(sample_json: dict) -> None:  # type: ignore[type-arg]
    kbs = {a["kb"] for a in sample_json["activations"]} - {None}
    assert kbs == set(SEED_KBS)
    assert {a["status"] for a in sample_json["activations"]} == {
        "complete",
        "in_progress",
        "stalled",
        "failed",
    }


def test_json_fields_are_the_documented_contract(sample_json: dict) -> None:  # type: ignore[type-arg]
    assert {"activations", "inputs"} <= set(sample_json)
    act = next(a for a in sample_json["activations"] if a["status"] == "stalled")
    for field in (
        "server",
        "email",
        "user_id",
        "display_name",
        "status",
        "stage",
        "stage_name",
        "kb",
        "kb_title",
        "started",
        "last_progress",
        "completed",
        "milestones",
        "candidates",
        "attempts",
    ):
        assert field in act, field
    m = act["milestones"][0]
    assert {"milestone", "stage", "time", "file", "line"} <= set(m)
    assert m["time"][:4].isdigit() and "T" in m["time"]
    assert Path(m["file"]).exists() and m["line"] >= 1
    assert act["candidates"] and {"kb", "title", "tell"} <= set(act["candidates"][0])
    inputs = sample_json["inputs"]
    assert {"files", "skipped", "lines", "bytes"} <= set(inputs)
    assert inputs["lines"] > 1000 and inputs["bytes"] > 100_000


def test_earlier_attempts_sit_under_attempts(sample_json: dict) -> None:  # type: ignore[type-arg]
    retried = [a for a in sample_json["activations"] if a["attempts"]]
    assert retried
    for a in retried:
        assert a["attempts"][0]["started"] < a["started"]
        assert a["attempts"][0]["status"] in {"stalled", "failed", "complete"}


def test_evidence_points_at_the_real_line(sample_json: dict) -> None:  # type: ignore[type-arg]
    for a in sample_json["activations"]:
        for m in a["milestones"]:
            text = Path(m["file"]).read_bytes().splitlines()[m["line"] - 1].decode("utf-8", "replace")
            assert m["text"][:20] in text.replace("×", "x")


def test_table_output_and_summary() -> None:
    result = run_cli("scan", str(SAMPLE_LOGS), "--jobs", "1")
    assert result.exit_code == 1
    assert "KB13840" in result.stdout and "Activation stops responding" in result.stdout
    assert "activations:" in result.stdout and "stalled" in result.stdout
    assert "\x1b[" not in result.stdout


def test_seed_excerpt_from_stdin() -> None:
    text = data_file("seed_excerpt.txt").read_text(encoding="utf-8")
    result = run_cli("scan", "-", "--year", "2010", "--format", "json", input=text)
    assert result.exit_code == 0, result.stderr
    (act,) = json.loads(result.stdout)["activations"]
    assert (act["email"], act["user_id"], act["status"], act["stage"]) == (
        "ian.dundas@example.net",
        2573,
        "complete",
        4,
    )
    assert [m["stage"] for m in act["milestones"]] == [1, 2, 2, 3, 3, 4, 4]


def test_exit_code_zero_when_nothing_is_stalled_or_failed() -> None:
    result = run_cli("scan", str(SAMPLE_LOGS), "--status", "complete", "--format", "json")
    assert result.exit_code == 0
    assert {a["status"] for a in json.loads(result.stdout)["activations"]} == {"complete"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["scan", "nowhere-at-all"], "nothing could be read"),
        (["scan", "SAMPLE", "--stall-after", "soon"], "--stall-after"),
        (["scan", "SAMPLE", "--year", "10"], "--year"),
        (["scan", "SAMPLE", "--format", "yaml"], "--format"),
        (["scan", "SAMPLE", "--patterns", "no-such-dir"], "no-such-dir"),
    ],
)
def test_usage_errors_exit_2_with_one_line(args: list[str], message: str) -> None:
    args = [str(SAMPLE_LOGS) if a == "SAMPLE" else a for a in args]
    result = run_cli(*args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_user_map_option(tmp_path: Path) -> None:
    result = run_cli(
        "scan", str(SAMPLE_LOGS), "--users", str(data_file("sample_users.csv")), "--format", "json"
    )
    acts = json.loads(result.stdout)["activations"]
    tom = next(a for a in acts if a["email"] == "tom.reed@example.com")
    assert tom["user_id"] is not None and tom["display_name"]


def test_every_command_has_help_with_an_example() -> None:
    for cmd in (
        [],
        ["scan"],
        ["timeline"],
        ["events"],
        ["kb"],
        ["patterns"],
        ["patterns", "list"],
        ["patterns", "check"],
        ["presence"],
        ["presence", "check"],
        ["presence", "whitelist"],
        ["watch"],
        ["merge"],
        ["report"],
        ["redact"],
        ["history"],
        ["lnav-format"],
    ):
        result = run_cli(*cmd, "--help")
        assert result.exit_code == 0, cmd
        assert "Example" in result.stdout, cmd


def test_version() -> None:
    result = run_cli("--version")
    assert result.exit_code == 0 and result.stdout.startswith("bes-logdiag ")


@pytest.mark.parametrize("fmt", ["json", "junit", "html"])
def test_nothing_readable_still_writes_the_report(tmp_path: Path, fmt: str) -> None:
    """Exit code 2, the one-line error, and the report all the same (README "Exit codes"): a CI job
    keeps its artifact, which says what was given and why none of it could be read."""
    junk = tmp_path / "in" / "random.bin"
    junk.parent.mkdir()
    junk.write_bytes(bytes(range(256)) * 40)
    (tmp_path / "in" / "empty.txt").write_bytes(b"")
    out = tmp_path / f"report.{fmt}"
    result = run_cli("scan", tmp_path / "in", "--format", fmt, "-o", out)
    assert result.exit_code == 2
    assert result.stderr.startswith("bes-logdiag: error: nothing could be read (")
    assert out.exists()
    text = out.read_text(encoding="utf-8")
    if fmt == "json":
        doc = json.loads(text)
        assert doc["activations"] == []
        assert sorted(Path(s["path"]).name for s in doc["inputs"]["skipped"]) == ["empty.txt", "random.bin"]
    elif fmt == "junit":
        assert 'tests="0"' in text
    else:
        assert "random.bin" in text


def test_the_report_of_nothing_readable_is_redacted_like_any(tmp_path: Path) -> None:
    folder = tmp_path / "private-folder"
    folder.mkdir()
    (folder / "empty.txt").write_bytes(b"")
    out = tmp_path / "report.json"
    result = run_cli("scan", folder, "--format", "json", "-o", out, "--redact", "--key", tmp_path / "k")
    assert result.exit_code == 2
    text = out.read_text(encoding="utf-8")
    assert (
        str(tmp_path) not in text and "…/private-folder/empty.txt" in text
    )  # (as redact_report shows paths)
