"""`presence whitelist`: separators, duplicates, invalid domains, empty lists, input sources."""

from __future__ import annotations

import codecs
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from builders import findings_of, only_finding, presence_cli, presence_whitelist, save
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import Result

from bes_logdiag.presence.rules import PresenceRules
from bes_logdiag.presence.whitelist import normalise_whitelist

Data = Callable[[str], Path]
Invoke = Callable[..., Result]


@pytest.mark.parametrize(
    "text",
    [
        "a.com,b.com,c.com",
        "a.com;b.com;c.com",
        "a.com b.com c.com",
        "a.com\nb.com\nc.com",
        "a.com\r\nb.com\r\nc.com\r\n",
        "a.com, b.com; c.com",
        "  a.com ;; b.com,,\n\n c.com\t",
        "A.COM b.com C.com",
    ],
    ids=["comma", "semicolon", "space", "newline", "crlf", "mixed", "runs", "upper-case"],
)
def test_every_separator(invoke: Invoke, text: str) -> None:
    result = invoke("whitelist", text)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "a.com\nb.com\nc.com\n"
    assert result.stderr == "0 errors, 0 warnings, 0 info\n"


def test_duplicates_are_dropped_and_flagged(invoke: Invoke) -> None:
    result = invoke("whitelist", "example.com\nexample1.com\nExample.COM\nexample1.com", "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["domains"] == ["example.com", "example1.com"]
    assert [(f["rule"], f["key"], f["line"], f["severity"]) for f in report["findings"]] == [
        ("whitelist-duplicate", "Example.COM", 3, "warning"),
        ("whitelist-duplicate", "example1.com", 4, "warning"),
    ]
    assert report["findings"][0]["message"] == (
        '"Example.COM" is listed more than once (first on line 1); the repeat was dropped.'
    )
    assert report["findings"][0]["file"] == "<argument>"


@pytest.mark.parametrize(
    "entry",
    [
        "bad_domain.com",
        "example",
        "*.example.com",
        "user@example.com",
        "10.0.0.1",
        "-x.example.com",
        "example.com.",
        "exämple",
        "http://example.com",
    ],
)
def test_invalid_domains_are_left_out(invoke: Invoke, entry: str) -> None:
    result = invoke("whitelist", f"good.example.com, {entry}", "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["domains"] == ["good.example.com"]
    [finding] = report["findings"]
    assert (finding["rule"], finding["key"], finding["severity"]) == (
        "whitelist-invalid",
        entry,
        "error",
    )
    assert finding["message"] == (f'"{entry}" is not a domain name such as example.com; it was left out.')


@pytest.mark.parametrize("text", ["", "  ", " ,; \n"])
def test_empty_enabled_whitelist_warns(invoke: Invoke, text: str) -> None:
    result = invoke("whitelist", text)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "whitelist-empty" in result.stderr
    assert "\x1b[" not in result.stderr


def test_whitelist_of_only_invalid_domains_is_empty(invoke: Invoke) -> None:
    result = invoke("whitelist", "not_a_domain", "--format", "json")
    report = json.loads(result.stdout)
    assert report["domains"] == []
    assert [f["rule"] for f in report["findings"]] == ["whitelist-invalid", "whitelist-empty"]
    empty = report["findings"][1]
    assert (empty["key"], empty["severity"], empty["line"]) == ("whitelist", "warning", None)


def test_disabled_whitelist(invoke: Invoke) -> None:
    empty = invoke("whitelist", "", "--disabled")
    assert (empty.exit_code, empty.stdout) == (0, "")
    assert "whitelist-empty" not in empty.stderr
    listed = invoke("whitelist", "a.com b.com", "--disabled", "--format", "json")
    assert listed.exit_code == 0
    [note] = json.loads(listed.stdout)["findings"]
    assert (note["rule"], note["severity"]) == ("whitelist-disabled", "info")
    assert "2 domains" in note["message"]


def test_file_and_stdin(data: Data, invoke: Invoke) -> None:
    path = data("whitelist_mixed.txt")
    expected = "example.com\nexample1.com\npartner.example.org\n"
    from_file = invoke("whitelist", "--file", str(path))
    assert from_file.stdout == expected
    assert from_file.exit_code == 1  # one duplicate, one invalid
    assert "bad_domain" in from_file.stderr
    raw = path.read_bytes()
    for args in (["-"], ["--file", "-"]):
        from_stdin = invoke("whitelist", *args, "--format", "json", input=raw)
        report = json.loads(from_stdin.stdout)
        assert report["domains"] == expected.split()
        assert {f["file"] for f in report["findings"]} == {"<stdin>"}
        assert [f["line"] for f in report["findings"]] == [2, 4]


def test_utf16_whitelist_file(invoke: Invoke, tmp_path: Path) -> None:
    path = tmp_path / "list.txt"
    path.write_bytes("a.com\r\nb.com\r\n".encode("utf-16"))
    result = invoke("whitelist", "--file", str(path))
    assert (result.exit_code, result.stdout) == (0, "a.com\nb.com\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["a.com", "--file", "x.txt"], "give the domains as an argument or with --file, not both"),
        ([], "give the domains as an argument, with --file FILE, or - for stdin"),
        (
            ["--file", "/nonexistent/list.txt"],
            "/nonexistent/list.txt: cannot read: No such file or directory",
        ),
    ],
)
def test_input_errors(invoke: Invoke, args: list[str], message: str) -> None:
    result = invoke("whitelist", *args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == f"bes-logdiag: error: {message}\n"


# --- property tests on the normaliser ------------------------------------------------------------

LABEL = st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True)
TLD = st.from_regex(r"[a-z]{2,6}", fullmatch=True)
DOMAIN = st.builds(lambda labels, tld: ".".join([*labels, tld]), st.lists(LABEL, min_size=1, max_size=3), TLD)
SEPARATOR = st.sampled_from([",", ";", " ", "\n", ", ", "; ", ",\n", " \n ", "\r\n", ";;"])


@given(st.text())
def test_normaliser_never_raises(rules: PresenceRules, text: str) -> None:
    report = normalise_whitelist(text, rules)
    assert all(rules.pattern("fqdn").fullmatch(d) for d in report.domains)
    assert len(set(report.domains)) == len(report.domains)


@given(st.lists(DOMAIN, min_size=1, max_size=12, unique=True), st.data())
def test_clean_list_round_trips(rules: PresenceRules, domains: list[str], draw: st.DataObject) -> None:
    separators = draw.draw(st.lists(SEPARATOR, min_size=len(domains), max_size=len(domains)))
    text = "".join(d + s for d, s in zip(domains, separators))
    report = normalise_whitelist(text, rules)
    assert list(report.domains) == domains
    assert report.findings == ()
    # Normalising the normalised output changes nothing.
    again = normalise_whitelist("\n".join(report.domains), rules)
    assert again.domains == report.domains


# ---------------------------------------------------------------------------------------------
# Item 4: the domain whitelist


def test_whitelist_every_separator_mixed(tmp_path: Path) -> None:
    text = "Example.com, example1.com;partner.example.org  sub.partner.example.org\nlast.example.net;\n"
    result, doc = presence_whitelist(text)
    assert result.exit_code == 0
    assert doc["domains"] == [
        "example.com",
        "example1.com",
        "partner.example.org",
        "sub.partner.example.org",
        "last.example.net",
    ]
    assert doc["findings"] == []


def test_whitelist_table_prints_paste_ready_list() -> None:
    result = presence_cli("whitelist", "a.example.com ;; B.example.com,\tc.example.com")
    assert result.exit_code == 0
    assert result.stdout == "a.example.com\nb.example.com\nc.example.com\n"


@pytest.mark.parametrize(
    "entry",
    [
        "*.example.com",
        "user@example.com",
        "https://example.com",
        "10.1.2.3",
        "localhost",
        "exa_mple.com",
        "*.bücher.example",
    ],
)
def test_whitelist_invalid_entry_is_dropped(entry: str) -> None:
    result, doc = presence_whitelist(f"example.com;{entry};example.org")
    assert result.exit_code == 1
    f = only_finding(doc, "whitelist-invalid")
    assert (f["key"], f["severity"], f["line"]) == (entry, "error", 1)
    assert doc["domains"] == ["example.com", "example.org"]


def test_whitelist_duplicates_case_insensitive_with_lines(tmp_path: Path) -> None:
    path = save(
        tmp_path / "whitelist.txt", "example.com\npartner.example.org\nEXAMPLE.COM, example.org\n", "utf-16"
    )
    result, doc = presence_whitelist("--file", str(path))
    assert result.exit_code == 1
    f = only_finding(doc, "whitelist-duplicate")
    assert (f["key"], f["severity"], f["line"], f["file"]) == ("EXAMPLE.COM", "warning", 3, str(path))
    assert "line 1" in f["message"]
    assert doc["domains"] == ["example.com", "partner.example.org", "example.org"]


def test_whitelist_from_stdin_with_bom_and_crlf() -> None:
    data = codecs.BOM_UTF8 + b"example.com\r\n\r\nbad domain.com!\r\n"
    result, doc = presence_whitelist("-", input=data)
    assert result.exit_code == 1
    assert doc["domains"] == ["example.com"]
    bad = {(f["key"], f["line"]) for f in findings_of(doc, "whitelist-invalid")}
    assert bad == {("bad", 3), ("domain.com!", 3)}
    assert all(f["file"] == "<stdin>" for f in doc["findings"])


def test_whitelist_file_with_utf8_bom_and_stdin_utf16(tmp_path: Path) -> None:
    path = save(tmp_path / "whitelist.txt", "example.com;\nexample.org\n")  # utf-8-sig, CRLF
    result, doc = presence_whitelist("--file", str(path))
    assert result.exit_code == 0
    assert doc["domains"] == ["example.com", "example.org"]
    data = codecs.BOM_UTF16_LE + "example.com\r\nexample.com".encode("utf-16-le")
    result, doc = presence_whitelist("--file", "-", input=data)
    assert result.exit_code == 1
    f = only_finding(doc, "whitelist-duplicate")
    assert (f["line"], f["file"]) == (2, "<stdin>")


@pytest.mark.parametrize("text", ["", "  ,; \n", "*.example.com; user@example.com"])
def test_whitelist_enabled_but_empty_blocks_everything(text: str) -> None:
    result, doc = presence_whitelist(text)
    assert result.exit_code == 1
    f = only_finding(doc, "whitelist-empty")
    assert (f["key"], f["severity"], f["line"]) == ("whitelist", "warning", None)
    assert doc["domains"] == []


def test_whitelist_disabled_empty_is_fine() -> None:
    result, doc = presence_whitelist("", "--disabled")
    assert result.exit_code == 0
    assert doc == {"domains": [], "findings": []}


def test_whitelist_disabled_with_domains_is_info() -> None:
    result, doc = presence_whitelist("example.com example.org", "--disabled")
    assert result.exit_code == 0
    f = only_finding(doc, "whitelist-disabled")
    assert f["severity"] == "info"
    assert "2" in f["message"]
    assert doc["domains"] == ["example.com", "example.org"]


def test_whitelist_argument_and_file_conflict_exits_2(tmp_path: Path) -> None:
    path = save(tmp_path / "w.txt", "example.com")
    result = presence_cli("whitelist", "example.org", "--file", str(path), "--format", "json")
    assert result.exit_code == 2
    assert result.stdout == ""


def test_whitelist_missing_file_exits_2(tmp_path: Path) -> None:
    result = presence_cli("whitelist", "--file", str(tmp_path / "nope.txt"), "--format", "json")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "nope.txt" in result.stderr
