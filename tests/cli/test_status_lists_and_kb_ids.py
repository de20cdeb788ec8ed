"""``--status`` takes a comma list as well as the option repeated; ``kb`` finds an article by its
number however it is typed."""

from __future__ import annotations

import json

import pytest
from builders import SAMPLE_LOGS, run_cli


def statuses(*args: str) -> list[tuple[str, str]]:
    result = run_cli("scan", SAMPLE_LOGS, "-q", "-f", "json", "--jobs", "1", *args)
    assert result.exit_code in (0, 1), result.stderr
    return [(a["email"], a["status"]) for a in json.loads(result.stdout)["activations"]]


def test_a_comma_list_is_the_option_repeated() -> None:
    listed = statuses("--status", "stalled,failed")
    assert listed == statuses("--status", "stalled", "--status", "failed")
    assert {s for _, s in listed} == {"stalled", "failed"}
    assert statuses("--status", " Stalled , in-progress ") == statuses("--status", "stalled,in_progress")


def test_an_unknown_status_is_named_with_the_known_ones() -> None:
    result = run_cli("scan", SAMPLE_LOGS, "--status", "stalled,stuck")
    assert result.exit_code == 2
    assert "'stuck' is not a status (complete, in_progress, stalled, failed)" in result.stderr
    assert "Value error" not in result.stderr


@pytest.mark.parametrize("typed", ["KB13840", "kb13840", "13840", "KB 13840", " 13840 "])
def test_kb_finds_an_article_however_its_id_is_typed(typed: str) -> None:
    result = run_cli("kb", typed)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("KB13840  Activation stops responding")


def test_an_unknown_article_suggests_the_near_one() -> None:
    result = run_cli("kb", "13480")
    assert result.exit_code == 2
    assert "unknown article '13480' (did you mean KB13840? known: KB02276," in result.stderr
