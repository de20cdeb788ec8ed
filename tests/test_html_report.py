"""The HTML report without a browser: one self-contained page (nothing loaded, a Content-Security-Policy
that runs only its own script), one table row per activation, a card with a timeline for each that
did not complete, the statistics; every piece of hostile text escaped; large reports fold their
cards past the first ones."""

from __future__ import annotations

import base64
import copy
import gzip
import hashlib
import io
import re
import shutil
import tarfile
import zipfile
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from builders import SAMPLE_LOGS, scan_json, scan_report, write_activation

from bes_logdiag.render import html, html_details

NOW = datetime(2024, 1, 2, 8, 0)
TAGS = {
    "html", "head", "meta", "title", "style", "body", "svg", "defs", "pattern", "rect", "path", "g", "text",
    "header", "h1", "p", "code", "nav", "ul", "li", "a", "main", "section", "h2", "strong", "span", "div",
    "table", "caption", "thead", "tr", "th", "tbody", "td", "details", "summary", "h3", "h4", "desc", "use",
    "line", "circle", "polyline", "form", "fieldset", "legend", "label", "input", "select", "option",
    "br", "article", "dl", "dt", "dd", "figure", "pre", "mark", "footer", "script",
}  # fmt: skip
"""Every element the page may hold: anything else came from data."""


class Page(HTMLParser):
    """What a browser would build: the elements, their attributes, the text of script and style."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.raw: dict[str, list[str]] = {"script": [], "style": []}
        self.text: list[str] = []
        self._in: str | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in = tag if tag in self.raw else None

    def handle_endtag(self, tag: str) -> None:
        self._in = None

    def handle_data(self, data: str) -> None:
        if self._in:
            self.raw[self._in].append(data)
        else:
            self.text.append(data)

    def all(self, tag: str, **want: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in want.items())]


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    _, d, _ = scan_json(SAMPLE_LOGS, "-q")
    return d


def render(doc: dict[str, Any], **kw: Any) -> str:
    out = io.StringIO()
    html.write_html(doc, out, now=NOW, **kw)
    return out.getvalue()


@pytest.fixture(scope="module")
def page(doc: dict[str, Any]) -> str:
    return render(doc)


def sha(text: str) -> str:
    return base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode()


def test_the_page_loads_nothing_and_runs_only_its_own_script(page: str) -> None:
    p = Page(page)
    assert {t for t, _ in p.tags} <= TAGS
    (policy,) = [a["content"] for a in p.all("meta") if a.get("http-equiv") == "Content-Security-Policy"]
    assert policy is not None and policy.startswith("default-src 'none'; ")
    (script,), (style,) = p.raw["script"], p.raw["style"]
    assert f"script-src 'sha256-{sha(script)}'" in policy
    assert f"style-src 'sha256-{sha(style)}'" in policy
    assert [a for _, a in p.tags if "src" in a] == []
    links = [a.get("href") for _, a in p.tags if "href" in a]
    assert links and all(str(h).startswith("#") for h in links)  # in-page only
    assert "url(" not in style.replace("url(#p-", "")  # the fill patterns defined in the page


def test_one_table_row_per_activation(doc: dict[str, Any], page: str) -> None:
    p = Page(page)
    rows = [a for a in p.all("tr") if a.get("data-i") is not None]
    assert [r["data-status"] for r in rows] == [a["status"] for a in doc["activations"]]
    assert [r["data-server"] for r in rows] == [a["server"] for a in doc["activations"]]
    assert len(p.all("table", id="acts")) == 1
    assert len(p.all("th", scope="col", role="columnheader")) == 8


def test_a_card_with_a_timeline_for_each_activation(doc: dict[str, Any], page: str) -> None:
    for i, a in enumerate(doc["activations"]):
        card = page.split(f'<article class="card {a["status"]}" id="a-{i}" data-i="{i}">', 1)[1].split(
            "</article>", 1
        )[0]
        svg = re.search(r'<svg class="tl".*?</svg>', card)
        assert svg, a["email"]
        milestones = [m["milestone"] for t in (*a["attempts"], a) for m in t["milestones"]]
        assert sorted(re.findall(r'data-milestone="(\w+)"', svg.group())) == sorted(milestones)
        assert (
            f'<title id="t{i}-t">Timeline of {a["email"]} on {a["server"]}: {a["status"].replace("_", " ")}'
            in svg.group()
        )
        if a["status"] == "complete":
            continue
        assert "<dt>Why</dt>" in card and "<dt>Expected next</dt>" in card
        if a["kb"]:
            assert f"<strong>{a['kb']}</strong>" in card and "<dt>What to check</dt>" in card
        if a["status"] == "stalled":
            assert 'class="gap"' in svg.group() and "threshold" in svg.group()
        assert '<pre class="ctx">' in card  # the sample's files are there to read again


def test_the_evidence_line_is_marked_among_its_neighbours(doc: dict[str, Any], page: str) -> None:
    i = next(i for i, a in enumerate(doc["activations"]) if a["email"] == "tom.reed@example.com")
    where = doc["activations"][i]["evidence"][0]
    card = page.split(f'id="a-{i}"', 1)[1].split("</article>", 1)[0]
    file, line = where.rsplit(":", 1)
    assert f"<code>{file}</code>, line {line}" in card
    marked = re.findall(r'<mark class="hit"><span class="ln">&gt; (\d+) </span>', card)
    assert marked == [line]
    assert len(re.findall(r'<span class="ln">', card)) == 5  # two lines either side


def test_header_says_what_was_read(doc: dict[str, Any], page: str) -> None:
    text = " ".join(" ".join(Page(page).text).split())
    assert "Made by bes-logdiag" in text and "2024-01-02 08:00" in text
    assert "28 files read, 0 skipped, 18 ignored; 19,607 lines, 125 matched." in text
    assert "BBPROD01 MAGT 2023-12-30 to 2024-01-01 7 7,050" in text
    assert "The logs end: BBPROD01 at 2024-01-01 23:50:00, BES_EAST_02 at 2024-01-01 23:50:00." in text
    assert "Ignored files (not activation logs) (18)" in text


def test_statistics_per_server_and_overall(doc: dict[str, Any], page: str) -> None:
    p = Page(page)
    assert [a.get("aria-labelledby") for a in p.all("svg") if a.get("class") == "chart"] == [
        "call-t call-d", "hall-t hall-d", "cs0-t cs0-d", "hs0-t hs0-d", "cs1-t cs1-d", "hs1-t hs1-d",
    ]  # fmt: skip
    text = " ".join(" ".join(p.text).split())
    assert "All servers 19 20 6 1 7 5 0 1 · 1 · 2 · 3 3 · 1 · 1 · 0" in text
    assert "stage 1: median 4.6s, 90th percentile 6.7s, 15 attempts left it" in text  # the chart's words
    assert "07:00 3 stalled, 1 failed" in text


HOSTILE = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
TERMINAL = "\x1b[2J\u202e"


def hostile(doc: dict[str, Any]) -> dict[str, Any]:
    """The sample's report with hostile text wherever log text, names and file names go."""
    d = copy.deepcopy(doc)
    bad = HOSTILE + TERMINAL
    for a in d["activations"]:
        a["display_name"] = f"Evil, {bad}"
        a["server"] = f"SRV{bad}"
        a["reason"] += bad
        a["evidence"] = [f"{w.rsplit(':', 1)[0]}{bad}:{w.rsplit(':', 1)[1]}" for w in a["evidence"]]
        for m in a["milestones"] + a["errors"]:
            m["milestone" if "milestone" in m else "error"] = f"step{bad}"
            m["file"] += bad
        for c in a["candidates"]:
            c["tell"] += bad
    for c in d["context"]:
        c["evidence"] = f"{c['evidence'].rsplit(':', 1)[0]}{bad}:{c['evidence'].rsplit(':', 1)[1]}"
        c["lines"] = [line + bad for line in c["lines"]]
    d["notes"].append(bad)
    d["inputs"]["files"][0]["path"] += bad
    d["inputs"]["ignored"][0]["reason"] += bad
    d["log_end"] = {f"SRV{bad}": v for v in d["log_end"].values()}
    for g in d["stats"]["servers"]:
        g["server"] = f"SRV{bad}"
    return d


def test_hostile_text_is_shown_and_never_markup(doc: dict[str, Any]) -> None:
    page = render(hostile(doc))
    p = Page(page)
    assert {t for t, _ in p.tags} <= TAGS
    assert len(p.all("script")) == 1 and len(p.all("img")) == 0
    assert not [name for _, a in p.tags for name in a if name.startswith("on")]
    text = "".join(p.text)
    assert HOSTILE in text  # shown as text
    assert "\x1b" not in page and "\u202e" not in page
    assert "\\x1b[2J\\u202e" in text  # the controls shown as escapes
    # every card and its evidence survived
    assert page.count("<article ") == page.count("</article>") == len(doc["activations"])
    assert page.count('<pre class="ctx">') == Page(render(doc)).tags.count(("pre", {"class": "ctx"}))


def test_folded_cards_past_the_first_ones(doc: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    full = render(hostile(doc))
    monkeypatch.setattr(html_details, "STATIC_CARDS", 2)
    folded = render(hostile(doc))
    cards = re.findall(
        r'<article class="card (\w+)( lazy)?" id="a-(\d+)" data-i="\d+">(.*?)</article>', folded, re.S
    )
    assert [lazy for _, lazy, _, _ in cards].count("") == 2
    for st, lazy, i, body in cards:
        drawn = re.search(rf'<article class="card {st}" id="a-{i}" data-i="{i}">(.*?)</article>', full, re.S)
        assert drawn is not None
        if not lazy:
            assert body == drawn.group(1)
            continue
        # a heading and the reason, then the card itself in a comment that nothing ends early
        head, comment = body.split("<!--", 1)
        assert head.startswith("<h3>") and comment.endswith("-->")
        inner = comment[: -len("-->")]
        assert "-->" not in inner and "--!>" not in inner
        assert inner.replace("--&gt;", "-->") == drawn.group(1).replace("--&gt;", "-->")


def test_an_empty_report() -> None:
    from bes_logdiag.model import Inputs, Report
    from bes_logdiag.render.json import report_dict

    page = render(report_dict(Report(activations=(), inputs=Inputs(files=(), skipped=()))))
    assert "0 activations" in page
    assert '<tr role="row" data-i' not in page
    assert '<section id="details"' in page and "<article" not in page


# --- the log lines around the evidence, read again after the scan ------------------------------------


@pytest.fixture(scope="module")
def stalled_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """John stops after his key is generated (stage 2): KB13843, the key line his evidence."""
    folder = tmp_path_factory.mktemp("stalled") / "logs"
    folder.mkdir()
    write_activation(folder, "MYBES", "20100521", "jane.doe@corp.com", 2001, "Doe, Jane", hour=9)
    write_activation(
        folder, "MYBES", "20100521", "john.roe@corp.com", 2002, "Roe, John", hour=10, upto="key_generated"
    )
    return folder


def packed(logs: Path, how: str, into: Path) -> Path:
    if how == "folder":
        return logs
    if how == "zip":
        with zipfile.ZipFile(into / "logs.zip", "w", zipfile.ZIP_DEFLATED) as z:
            for p in sorted(logs.iterdir()):
                z.write(p, p.name)
        return into / "logs.zip"
    if how == "tgz":
        with tarfile.open(into / "logs.tgz", "w:gz") as t:
            for p in sorted(logs.iterdir()):
                t.add(p, p.name)
        return into / "logs.tgz"
    folder = into / "gz"
    folder.mkdir()
    for p in logs.iterdir():
        (folder / f"{p.name}.gz").write_bytes(gzip.compress(p.read_bytes()))
    return folder


@pytest.mark.parametrize("how", ["folder", "zip", "tgz", "gz"])
def test_the_lines_around_the_evidence_come_from_any_container(
    stalled_logs: Path, tmp_path: Path, how: str
) -> None:
    code, doc, _ = scan_json(packed(stalled_logs, how, tmp_path), "-q")
    assert code == 1
    john = next(a for a in doc["activations"] if a["email"] == "john.roe@corp.com")
    (where,) = john["evidence"]
    (context,) = doc["context"]  # Jane completed: no card, no context
    assert context["evidence"] == where
    line = int(where.rsplit(":", 1)[1])
    assert context["first_line"] == max(1, line - 2)
    assert any("Generating" in x and "{john.roe@corp.com}" in x for x in context["lines"])


def test_no_context_from_standard_input_or_a_file_changed_since(stalled_logs: Path, tmp_path: Path) -> None:
    magt = next(stalled_logs.glob("*MAGT*"))
    _, piped, _ = scan_json("-", "--year", "2010", "-q", input=magt.read_text(encoding="utf-8"))
    assert piped["context"] == [] and any(a["status"] == "stalled" for a in piped["activations"])

    from bes_logdiag.evidence_context import read_context

    copy_of = tmp_path / "logs"
    shutil.copytree(stalled_logs, copy_of)
    report = scan_report(copy_of)
    assert len(list(read_context(report))) == 1
    moved = next(copy_of.glob("*MAGT*"))
    moved.write_text("\n" * 3 + moved.read_text(encoding="utf-8"), encoding="utf-8")  # rotated, rewritten
    assert list(read_context(report)) == []


def test_the_lines_around_the_evidence_stop_at_the_files_last_line(stalled_logs: Path) -> None:
    """John's key line is the last line but one of the MAGT log: its context holds the two lines
    before it and the file's last line, and no empty line after the file's end."""
    magt = next(stalled_logs.glob("*MAGT*"))
    last = len(magt.read_bytes().splitlines())
    _, doc, _ = scan_json(stalled_logs, "-q")
    (context,) = doc["context"]
    assert context["evidence"] == f"{magt}:{last - 1}"
    assert context["first_line"] == last - 3
    assert len(context["lines"]) == 4 and all(context["lines"])
