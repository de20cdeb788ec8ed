"""Every command that README.md and docs/*.md show is run, on Linux, and does what the pages say.

`docs_commands` finds the commands: code blocks (shell, console, PowerShell, cmd), the command lines
inside CI definitions (GitHub Actions and GitLab CI YAML, a Jenkinsfile), a Task Scheduler XML's
``<Exec>``, and inline code that starts with a program's name.  Each one must either be in ``RUN``,
with the exit code (and a few key phrases) the pages give, or in ``LISTED`` with the reason it cannot
run here: a new command that is neither fails `test_every_shown_command_is_run_or_listed`.

Each page's commands run through bash, in page order, each distinct one once, in a workspace of the
page's own, laid out with the sample logs under every name the pages use (``sample_logs``,
``captured-logs``, ``Logs``, and the BES host's ``C:\\Program Files\\...\\Logs`` under ``win/``).
Windows paths and PowerShell-only syntax are swapped by ``RULES``, a small table whose every row is
tested on its own.  A command whose program is not on the machine (duckdb, lnav, sqlite3) is skipped,
naming it.  Outputs are matched loosely (key phrases, never a table's lines), since times and layouts
change under the pages.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from builders import ROOT, SAMPLE_LOGS, data_file, host_text, run_cli, save, swap
from docs_commands import (
    Listed,
    Outcome,
    Rule,
    Run,
    Shell,
    Shown,
    ci_scripts,
    fits,
    is_synopsis,
    jenkins_scripts,
    programs,
    read_page,
    run_page,
    shell_block,
    shown_commands,
    split_script,
    task_commands,
    translate,
)

PAGES = (ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")))
DOCS_DATA = ROOT / "tests/data/docs"
"""Files the pages' commands assume (a folder of your own patterns), copied into each workspace."""
BIN = Path(sys.executable).parent
"""The virtual environment under test: its ``bes-logdiag`` is the one the commands run."""


# ---------------------------------------------------------------------------------------------
# the translation table: from Windows (and a Mac, and an interactive viewer) to bash on Linux
# ---------------------------------------------------------------------------------------------

ALL = frozenset(Shell)
WINDOWS = frozenset({Shell.powershell, Shell.cmd})


def _windows_path(m: re.Match[str], root: str) -> str:
    quote = m["q"] or ""
    path = m["path"].replace("\\", "/")
    if path.startswith("//"):  # \\host\share\... (UNC)
        return f"{quote}{root}/win/unc/{path[2:]}{quote}"
    return f"{quote}{root}/win/{path[0].upper()}/{path[3:]}{quote}"


RULES = (
    Rule(
        "venv-program",
        ALL,
        re.compile(
            r"""(?:&\s*)?"[^"]*[\\/](?:Scripts|bin)[\\/]bes-logdiag(?:\.exe)?"|(?<![\w"])[^\s"'|;&]*[\\/](?:Scripts|bin)[\\/]bes-logdiag(?:\.exe)?(?![\w.])"""
        ),
        lambda m, root: "bes-logdiag",
        r'& "C:\Program Files\bes-logdiag\Scripts\bes-logdiag.exe" scan x; .bes/bin/bes-logdiag kb',
        "bes-logdiag scan x; bes-logdiag kb",
        "a virtual environment's bes-logdiag (by its path, quoted, after PowerShell's call operator) "
        "is the one under test, on the PATH",
    ),
    Rule(
        "windows-path",
        ALL,
        re.compile(r"""(?P<q>["'])(?P<path>(?:[A-Za-z]:|\\\\[\w.-]+)\\[^"']*)(?P=q)"""),
        _windows_path,
        r"""scan "C:\Program Files\X\Logs" -o '\\bes01\C$\Logs'""",
        """scan "/w/win/C/Program Files/X/Logs" -o '/w/win/unc/bes01/C$/Logs'""",
        "a quoted drive path (C:\\...) or share (\\\\host\\share\\...) is the same path under the "
        "workspace's win/ folder, where the pages' Windows folders are laid out",
    ),
    Rule(
        "windows-separator",
        WINDOWS,
        re.compile(r"\\"),
        lambda m, root: "/",
        r"-o reports\daily.md --year 2024",
        "-o reports/daily.md --year 2024",
        "PowerShell and cmd escape nothing with a backslash: it only separates folders",
    ),
    Rule(
        "powershell-environment",
        frozenset({Shell.powershell}),
        re.compile(r"\$env:(\w+)"),
        lambda m, root: "${" + m[1] + "}",
        r'-o "$env:TEMP/x.html"',
        '-o "${TEMP}/x.html"',
        "$env:NAME is an environment variable, ${NAME} in bash; the workspace sets the Windows ones",
    ),
    Rule(
        "invoke-item",
        frozenset({Shell.powershell}),
        re.compile(r"^Invoke-Item\s+(.+)$"),
        lambda m, root: f"test -s {m[1]}",
        'Invoke-Item "${TEMP}/x.html"',
        'test -s "${TEMP}/x.html"',
        "opening a file in its program (the browser) cannot be checked here; the file must exist and "
        "not be empty",
    ),
    Rule(
        "new-item-directory",
        frozenset({Shell.powershell}),
        re.compile(r"^New-Item\s+-ItemType\s+Directory\s+-Force\s+(.+)$"),
        lambda m, root: f"mkdir -p {m[1]}",
        'New-Item -ItemType Directory -Force "/w/x y"',
        'mkdir -p "/w/x y"',
        "PowerShell's way to make a folder and its parents, which may exist already",
    ),
    Rule(
        "pbpaste",
        frozenset({Shell.posix}),
        re.compile(r"(?<![\w-])pbpaste(?![\w-])"),
        lambda m, root: "cat clipboard.txt",
        "pbpaste | bes-logdiag presence whitelist -",
        "cat clipboard.txt | bes-logdiag presence whitelist -",
        "the macOS clipboard; the workspace's clipboard.txt holds what was copied",
    ),
    Rule(
        "lnav-viewer",
        frozenset({Shell.posix}),
        re.compile(r"^lnav\s+(?=[^-\s])(.*)$", re.S),
        lambda m, root: f"lnav -n -c ';SELECT count(*) AS lines FROM bes_log' {m[1]}",
        "lnav Logs/*.txt",
        "lnav -n -c ';SELECT count(*) AS lines FROM bes_log' Logs/*.txt",
        "lnav's interactive viewer, run headless: the files must load, as lines of the bes_log format",
    ),
)


# ---------------------------------------------------------------------------------------------
# what each command must do, or why it is not run
# ---------------------------------------------------------------------------------------------

SCAN_SAMPLE = "README (Set up): it exits with 1 because the sample holds stalled and failed activations"
PRESENCE_WARNINGS = "docs/presence.md (Exit codes): 1 when there is at least one error or warning"
OUTPUT_WRITTEN = "README (Many servers): merge and report exit 0 once the output is written"
ACCEPTED = "README (Baselines) and docs/ci.md: every problem is in the baseline, so none fails the run"

LISTED = (
    Listed(
        "python3 -m venv .venv", "makes a virtual environment for the install that follows, which is not run"
    ),
    Listed(
        "….venv/bin/pip install …",
        "installs from PyPI (the network); the tests run in an installed environment",
    ),
    Listed("….bes/bin/pip install ./bes-logdiag", "installs from PyPI (the network)"),
    Listed(
        "python3 -m venv .bes", "makes a virtual environment for the install that follows, which is not run"
    ),
    Listed("pip install ./bes-logdiag", "installs from PyPI (the network) in a CI job"),
    Listed(".venv/bin/python -m pytest", "runs this test suite, this test included"),
    Listed(".venv/bin/pre-commit install", "writes the checkout's git hooks"),
    Listed(".ci/run", "CI itself: reinstalls the environment and runs every test and check"),
    Listed(
        "bes-logdiag watch Logs/ --user ian.dundas@example.net --until-done --timeout 30m",
        "follows live logs for up to 30 minutes; tests/cli/test_watch_helpdesk.py runs it on logs it writes",
    ),
    Listed(
        "bes-logdiag scan logs | less",
        "less is an interactive pager (the sentence is about the table's width)",
    ),
    Listed(
        "bes-logdiag --install-completion", "writes to the shell's start-up files of whoever runs the tests"
    ),
    Listed("jq .", "the end of a pipeline (scan --format json | jq .) that the sentence names"),
    Listed(
        "bes-logdiag scan corpus --format json",
        "the 848 MB benchmark corpus (python benchmarks/make_corpus.py)",
    ),
    Listed(
        "python scripts/make_sample_logs.py",
        "rewrites sample_logs/; tests/test_sample_generator.py checks it",
    ),
    Listed("python benchmarks/…", "a benchmark: minutes of work, and timings are not tests"),
    Listed("py -m venv …", "Windows' py launcher, making the install's virtual environment"),
    Listed("py -m pip wheel …", "builds wheels from PyPI's packages (the network), on Windows"),
    Listed(r'& "C:\Program Files\bes-logdiag\Scripts\pip.exe" install …', "installs on Windows"),
    Listed("Register-ScheduledTask …", "registers a task with Windows' Task Scheduler"),
    Listed("schtasks /…", "Windows' Task Scheduler"),
)

RUN = (
    # README.md
    Run(
        ".venv/bin/bes-logdiag scan sample_logs",
        1,
        SCAN_SAMPLE,
        stdout=("tom.reed@example.com", "stalled", "KB13840", "19 activations"),
    ),
    Run(
        "bes-logdiag presence check configs/ --format junit -o presence.xml",
        1,
        PRESENCE_WARNINGS,
        files=(("presence.xml", "<testsuite"),),
    ),
    Run("bes-logdiag kb 13840", 0, "README (Commands): kb 13840 finds KB13840", stdout=("KB13840",)),
    Run(
        "bes-logdiag scan captured/ --format junit -o report.xml",
        1,
        "README (Exit codes): the job fails on exactly the stalled or failed activations",
        files=(("report.xml", "<failure"),),
    ),
    Run(
        "bes-logdiag patterns check --patterns that-folder",
        0,
        "README (Patterns): a folder with a valid variant passes the check",
        stdout=("all pass",),
    ),
    Run(
        "bes-logdiag scan <(zcat x.gz)",
        1,
        "README (Bad input): a named pipe is read as stdin is; the sample day holds a stall",
        stderr=("--year",),
        before="gzip -c sample_logs/BBPROD01/20240101/BBPROD01_MAGT_02_20240101_0001.txt > x.gz",
    ),
    Run(
        "bes-logdiag scan captured-logs/ --format junit -o report.xml",
        1,
        "README (In CI): the job fails when an activation is stalled or failed",
        files=(("report.xml", "<testsuite"),),
    ),
    Run(
        "bes-logdiag scan captured/ --write-baseline baseline.json",
        1,
        "README (Baselines): writes the stalled and failed activations; the scan still finds them",
        files=(("baseline.json", '"accepted"'),),
    ),
    Run(
        "bes-logdiag scan captured/ --baseline baseline.json --format junit -o report.xml",
        0,
        ACCEPTED,
        stderr=("accepted",),
        files=(("report.xml", "<testsuite"),),
    ),
    Run(
        r'bes-logdiag scan "C:\Program Files\Research In Motion\BlackBerry Enterprise Server\Logs" --format json -o bbprod01.json',
        1,
        "README (Many servers): one host's logs, which hold stalls",
        files=(("bbprod01.json", '"schema_version"'),),
    ),
    Run(
        "bes-logdiag merge bbprod01.json bes_east_02.json -o fleet.json",
        0,
        OUTPUT_WRITTEN,
        files=(("fleet.json", "BES_EAST_02"),),
    ),
    Run(
        "bes-logdiag report bbprod01.json bes_east_02.json -o fleet.html",
        0,
        OUTPUT_WRITTEN,
        files=(("fleet.html", "<html"),),
    ),
    Run(
        "bes-logdiag events Logs/ -o events-bbprod01-2024-03.ndjson",
        0,
        "README (Many servers): events writes every matched line",
        files=(("events-bbprod01-2024-03.ndjson", '"pattern"'),),
    ),
    Run('duckdb -c "…', 0, "README (Many servers): the error lines per server, month and KB", stdout=("KB",)),
    Run(
        "bes-logdiag redact Logs/ -o shared/ --key ~/bes.key --map-out ~/bes-map.json",
        0,
        "README (Sharing logs safely): only a file that cannot be read as a log makes the exit code 1",
        files=(("home/bes-map.json", "@"),),
    ),
    Run(
        "bes-logdiag scan Logs/ --redact --key ~/bes.key -f html -o report.html",
        1,
        "README (Sharing logs safely): the same verdicts under pseudonyms",
        files=(("report.html", "<html"),),
    ),
    Run(
        "bes-logdiag redact --reverse answer.json --map ~/bes-map.json",
        0,
        "README (Sharing logs safely): support's report with the real names",
        stdout=("tom.reed@example.com",),
        before="bes-logdiag scan shared/ --format json -o answer.json --quiet || test $? = 1",
    ),
    Run(
        "jq -c '.unattached[] as $g | $g.users[] | …' report.json",
        0,
        "README (JSON, from schema 2 to 3): one flat line per user, the first line's file:line read back",
        stdout=(
            '"email":"david.dietz@example.com","count":1,',
            'BBPROD01_MAGT_02_20231230_0001.txt:554"}',
        ),
        before="bes-logdiag scan sample_logs --format json -o report.json --quiet || test $? = 1",
    ),
    Run(
        "bes-logdiag scan sample_logs --history activations.sqlite -o report.json --format json",
        1,
        SCAN_SAMPLE,
        files=(("activations.sqlite", "SQLite format 3"),),
    ),
    Run(
        "bes-logdiag history activations.sqlite --since 30d --per week",
        0,
        "README (History): activations per week from the recorded scans",
        stdout=("KB13840",),
    ),
    Run(
        "sqlite3 activations.sqlite .schema",
        0,
        "README (History): the schema, with comments",
        stdout=("CREATE TABLE", "stage_durations", "changes"),
    ),
    Run(
        'sqlite3 -header -column activations.sqlite "SELECT a.server, …',
        0,
        "README (History): each completed activation and the status each scan found it at",
        stdout=("ian.dundas@example.com", "complete"),
    ),
    Run(
        "bes-logdiag lnav-format -o bes_log.json",
        0,
        "README (Reading BES logs in lnav)",
        files=(("bes_log.json", "bes_log"),),
    ),
    Run("lnav -i bes_log.json", 0, "README (Reading BES logs in lnav): lnav installs the format"),
    Run(
        "lnav Logs/20240101/*.txt",
        0,
        "README (Reading BES logs in lnav): lnav reads the day's logs",
        stdout=("lines",),
    ),
    Run(
        'lnav -n -c ";SELECT log_line, log_time, …',
        0,
        "README (Reading BES logs in lnav): one user's lines, the KEY_ACCEPT line included",
        stdout=("ian.dundas@example.com", "KEY_ACCEPT", "Dundas, Ian"),
    ),
    Run("bes-logdiag --show-completion", 0, "README (Shell completion)", stdout=("bes-logdiag",)),
    Run("bes-logdiag --version", 0, "README (Speed and memory)", stdout=("bes-logdiag",)),
    # docs/presence.md
    Run(
        'bes-logdiag presence whitelist "a.com; b.com"',
        0,
        "README (Commands): normalises a whitelist; both domains are valid",
        stdout=("a.com", "b.com"),
    ),
    Run(
        'bes-logdiag presence whitelist "a.com; b.com c.com"',
        0,
        "docs/presence.md (presence whitelist): three valid domains",
        stdout=("c.com",),
    ),
    Run(
        "bes-logdiag presence check hosts/ --known-key UCMA_APPLICATION_PORT,LOG_LEVEL",
        0,
        "docs/presence.md: keys accepted with --known-key are not warned about (the hosts' other "
        "settings are clean; an info finding leaves the exit code 0)",
    ),
    Run(
        r'bes-logdiag presence check "C:\Program Files\BlackBerry\BlackBerry Enterprise Mobility Server\Good Presence\LyncPresenceProviderService.exe.config"',
        0,
        "docs/presence.md (Exit codes): a clean file (info findings only) is 0",
        stdout=("Capacity",),
    ),
    Run(
        "bes-logdiag presence check bems1.config bems2.config bems3.config --format json > presence.json",
        1,
        PRESENCE_WARNINGS + " (the hosts carry a key the service does not know)",
        files=(("presence.json", '"capacity"'),),
    ),
    Run(
        "bes-logdiag presence check collected-configs/ --format junit -o presence-junit.xml",
        1,
        PRESENCE_WARNINGS,
        files=(("presence-junit.xml", "<failure"),),
    ),
    Run(
        'bes-logdiag presence check "hosts/*" --checklist --format markdown > ticket.md',
        1,
        PRESENCE_WARNINGS + " (without --known-key, the hosts' extra keys are warned about)",
        files=(("ticket.md", "setting-unknown"), ("ticket.md", "LOG_LEVEL")),
    ),
    Run(
        'bes-logdiag presence whitelist "example.com, example1.com;partner.example.org"',
        0,
        "docs/presence.md (Examples): the cleaned list, one domain a line",
    ),
    Run(
        "pbpaste | bes-logdiag presence whitelist - --format json",
        1,
        PRESENCE_WARNINGS + " (the clipboard repeats a domain)",
        stdout=('"domains"', "whitelist-duplicate"),
    ),
    # docs/ci.md
    Run(
        "…bes-logdiag scan captured-logs/ --baseline bes-baseline.json --fail-on never --format html -o bes-report.html",
        0,
        "docs/ci.md: --fail-on never exits 0 whatever it finds",
        files=(("bes-report.html", "<html"),),
    ),
    Run(
        "…bes-logdiag scan captured-logs/ --baseline bes-baseline.json --format junit -o bes-junit.xml",
        0,
        ACCEPTED,
        stderr=("accepted",),
        files=(("bes-junit.xml", "accepted"),),
    ),
    Run(
        "bes-logdiag scan captured-logs/ --write-baseline bes-baseline.json",
        1,
        "docs/ci.md (The baseline): the scan still exits 1 when it finds stalled or failed activations",
        files=(("bes-baseline.json", '"accepted"'),),
    ),
    Run(
        "bes-logdiag scan captured-logs/ --baseline bes-baseline.json --write-baseline bes-baseline.json",
        0,
        ACCEPTED,
        files=(("bes-baseline.json", '"accepted"'),),
    ),
    Run(
        'bes-logdiag scan captured-logs/ --baseline bes-baseline.json --fail-on never --format markdown >> "$GITHUB_STEP_SUMMARY"',
        0,
        "docs/ci.md (GitHub Actions): --fail-on never exits 0",
        files=(("step-summary.md", "tom.reed@example.com"),),
    ),
    # docs/windows.md
    Run(
        r'bes-logdiag scan "C:\Program Files\Research In Motion\BlackBerry Enterprise Server\Logs" --since 1d',
        1,
        "docs/windows.md: 1 when something is stalled or failed (the sample's last day holds a stall)",
        stdout=("tom.reed@example.com",),
        stderr=("--since 1d",),
    ),
    Run(
        r'bes-logdiag scan "C:\Program Files\Research In Motion\BlackBerry Enterprise Server\Logs" --since 1d --format html -o "$env:TEMP\bes-last-day.html"',
        1,
        "docs/windows.md: the scan exits 1 whenever it finds a stalled or failed activation",
        files=(("win/C/Temp/bes-last-day.html", "<html"),),
    ),
    Run(
        r'Invoke-Item "$env:TEMP\bes-last-day.html"',
        0,
        "docs/windows.md: the page opens whatever the scan found",
    ),
    Run(r'New-Item -ItemType Directory -Force "C:\ProgramData\bes-logdiag\reports"', 0, "docs/windows.md"),
    Run(
        r'"C:\Program Files\bes-logdiag\Scripts\bes-logdiag.exe" scan "C:\Program Files\Research In Motion\BlackBerry Enterprise Server\Logs" --since 1d --history …',
        1,
        "docs/windows.md: Last Run Result 0x1, stalled or failed activations, the report written",
        files=(
            ("win/C/ProgramData/bes-logdiag/reports/daily.html", "<html"),
            ("win/C/ProgramData/bes-logdiag/history.sqlite", "SQLite format 3"),
        ),
    ),
    Run(
        r'bes-logdiag history "C:\ProgramData\bes-logdiag\history.sqlite" --per week --since 12w',
        0,
        "docs/windows.md: what the history says, per week",
        stdout=("KB13840",),
    ),
    Run(
        r'bes-logdiag scan "C:\Program Files\Research In Motion\BlackBerry Enterprise Server\Logs\2024*\*_MAGT_*" --format markdown -o magt-2024.md',
        1,
        "docs/windows.md: the tool expands the pattern itself; the day holds a stall",
        files=(("magt-2024.md", "MAGT"),),
    ),
    Run(
        r'bes-logdiag scan "C:\Program Files\Research In Motion\BlackBerry Enterprise Server\Logs" --users "C:\ProgramData\bes-logdiag\users.csv" --since 1d',
        1,
        "docs/windows.md: a UTF-16 user map is read as it is",
        stdout=("Reed, Tom",),
    ),
    Run(
        r"bes-logdiag scan '\\bes01\C$\Program Files\Research In Motion\BlackBerry Enterprise Server\Logs' --since 1d --format markdown -o …",
        1,
        "docs/windows.md: the share holds the same logs as the host",
        files=(("win/C/Users/admin/bes01-last-day.md", "tom.reed@example.com"),),
    ),
)


def entries_for(shown: Shown) -> list[Run | Listed]:
    """The entries a command fits: exactly one, or `test_every_shown_command_is_run_or_listed` fails."""
    return [e for e in (*RUN, *LISTED) if fits(e.shown, shown.key)]


def run_entry(shown: Shown) -> Run | None:
    """The command's ``RUN`` entry, when it is run."""
    entries = entries_for(shown)
    return entries[0] if len(entries) == 1 and isinstance(entries[0], Run) else None


# ---------------------------------------------------------------------------------------------
# the workspace: sample logs under every name the pages use, and a Windows tree
# ---------------------------------------------------------------------------------------------

BES_LOGS = "win/C/Program Files/Research In Motion/BlackBerry Enterprise Server/Logs"
SHARE_LOGS = "win/unc/bes01/C$/Program Files/Research In Motion/BlackBerry Enterprise Server/Logs"
GOOD_PRESENCE = "win/C/Program Files/BlackBerry/BlackBerry Enterprise Mobility Server/Good Presence"


def lay_out(root: Path) -> None:
    """Fill ``root`` with what the pages' commands read."""
    for name in ("sample_logs", "captured", "captured-logs"):
        shutil.copytree(SAMPLE_LOGS, root / name)
    # One BES host's Logs folder: its own server's day folders (BES-LOGS.md section 1).
    for name in ("Logs", BES_LOGS, SHARE_LOGS):
        shutil.copytree(SAMPLE_LOGS / "BBPROD01", root / name)
    data = root / "win/C/ProgramData/bes-logdiag"
    data.mkdir(parents=True)
    # A user map as Windows PowerShell's Export-Csv -Encoding Unicode writes it: UTF-16 LE, a BOM.
    text = data_file("sample_users.csv").read_text(encoding="utf-8")
    (data / "users.csv").write_bytes(text.replace("\n", "\r\n").encode("utf-16"))
    for folder in ("win/C/Temp", "win/C/Users/admin", "home"):
        (root / folder).mkdir(parents=True)
    lay_out_presence(root)
    shutil.copytree(DOCS_DATA, root, dirs_exist_ok=True)
    (root / "clipboard.txt").write_text("example.com; Example.com\npartner.example.org\n", encoding="utf-8")
    # The README merges this host's report with another's: that one comes from elsewhere.
    east = run_cli(
        "scan", root / "sample_logs/BES_EAST_02", "--format", "json", "-o", root / "bes_east_02.json"
    )
    assert east.exit_code == 1, east.stderr


def environment(root: Path) -> dict[str, str]:
    """The commands' environment: the tool under test first on the PATH, a home of their own (for
    ``~/bes.key`` and lnav's formats), no colour, and the variables the pages name (Windows' and
    GitHub Actions'), pointing into the workspace."""
    home = root / "home"
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "COLUMNS", "CLICOLOR_FORCE")}
    return {
        **env,
        "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "NO_COLOR": "1",
        "TEMP": str(root / "win/C/Temp"),
        "USERPROFILE": str(root / "win/C/Users/admin"),
        "GITHUB_STEP_SUMMARY": str(root / "step-summary.md"),
    }


def lay_out_presence(root: Path) -> None:
    """Presence configurations: two hosts whose only unknown keys are the two docs/presence.md
    accepts with --known-key, three loose files, a folder of renamed copies, and a BEMS host's."""
    for n in (1, 2):
        text = swap(
            host_text(n),
            '<add key="SUBSCRIPTION_EXPIRATION_SECONDS" value="180" />',
            '<add key="LOG_LEVEL" value="INFO" />',
        )
        save(root / f"hosts/bems{n}/LyncPresenceProviderService.exe.config", text)
        save(root / f"configs/bems{n}/LyncPresenceProviderService.exe.config", host_text(n))
        save(root / f"collected-configs/bems{n}.config", host_text(n))
    for n in (1, 2, 3):
        save(root / f"bems{n}.config", host_text(n))
    clean = swap(host_text(1), "    <add key='UCMA_APPLICATION_PORT' value='6001' />\n", "")
    clean = swap(clean, '    <add key="SUBSCRIPTION_EXPIRATION_SECONDS" value="180" />\n', "")
    save(root / GOOD_PRESENCE / "LyncPresenceProviderService.exe.config", clean)


SHOWN = shown_commands(PAGES)
RUNNABLE = [s for s in SHOWN if run_entry(s) is not None]


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Outcome]:
    """Every page's commands run in a copy of one laid-out workspace; two pages at a time, since
    most of a command's time is the interpreter starting.  Keyed by page and `Shown.key`."""
    base = tmp_path_factory.mktemp("docs")
    lay_out(template := base / "template")
    pages = list(dict.fromkeys(s.page for s in SHOWN))

    def run(page: str) -> dict[str, Outcome]:
        root = base / re.sub(r"\W", "_", page)
        shutil.copytree(template, root, symlinks=True)
        commands = [s for s in SHOWN if s.page == page]
        return run_page(commands, run_entry, RULES, root, environment(root))

    with ThreadPoolExecutor(max_workers=2) as pool:
        done = dict(zip(pages, pool.map(run, pages)))
    return {(page, key): outcome for page, found in done.items() for key, outcome in found.items()}


# ---------------------------------------------------------------------------------------------
# the tests
# ---------------------------------------------------------------------------------------------


def test_every_shown_command_is_run_or_listed() -> None:
    problems = []
    for shown in SHOWN:
        entries = entries_for(shown)
        if not entries:
            problems.append(f"{shown.where}: neither run nor listed: {shown.key}")
        elif len(entries) > 1:
            problems.append(f"{shown.where}: fits {len(entries)} entries: {shown.key}")
    assert not problems, "add each command to RUN (with its exit code) or LISTED (with why):\n" + "\n".join(
        problems
    )


def test_a_command_no_entry_names_is_caught() -> None:
    assert entries_for(Shown("docs/new.md", 1, "bes-logdiag scan somewhere-new/", Shell.posix)) == []


def test_every_entry_still_names_a_shown_command() -> None:
    stale = [e.shown for e in (*RUN, *LISTED) if not any(fits(e.shown, s.key) for s in SHOWN)]
    assert not stale, f"no page shows these any more: {stale}"


def test_every_code_block_is_read() -> None:
    unread = [u for path in PAGES for u in read_page(path).unread]
    assert not unread, f"blocks in a language whose commands nothing here reads: {unread}"


@pytest.mark.skipif(
    sys.platform == "win32" or shutil.which("bash") is None,
    reason="the pages' commands run through bash (Windows ones translated by RULES)",
)
@pytest.mark.parametrize("shown", RUNNABLE, ids=[s.where for s in RUNNABLE])
def test_shown_command_does_what_the_page_says(
    shown: Shown, outcomes: dict[tuple[str, str], Outcome]
) -> None:
    entry = run_entry(shown)
    assert entry is not None
    outcome = outcomes[shown.page, shown.key]
    if outcome.skipped:
        pytest.skip(f"{outcome.skipped}: {shown.key[:80]}")
    said = f"{shown.where}: {outcome.command}\nstdout: {outcome.stdout[-2000:]}\nstderr: {outcome.stderr[-2000:]}"
    assert outcome.exit == entry.exit, (
        f"exit code {outcome.exit}, the page says {entry.exit} ({entry.why})\n{said}"
    )
    assert "Traceback" not in outcome.stderr, said
    for phrase in entry.stdout + shown.output:
        assert phrase in outcome.stdout, f"{phrase!r} not on stdout\n{said}"
    for phrase in entry.stderr:
        assert phrase in outcome.stderr, f"{phrase!r} not on stderr\n{said}"
    for (name, phrase), (_, text) in zip(entry.files, outcome.files):
        assert text is not None, f"{name} was not written\n{said}"
        assert phrase in text, f"{phrase!r} not in {name}\n{said}"


@pytest.mark.parametrize("rule", RULES, ids=[r.name for r in RULES])
def test_translation_rule(rule: Rule) -> None:
    assert rule.apply(rule.example, "/w") == rule.becomes


@pytest.mark.parametrize("rule", RULES, ids=[r.name for r in RULES])
def test_translation_rule_is_used_by_a_page(rule: Rule) -> None:
    used = [s.where for s in SHOWN if s.shell in rule.shells and rule.apply(s.text, "/w") != s.text]
    assert used, f"no command on the pages needs rule {rule.name}: drop it"


def test_a_windows_command_becomes_a_bash_command() -> None:
    command = (
        r'& "C:\Program Files\bes-logdiag\Scripts\bes-logdiag.exe" scan "C:\Program Files\Research In Motion'
        r'\BlackBerry Enterprise Server\Logs" --since 1d -o "$env:TEMP\bes.html"'
    )
    assert translate(command, Shell.powershell, "/w", RULES) == (
        'bes-logdiag scan "/w/win/C/Program Files/Research In Motion/BlackBerry Enterprise Server/Logs"'
        ' --since 1d -o "${TEMP}/bes.html"'
    )


def test_a_posix_command_keeps_its_backslashes() -> None:
    command = 'lnav -n -c ";SELECT 1" a\\ b.txt'
    assert translate(command, Shell.posix, "/w", RULES) == command


@pytest.mark.parametrize(
    ("script", "shell", "commands"),
    [
        ("a x # note's\n\n# comment\nb 'y;z' && c\n", Shell.posix, [(0, "a x"), (3, "b 'y;z'"), (3, "c")]),
        (
            'sqlite3 f "SELECT a\n  FROM t"\nnext',
            Shell.posix,
            [(0, 'sqlite3 f "SELECT a\n  FROM t"'), (2, "next")],
        ),
        ("a \\\n  --b\nc $(d; e)", Shell.posix, [(0, "a    --b"), (2, "c $(d; e)")]),
        (
            'a "$env:TEMP\\x"; Invoke-Item `\n  y',
            Shell.powershell,
            [(0, 'a "$env:TEMP\\x"'), (0, "Invoke-Item    y")],
        ),
        ('rem note\nschtasks /TN "a b" ^\n  /XML x', Shell.cmd, [(1, 'schtasks /TN "a b"    /XML x')]),
    ],
)
def test_scripts_are_cut_into_commands(script: str, shell: Shell, commands: list[tuple[int, str]]) -> None:
    assert split_script(script, shell) == (commands, False)


def test_a_script_that_ends_inside_a_quote_is_open() -> None:
    assert split_script('lnav -c "SELECT\n  a', Shell.posix)[1]


def test_console_blocks_have_prompts_and_output() -> None:
    body = '$ bes-logdiag presence whitelist "a.com b.com"\na.com\nb.com\n\n$ cat x |\n'
    shown = shell_block(body, Shell.posix, "p.md", 10)
    assert [(s.line, s.text, s.output) for s in shown] == [
        (10, 'bes-logdiag presence whitelist "a.com b.com"', ("a.com", "b.com")),
        (14, "cat x |", ()),
    ]


def test_ci_yaml_gives_its_scripts() -> None:
    yaml = """job:
  script:
    - pip install ./x        # a comment
    - 'echo ''quoted'''
    - |
      one
      two
  steps:
      - run: single
      - name: block
        run: |
          first
          second
  artifacts:
    paths:
      - not-a-command
"""
    assert list(ci_scripts(yaml)) == [
        (2, "pip install ./x"),
        (3, "echo 'quoted'"),
        (5, "one\ntwo\n"),
        (8, "single"),
        (11, "first\nsecond\n"),
    ]


def test_a_jenkinsfile_gives_its_steps() -> None:
    groovy = """steps {
    sh 'a && b'
    def code = sh(returnStatus: true, script: 'c --x')
    bat "d e"
    junit testResults: 'r.xml'
}"""
    assert list(jenkins_scripts(groovy)) == [
        (1, "a && b", Shell.posix),
        (2, "c --x", Shell.posix),
        (3, "d e", Shell.cmd),
    ]


def test_a_scheduled_task_gives_its_command_line() -> None:
    xml = """<?xml version="1.0" encoding="UTF-16"?>
<Task xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task"><Actions><Exec>
<Command>C:\\Program Files\\x\\x.exe</Command>
<Arguments>scan "C:\\a b" -o &quot;c&quot;</Arguments></Exec></Actions></Task>"""
    assert list(task_commands(xml)) == [(2, '"C:\\Program Files\\x\\x.exe" scan "C:\\a b" -o "c"')]


@pytest.mark.parametrize(
    ("span", "synopsis"),
    [
        ("bes-logdiag scan PATH...", True),
        ("bes-logdiag history FILE.sqlite", True),
        ("bes-logdiag patterns list\\|check", True),
        ("bes-logdiag kb [KBID]", True),
        ("bes-logdiag redact", True),
        ("bes-logdiag kb 13840", False),
        ("bes-logdiag scan captured/ --format junit -o report.xml", False),
    ],
)
def test_synopses_are_told_from_commands(span: str, synopsis: bool) -> None:
    assert is_synopsis(span) is synopsis


@pytest.mark.parametrize(
    ("pattern", "key", "fit"),
    [
        ("a b", "a b", True),
        ("a b", "a b c", False),
        ("…bes-logdiag scan x", ".bes/bin/bes-logdiag scan x", True),
        ('duckdb -c "…', 'duckdb -c "SELECT 1"', True),
        ("a …c… e", "a b c d e", True),
        ("a …c… e", "a b d e", False),
    ],
)
def test_entries_fit_commands(pattern: str, key: str, fit: bool) -> None:
    assert fits(pattern, key) is fit


def test_programs_of_a_command_line() -> None:
    assert programs("cat x | bes-logdiag scan - && sqlite3 f 'a|b'; test -s y") == [
        "cat",
        "bes-logdiag",
        "sqlite3",
        "test",
    ]
