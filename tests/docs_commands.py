"""Reading the commands that Markdown pages show, and running them on Linux in a workspace: the
machinery of tests/test_docs_commands.py, whose tables say what each command must do.

A command is found in a fenced or indented code block (shell, console, PowerShell, cmd), inside a CI
definition (``run:`` and ``script:`` of GitHub Actions and GitLab CI YAML, a Jenkinsfile's ``sh``,
``bat`` and ``powershell`` steps), in a Task Scheduler XML's ``<Exec>``, or in inline code that starts
with a program's name.  Scripts are cut where their shell would run one command after another.
"""

from __future__ import annotations

import enum
import json
import re
import shlex
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from builders import ROOT
from markdown_it import MarkdownIt
from markdown_it.token import Token


class Shell(str, enum.Enum):
    """Which shell a page writes a command for (it decides quoting, comments and translation)."""

    posix = "posix"
    powershell = "powershell"
    cmd = "cmd"


@dataclass(frozen=True)
class Shown:
    """One command as a page shows it."""

    page: str
    line: int
    text: str
    """The command with continued lines joined and comments dropped, as the shell would run it."""
    shell: Shell
    output: tuple[str, ...] = ()
    """The lines a console block shows under the command: its output."""

    @property
    def key(self) -> str:
        """The command on one line, white space collapsed: what ``RUN`` and ``LISTED`` match."""
        return " ".join(self.text.split())

    @property
    def where(self) -> str:
        """``page:line``, as the test ids and messages name a command."""
        return f"{self.page}:{self.line}"


# ---------------------------------------------------------------------------------------------
# reading commands out of the pages
# ---------------------------------------------------------------------------------------------

SHELL_OF_LANGUAGE = {
    **dict.fromkeys(("sh", "bash", "shell", "console", "shell-session", "zsh"), Shell.posix),
    **dict.fromkeys(("powershell", "ps1", "pwsh", "ps1con"), Shell.powershell),
    **dict.fromkeys(("bat", "cmd", "batch", "doscon"), Shell.cmd),
}
CI_LANGUAGES = ("yaml", "yml")
JENKINS_LANGUAGES = ("groovy", "jenkinsfile")
TASK_LANGUAGES = ("xml",)
PLAIN_LANGUAGES = ("", "text")
"""Output, synopses and trees; a line in them that starts like a command (``$ ``, ``bes-logdiag ``)
is one."""
DATA_LANGUAGES = ("json", "toml", "csv")

PROMPT = re.compile(r"^(?:\$|PS[^>\n]*>|[A-Za-z]:\\[^>\n]*>) ")
PROGRAMS = (
    "bes-logdiag", "python", "python3", "py", "pip", "sqlite3", "lnav", "duckdb", "jq",
    "gzip", "zcat", "mkfifo", "schtasks", ".ci/run",
)  # fmt: skip
"""Inline code that starts with one of these names (and a space) is a command, unless it is only a
subcommand's name or a synopsis (`is_synopsis`)."""
ESCAPE = {Shell.posix: "\\", Shell.powershell: "`", Shell.cmd: "^"}


def split_script(script: str, shell: Shell) -> tuple[list[tuple[int, str]], bool]:
    """The commands of a script, each with the (0-based) line it starts on, cut where the shell runs
    one after another (a new line, ``;``, ``&&``) outside quotes and parentheses; comments dropped,
    continued lines joined.  The flag says whether the script ends inside a quote, parentheses or a
    continued line."""
    escape = ESCAPE[shell]
    commands: list[tuple[int, str]] = []
    buf: list[str] = []
    start = line = depth = 0
    quote = ""
    i, n = 0, len(script)

    def flush() -> None:
        text = "".join(buf).strip()
        if text:
            commands.append((start, text))
        buf.clear()

    while i < n:
        c, nxt = script[i], script[i + 1 : i + 2]
        if not c.isspace() and not any(not x.isspace() for x in buf):
            start = line  # the command's first character
        if quote:
            buf.append(c)
            line += c == "\n"
            if c == quote:
                quote = ""
            elif quote == '"' and c == escape and shell is not Shell.cmd and nxt:
                buf.append(nxt)
                line += nxt == "\n"
                i += 1
            i += 1
            continue
        if c == escape and nxt == "\n":  # a continued line
            buf.append(" ")
            line += 1
            i += 2
        elif c == escape and nxt:
            buf.append(c + nxt)
            i += 2
        elif shell is Shell.cmd and (i == 0 or script[i - 1] == "\n") and _cmd_comment(script, i):
            i = _line_end(script, i)
        elif c == "#" and shell is not Shell.cmd and (i == 0 or script[i - 1].isspace()):
            i = _line_end(script, i)
        elif c in "'\"" and (c == '"' or shell is not Shell.cmd):
            quote = c
            buf.append(c)
            i += 1
        elif c in "()":
            depth = max(0, depth + (1 if c == "(" else -1))
            buf.append(c)
            i += 1
        elif depth == 0 and (c == "\n" or (c == ";" and shell is not Shell.cmd) or script[i : i + 2] == "&&"):
            flush()
            line += c == "\n"
            i += 2 if c == "&" else 1
        else:
            buf.append(c)
            line += c == "\n"
            i += 1
    flush()
    ends_open = bool(quote) or depth > 0 or script.rstrip("\n").endswith(escape)
    return commands, ends_open


def _cmd_comment(script: str, i: int) -> bool:
    head = script[i : i + 5].lstrip(" \t").lower()
    return head.startswith(("rem ", "::"))


def _line_end(script: str, i: int) -> int:
    end = script.find("\n", i)
    return len(script) if end < 0 else end


def shell_block(body: str, shell: Shell, page: str, first: int) -> list[Shown]:
    """The commands of a shell, console, PowerShell or cmd block.  With prompts (``$ ``, ``PS> ``),
    only the prompted lines are commands and the lines under each are its output."""
    lines = body.splitlines()
    if not any(PROMPT.match(x) for x in lines):
        found, _ = split_script(body, shell)
        return [Shown(page, first + at, text, shell) for at, text in found]
    out: list[Shown] = []
    i = 0
    while i < len(lines):
        prompt = PROMPT.match(lines[i])
        if prompt is None:
            i += 1
            continue
        at, script = i, lines[i][prompt.end() :]
        while split_script(script, shell)[1] and i + 1 < len(lines):
            i += 1
            script += "\n" + lines[i]
        i += 1
        shown_out = []
        while i < len(lines) and not PROMPT.match(lines[i]):
            if lines[i].strip():
                shown_out.append(lines[i].strip())
            i += 1
        for offset, text in split_script(script, shell)[0]:
            out.append(Shown(page, first + at + offset, text, shell, tuple(shown_out)))
    return out


CI_KEY = re.compile(
    r"^(?P<indent>\s*(?:-\s+)?)(?P<key>run|script|before_script|after_script):\s*(?P<rest>.*)$"
)


def ci_scripts(yaml: str) -> Iterator[tuple[int, str]]:
    """The shell scripts of a CI definition, with their (0-based) first lines: GitHub Actions'
    ``run:`` and GitLab's ``script:``, ``before_script:`` and ``after_script:`` (a value, a ``|``
    block, or a list of either).  Enough YAML for the pages' jobs, not a YAML parser."""
    lines = yaml.splitlines()
    i = 0
    while i < len(lines):
        m = CI_KEY.match(lines[i])
        if m is None:
            i += 1
            continue
        at, column, rest = i, len(m["indent"]), m["rest"].strip()
        i += 1
        if rest:
            value, i = _yaml_value(rest, lines, i, column)
            yield at + (rest[0] in "|>"), value
            continue
        while i < len(lines):  # a list of scripts under the key
            if not lines[i].strip():
                i += 1
                continue
            if _indent(lines[i]) < column or not lines[i].strip().startswith("- "):
                break
            at, item = i, lines[i].strip()[2:].strip()
            value, i = _yaml_value(item, lines, i + 1, _indent(lines[i]))
            yield at + (item[:1] in "|>"), value


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _yaml_value(rest: str, lines: list[str], i: int, column: int) -> tuple[str, int]:
    """A scalar (plain, quoted) or a block scalar (``|``, ``>``) starting at ``rest``, and the line
    after it."""
    if rest[0] in "|>":
        block = []
        while i < len(lines) and (not lines[i].strip() or _indent(lines[i]) > column):
            block.append(lines[i])
            i += 1
        width = min((_indent(x) for x in block if x.strip()), default=0)
        text = [x[width:] for x in block]
        return ("\n" if rest[0] == "|" else " ").join(text).strip() + "\n", i
    if rest[0] == "'":
        return rest[1 : rest.rindex("'")].replace("''", "'"), i
    if rest[0] == '"':
        return str(json.loads(rest[: rest.rindex('"') + 1])), i
    return re.sub(r"\s+#.*$", "", rest), i


JENKINS_STEP = re.compile(
    r"""\b(?P<step>sh|bat|powershell)\s*(?:\((?P<args>[^)]*)\)|(?P<q>'''|'|")(?P<text>.*?)(?P=q))""", re.S
)
GROOVY_SCRIPT = re.compile(r"""\bscript:\s*(?P<q>'''|'|")(?P<text>.*?)(?P=q)""", re.S)
JENKINS_SHELL = {"sh": Shell.posix, "bat": Shell.cmd, "powershell": Shell.powershell}


def jenkins_scripts(groovy: str) -> Iterator[tuple[int, str, Shell]]:
    """The scripts of a Jenkinsfile's ``sh``, ``bat`` and ``powershell`` steps (``sh 'x'`` or
    ``sh(returnStatus: true, script: 'x')``), with their (0-based) lines and shells."""
    for m in JENKINS_STEP.finditer(groovy):
        text = m["text"]
        if m["args"] is not None:
            inner = GROOVY_SCRIPT.search(m["args"])
            if inner is None:
                continue
            text = inner["text"]
        # Groovy's single-quoted strings escape only the quote and the backslash.
        text = text.replace("\\'", "'").replace("\\\\", "\\")
        yield groovy.count("\n", 0, m.start()), text, JENKINS_SHELL[m["step"]]


def task_commands(xml: str) -> Iterator[tuple[int, str]]:
    """The command line of each ``<Exec>`` action of a Task Scheduler definition: the program (in
    quotes, as Windows needs it when it holds a space) and its arguments."""
    if "<Exec>" not in xml:
        return
    for action in ET.fromstring(xml).iterfind(".//{*}Exec"):
        program = (action.findtext("{*}Command") or "").strip()
        arguments = (action.findtext("{*}Arguments") or "").strip()
        quoted = f'"{program}"' if " " in program else program
        line = next((n for n, x in enumerate(xml.splitlines()) if program in x), 0)
        yield line, f"{quoted} {arguments}".strip()


def is_synopsis(span: str) -> bool:
    """Inline code that names a command or shows its form rather than a command line: a bare
    ``bes-logdiag SUBCOMMAND``, or one with placeholders (``PATH``, ``FILE.sqlite``, ``...``) or
    alternatives (``list|check``, ``[KBID]``)."""
    if re.fullmatch(r"bes-logdiag( [a-z][a-z-]*)*", span):
        return True
    return bool(re.search(r"\b[A-Z][A-Z_]{2,}\b|\.\.\.|…|\[|\S\|\S", span))


def inline_commands(children: list[Token], page: str, first: int) -> Iterator[Shown]:
    """The commands among a paragraph's code spans, on the lines they stand on."""
    line = first
    for child in children:
        if child.type in ("softbreak", "hardbreak"):
            line += 1
        elif child.type == "code_inline":
            span = child.content.strip()
            word = span.split(" ", 1)[0]
            if word in PROGRAMS and (" " in span or word.startswith(".")) and not is_synopsis(span):
                yield Shown(page, line, span, Shell.posix)


@dataclass(frozen=True)
class Page:
    """What a page shows: its commands in order, and the blocks in a language nothing here reads."""

    commands: tuple[Shown, ...]
    unread: tuple[str, ...]


def read_page(path: Path) -> Page:
    """The commands a Markdown page shows (CommonMark's code blocks and code spans)."""
    text = path.read_text(encoding="utf-8")
    page = path.relative_to(ROOT).as_posix()
    found: list[Shown] = []
    unread: list[str] = []
    for token in MarkdownIt("commonmark").parse(text):
        if token.map is None:
            continue
        if token.type == "inline":
            found += inline_commands(token.children or [], page, token.map[0] + 1)
            continue
        if token.type not in ("fence", "code_block"):
            continue
        lang = token.info.strip().split(" ", 1)[0].lower() if token.type == "fence" else ""
        first = token.map[0] + (2 if token.type == "fence" else 1)
        found += block_commands(token.content, lang, page, first, unread)
    return Page(tuple(found), tuple(unread))


def block_commands(body: str, lang: str, page: str, first: int, unread: list[str]) -> list[Shown]:
    """The commands of one code block, by its language; a language nothing here reads is added to
    ``unread``."""
    if lang in SHELL_OF_LANGUAGE:
        return shell_block(body, SHELL_OF_LANGUAGE[lang], page, first)
    if lang in CI_LANGUAGES:
        return [
            Shown(page, first + at + offset, command, Shell.posix)
            for at, script in ci_scripts(body)
            for offset, command in split_script(script, Shell.posix)[0]
        ]
    if lang in JENKINS_LANGUAGES:
        return [
            Shown(page, first + at + offset, command, shell)
            for at, script, shell in jenkins_scripts(body)
            for offset, command in split_script(script, shell)[0]
        ]
    if lang in TASK_LANGUAGES:
        return [Shown(page, first + at, command, Shell.cmd) for at, command in task_commands(body)]
    if lang in PLAIN_LANGUAGES:
        lines = body.splitlines()
        return [
            Shown(page, first + at, (PROMPT.sub("", x, count=1)).strip(), Shell.posix)
            for at, x in enumerate(lines)
            if (PROMPT.match(x) or x.startswith("bes-logdiag ")) and not is_synopsis(x.strip())
        ]
    if lang not in DATA_LANGUAGES:
        unread.append(f"{page}:{first - 1}: a ```{lang} block")
    return []


def shown_commands(pages: tuple[Path, ...]) -> list[Shown]:
    """Every command of the pages, in page order."""
    return [c for path in pages for c in read_page(path).commands]


# ---------------------------------------------------------------------------------------------
# from Windows (and a Mac, and an interactive viewer) to a bash command on Linux
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """One row of the translation table: what it replaces, in which shells' commands, and why."""

    name: str
    shells: frozenset[Shell]
    pattern: re.Pattern[str]
    replace: Callable[[re.Match[str], str], str]
    """The replacement, given the match and the workspace's root."""
    example: str
    becomes: str
    """``example`` after this rule alone, with the workspace at ``/w``."""
    why: str

    def apply(self, command: str, root: str) -> str:
        """``command`` with this rule's every match replaced, the workspace at ``root``."""
        return self.pattern.sub(lambda m: self.replace(m, root), command)


def translate(command: str, shell: Shell, root: str, rules: tuple[Rule, ...]) -> str:
    """``command`` as bash runs it on Linux, every rule for its shell applied in turn."""
    for rule in rules:
        if shell in rule.shells:
            command = rule.apply(command, root)
    return command


# ---------------------------------------------------------------------------------------------
# what each command must do, or why it is not run
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """A command that is run: the pages' word for its exit code, and what else it must show.
    ``shown`` is the command as a page shows it (on one line), where ``…`` stands for any text."""

    shown: str
    exit: int
    why: str
    stdout: tuple[str, ...] = ()
    stderr: tuple[str, ...] = ()
    files: tuple[tuple[str, str], ...] = ()
    """(a file in the workspace, a text it must hold) once the command has run."""
    before: str = ""
    """A bash command that prepares what the page assumes is there (run first, must succeed)."""


@dataclass(frozen=True)
class Listed:
    """A command that is not run here, and why."""

    shown: str
    why: str


def fits(pattern: str, key: str) -> bool:
    """Whether ``key`` is ``pattern``, where each ``…`` in the pattern stands for any text."""
    pieces = pattern.split("…")
    if len(pieces) == 1:
        return key == pattern
    if not (key.startswith(pieces[0]) and key.endswith(pieces[-1])):
        return False
    at = len(pieces[0])
    for piece in pieces[1:-1]:
        found = key.find(piece, at)
        if found < 0:
            return False
        at = found + len(piece)
    return at <= len(key) - len(pieces[-1])


@dataclass(frozen=True)
class Outcome:
    """What running a command gave, or why it was not run."""

    command: str
    exit: int = 0
    stdout: str = ""
    stderr: str = ""
    skipped: str = ""
    files: tuple[tuple[str, str | None], ...] = ()
    """The files the entry names, as the command left them (a later command may rewrite them)."""


def programs(command: str) -> list[str]:
    """The programs a bash command line runs: its first word and each one after ``|``, ``&&``,
    ``||`` and ``;``."""
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    words = list(lexer)
    out = []
    for i, word in enumerate(words):
        if i == 0 or words[i - 1] in ("|", "||", "&&", ";", "(", "<("):
            out.append(word)
    return [w for w in out if w not in ("(", "<(")]


def run_page(
    commands: list[Shown],
    entry_of: Callable[[Shown], Run | None],
    rules: tuple[Rule, ...],
    root: Path,
    env: dict[str, str],
) -> dict[str, Outcome]:
    """Run one page's commands in its own workspace, in page order, each distinct one once; keyed by
    `Shown.key`.  A command whose program is missing is an outcome that says so, not a run."""
    outcomes: dict[str, Outcome] = {}
    for shown in commands:
        entry = entry_of(shown)
        if entry is None or shown.key in outcomes:
            continue
        command = translate(shown.text, shown.shell, str(root), rules)
        missing = [p for p in programs(command) if shutil.which(p, path=env["PATH"]) is None]
        if missing:
            outcomes[shown.key] = Outcome(
                command, skipped=f"{', '.join(missing)} is not installed on this machine"
            )
        else:
            outcomes[shown.key] = run_one(command, entry, root, env)
    return outcomes


def run_one(command: str, entry: Run, root: Path, env: dict[str, str]) -> Outcome:
    """Prepare (``entry.before``), run, and keep the files the entry checks as the command left them."""
    if entry.before:
        prepared = bash(entry.before, root, env)
        if prepared.returncode != 0:
            return Outcome(entry.before, prepared.returncode, prepared.stdout, prepared.stderr)
    try:
        done = bash(command, root, env)
    except subprocess.TimeoutExpired as e:
        return Outcome(command, -1, stderr=f"still running after {e.timeout} s: stopped")
    files = tuple(
        (
            name,
            (root / name).read_bytes().decode("utf-8", errors="replace") if (root / name).is_file() else None,
        )
        for name, _ in entry.files
    )
    return Outcome(command, done.returncode, done.stdout, done.stderr, files=files)


def bash(command: str, root: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``bash -c command`` in the workspace, with nothing on its standard input."""
    return subprocess.run(
        ["bash", "-c", command],
        cwd=root,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=120,
        check=False,
    )
