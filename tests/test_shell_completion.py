"""Shell completion, as typer provides it: ``--show-completion`` writes a script for bash, zsh and
PowerShell that names the program, and the program answers each shell's completion request
with its commands and choices.  Run through the installed ``bes-logdiag`` script, as a shell
runs it: the script's name is the program's name in the completion."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PROGRAM = shutil.which("bes-logdiag", path=str(Path(sys.executable).parent))
# typer picks the shell from the parent process; this variable lets a test name the shell instead.
CHOOSE_SHELL = {"_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    assert PROGRAM is not None, f"bes-logdiag is not installed beside {sys.executable} (pip install -e .)"
    done = subprocess.run(
        [PROGRAM, *args],
        env={**os.environ, "NO_COLOR": "1", **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done


@pytest.mark.parametrize(
    ("shell", "registers"),
    [
        ("bash", "complete -o default -F _bes_logdiag_completion bes-logdiag"),
        ("zsh", "#compdef bes-logdiag"),
        ("powershell", "Register-ArgumentCompleter -Native -CommandName bes-logdiag"),
        ("pwsh", "Register-ArgumentCompleter -Native -CommandName bes-logdiag"),
    ],
)
def test_show_completion_names_the_program(shell: str, registers: str) -> None:
    script = run("--show-completion", shell, env=CHOOSE_SHELL).stdout
    assert registers in script
    assert "_BES_LOGDIAG_COMPLETE" in script


def test_bash_completes_a_command() -> None:
    got = run(
        env={"_BES_LOGDIAG_COMPLETE": "complete_bash", "COMP_WORDS": "bes-logdiag hi", "COMP_CWORD": "1"}
    )
    assert got.stdout.split() == ["history"]


def test_zsh_completes_a_command() -> None:
    got = run(env={"_BES_LOGDIAG_COMPLETE": "complete_zsh", "_TYPER_COMPLETE_ARGS": "bes-logdiag lnav"})
    assert '"lnav-format":' in got.stdout


def test_powershell_completes_an_options_choices() -> None:
    got = run(
        env={
            "_BES_LOGDIAG_COMPLETE": "complete_powershell",
            "_TYPER_COMPLETE_ARGS": "bes-logdiag history h.sqlite --per ",
            "_TYPER_COMPLETE_WORD_TO_COMPLETE": "",
        }
    )
    assert [line.split(":::")[0] for line in got.stdout.splitlines()] == ["day", "week"]


def test_the_help_offers_completion() -> None:
    out = run("--help").stdout
    assert "--install-completion" in out and "--show-completion" in out
