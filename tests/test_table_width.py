"""The scan table is laid out for the width it has: ``--width N``, else ``COLUMNS``, else the
terminal's, else 160 when piped; the richest layout that fits, and a cut is marked with an ellipsis."""

from __future__ import annotations

import io

import pytest
from builders import SAMPLE_LOGS, run_cli, scan_report
from rich.cells import cell_len

from bes_logdiag.render.table import LAYOUTS, Screen, write

SUMMARY = "28 files, "


@pytest.fixture(scope="module")
def sample():  # type: ignore[no-untyped-def]
    return scan_report(SAMPLE_LOGS)


def table_lines(text: str) -> list[str]:
    """The table: every line above the summary."""
    lines = text.splitlines()
    return lines[: next(i for i, x in enumerate(lines) if x.startswith(SUMMARY))]


def render(report, width: int) -> list[str]:  # type: ignore[no-untyped-def]
    out = io.StringIO()
    write(report, out, screen=Screen(width=width))
    return table_lines(out.getvalue())


@pytest.mark.parametrize("width", [40, 50, 60, 72, 80, 90, 100, 110, 120, 130, 140, 150, 160, 200])
def test_the_table_never_runs_past_the_width(sample, width: int) -> None:  # type: ignore[no-untyped-def]
    assert max(cell_len(x) for x in render(sample, width)) <= width


def test_piped_output_honours_columns(sample, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("COLUMNS", "100")
    result = run_cli("scan", SAMPLE_LOGS, "-q", "--jobs", "1")
    assert table_lines(result.stdout) == render(sample, 100)
    assert max(cell_len(x) for x in table_lines(result.stdout)) <= 100


def test_width_wins_over_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    result = run_cli("scan", SAMPLE_LOGS, "-q", "--jobs", "1", "--width", "72")
    assert max(cell_len(x) for x in table_lines(result.stdout)) <= 72


def test_piped_output_without_columns_is_160_wide(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    result = run_cli("scan", SAMPLE_LOGS, "-q", "--jobs", "1")
    assert max(cell_len(x) for x in table_lines(result.stdout)) == 160


def test_a_width_too_narrow_is_a_usage_error() -> None:
    result = run_cli("scan", SAMPLE_LOGS, "--width", "20")
    assert result.exit_code == 2 and "--width" in result.stderr and "40 columns or more" in result.stderr


def test_at_120_columns_kb_titles_and_tries_are_shown(sample) -> None:  # type: ignore[no-untyped-def]
    text = "\n".join(render(sample, 120))
    head = text.splitlines()[0].split()
    assert head == ["Server", "User", "Status", "Stage", "KB", "Last", "milestone", "Tries"]
    assert "KB13840 Activation stops" in text and "KB04533 IT Policy Rejected" in text


def test_at_160_columns_stage_names_and_borders_too(sample) -> None:  # type: ignore[no-untyped-def]
    text = "\n".join(render(sample, 160))
    assert text.startswith("┏") and "4 Slow synchronization" in text and "KB13840 Activation stops" in text


@pytest.mark.parametrize("width", [80, 100, 120, 160])
def test_names_ids_and_milestones_stay_whole_where_a_layout_fits(sample, width: int) -> None:  # type: ignore[no-untyped-def]
    text = "\n".join(render(sample, width))
    for a in sample.activations:
        assert a.email in text and (a.server or "-") in text
        assert (a.last.last_milestone or "-") in text
        if a.last.diagnosis.kb:
            assert a.last.diagnosis.kb in text
    assert "…" not in text


def test_a_cell_cut_to_fit_ends_with_an_ellipsis(sample) -> None:  # type: ignore[no-untyped-def]
    text = "\n".join(render(sample, 64))
    assert "service_books_requested" not in text  # too wide for 64 columns beside a user and a status
    cut = [w for w in text.split() if w.startswith("service_books")]
    assert cut and all(w.endswith("…") for w in cut)


def test_the_layouts_go_from_the_richest_to_the_sparest(sample) -> None:  # type: ignore[no-untyped-def]
    from bes_logdiag.baseline import Gate
    from bes_logdiag.render.table import _cells, _measure, _needed

    widths = _measure([_cells(a, Gate()) for a in sample.activations])
    needs = [_needed(layout, widths) for layout in LAYOUTS]
    assert needs == sorted(needs, reverse=True)
