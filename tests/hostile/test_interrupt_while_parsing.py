"""Ctrl-C while typer parses the command line (issue 15): after the CLI is imported and before a
command's error handler runs, typer would end the run with exit code 130 and not a word.  It says
``bes-logdiag: interrupted`` on one line, as Ctrl-C does at any other moment.  The interrupt is
raised at a chosen point of the parsing (a patched parser method), not raced against a timer."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import typer.core
import typer.main
from builders import ctrl_c_as_in_a_terminal, run_cli

from bes_logdiag import cli

INTERRUPTED = "bes-logdiag: interrupted\n"


def interrupt(*args: object, **kwargs: object) -> None:
    raise KeyboardInterrupt


@pytest.mark.parametrize(
    ("where", "args"),
    [
        ("TyperGroup", ["scan", "."]),  # the root's own options
        ("TyperCommand", ["scan", "."]),  # the command's arguments
        ("TyperCommand", ["presence", "check", "x.config"]),  # a command of a nested group
    ],
)
def test_ctrl_c_while_the_arguments_are_parsed_says_interrupted(
    monkeypatch: pytest.MonkeyPatch, where: str, args: list[str]
) -> None:
    monkeypatch.setattr(getattr(typer.core, where), "parse_args", interrupt)
    result = run_cli(*args)
    assert result.exit_code == 130
    assert result.stderr == INTERRUPTED
    assert result.stdout == ""


def test_ctrl_c_while_a_value_is_converted_says_interrupted(monkeypatch: pytest.MonkeyPatch) -> None:
    """Typer converts each option's value (``--format json`` to its choice) while it parses."""
    monkeypatch.setattr(typer.core.TyperOption, "process_value", interrupt)
    result = run_cli("scan", ".", "--format", "json")
    assert (result.exit_code, result.stderr, result.stdout) == (130, INTERRUPTED, "")


def test_ctrl_c_before_typer_parses_says_interrupted(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Typer builds its click commands before it parses: the entry point says it there too."""
    monkeypatch.setattr(typer.main, "get_command", interrupt)
    monkeypatch.setattr(sys, "argv", ["bes-logdiag", "scan", "."])
    with pytest.raises(SystemExit) as e:
        cli.main()
    assert e.value.code == 130
    assert capsys.readouterr() == ("", INTERRUPTED)


def test_a_closed_stderr_still_exits_130(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(typer.core.TyperCommand, "parse_args", interrupt)
    monkeypatch.setattr(sys, "stderr", None)
    monkeypatch.setattr(sys, "argv", ["bes-logdiag", "scan", "."])
    with pytest.raises(SystemExit) as e:
        cli.main()
    assert e.value.code == 130


def _python(*args: str, path: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``python ARGS`` as a terminal runs it (Ctrl-C handled); ``path``: where modules are found first."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    if path is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(path), *sys.path])
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        preexec_fn=ctrl_c_as_in_a_terminal,
    )


PROGRAM = textwrap.dedent(
    """
    import os, signal, sys
    import typer.core
    import bes_logdiag.__main__

    parse = typer.core.TyperCommand.parse_args

    def parse_and_get_ctrl_c(self, ctx, args):
        os.kill(os.getpid(), signal.SIGINT)  # delivered to this very process, then raised here
        return parse(self, ctx, args)

    typer.core.TyperCommand.parse_args = parse_and_get_ctrl_c
    sys.argv = ["bes-logdiag", *sys.argv[1:]]
    bes_logdiag.__main__.main()
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT sent by os.kill")
def test_a_real_sigint_while_parsing_says_interrupted(tmp_path: Path) -> None:
    """The program as run: ``python -m bes_logdiag``'s entry point, a real SIGINT."""
    report = tmp_path / "report.json"
    proc = _python("-c", PROGRAM, "scan", str(tmp_path), "-f", "json", "-o", str(report))
    assert proc.returncode == 128 + signal.SIGINT
    assert proc.stderr == INTERRUPTED
    assert proc.stdout == ""
    assert list(tmp_path.iterdir()) == []


IN_A_DESTRUCTOR = textwrap.dedent(
    """
    import os, signal, sys
    import bes_logdiag.parallel
    import bes_logdiag.__main__

    class Freed:
        def __del__(self):
            os.kill(os.getpid(), signal.SIGINT)  # raised in here: Python only prints it
            sum(range(1000))

    read = bes_logdiag.parallel.read_sources

    def read_while_something_is_freed(*args, **kwargs):
        Freed()
        return read(*args, **kwargs)

    bes_logdiag.parallel.read_sources = read_while_something_is_freed
    sys.argv = ["bes-logdiag", *sys.argv[1:]]
    bes_logdiag.__main__.main()
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT sent by os.kill")
def test_ctrl_c_while_a_destructor_runs_still_ends_the_run(tmp_path: Path) -> None:
    """Ctrl-C that comes while an object is freed (a compiled pattern, as a module is imported)
    is raised inside its destructor, where Python only prints it and goes on: the run went on to
    the end and printed a traceback.  It is raised again where it stops the run."""
    logs = tmp_path / "logs"
    logs.mkdir()
    report = tmp_path / "report.json"
    proc = _python("-c", IN_A_DESTRUCTOR, "scan", str(logs), "-f", "json", "-o", str(report))
    assert (proc.returncode, proc.stderr, proc.stdout) == (128 + signal.SIGINT, INTERRUPTED, "")
    assert not report.exists()


THROUGH_GENERATED_CODE = textwrap.dedent(
    """
    import sys
    import typer.core
    import bes_logdiag.__main__

    def parse_from_generated_code(self, ctx, args):
        exec("raise KeyboardInterrupt")  # as a dataclass or named tuple made at import time runs

    typer.core.TyperCommand.parse_args = parse_from_generated_code
    sys.argv = ["bes-logdiag", *sys.argv[1:]]
    bes_logdiag.__main__.main()
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="exit by a signal")
def test_ctrl_c_through_generated_code_still_exits_130(tmp_path: Path) -> None:
    """CPython notes a Ctrl-C that left code run from a string and, though the run handled it,
    killed a ``python -m`` process with SIGINT at exit: Python's subprocess saw -2, not 130."""
    (tmp_path / "run_bes_logdiag.py").write_text(THROUGH_GENERATED_CODE, encoding="utf-8")
    logs = tmp_path / "logs"
    logs.mkdir()
    proc = _python("-m", "run_bes_logdiag", "scan", str(logs), path=tmp_path)
    assert (proc.returncode, proc.stderr, proc.stdout) == (128 + signal.SIGINT, INTERRUPTED, "")
