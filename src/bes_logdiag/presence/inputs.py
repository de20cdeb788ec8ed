"""The paths `presence check` is given (files, folders, globs, archives, -) as configuration files, read."""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePath

from bes_logdiag.errors import ConfigError
from bes_logdiag.presence.config import PresenceConfig, decode_text, parse_config
from bes_logdiag.read import GLOB_CHARS, READ_ERRORS, Source, discover, open_source

CONFIG_NAME = "LyncPresenceProviderService.exe.config"
CONFIG_SUFFIX = ".config"
MAX_CONFIG_BYTES = 16 * 1024 * 1024
"""A Presence configuration file is a few kilobytes: anything past this is some other file (a
log, a database) given by mistake, refused before it is read into memory whole."""


def find_configs(paths: Sequence[str]) -> tuple[list[Source], list[ConfigError]]:
    """The configuration files `paths` name, in order, each once, and one error per path that
    names none.

    A file named on the command line, or matched by a glob, is read whatever its name. What a
    folder holds (searched recursively) or an archive holds is narrowed to the files named
    LyncPresenceProviderService.exe.config, or when there is none, to every ``*.config`` file:
    so a BEMS install folder, or a folder of configs collected from the hosts, can be given as is.
    Folders and archives are expanded by `read.discover`, as `scan` expands them.
    """
    sources: list[Source] = []
    errors: list[ConfigError] = []
    seen: set[tuple[str, str | None]] = set()
    for raw in paths:
        if raw == "-":
            found = [Source(name="<stdin>", path="-", stdin=True)]
        elif GLOB_CHARS & set(raw) and not Path(raw).exists():
            # Expanded here rather than by discover(), which drops the folders a glob matches:
            # `hosts/*` should find hosts/bems1/LyncPresenceProviderService.exe.config.
            matches = sorted(glob.glob(raw, recursive=True))
            if not matches:
                errors.append(ConfigError(f"{raw}: no file matches this pattern"))
            found = [src for match in matches for src in _sources_of(match, errors)]
        else:
            found = _sources_of(raw, errors)
        for src in found:
            key = ("-", None) if src.path == "-" else (_same_file(src.path), src.member)
            if key not in seen:
                seen.add(key)
                sources.append(src)
    return sources, errors


def _sources_of(raw: str, errors: list[ConfigError]) -> list[Source]:
    """One path as sources: a file as itself (an archive, told by name or content as `scan`
    tells it, as its configuration files), a folder as the configuration files below it."""
    path = Path(raw)
    if not (path.is_dir() or path.is_file()):
        # Read as given: a missing file (or a named pipe) says what it is when it is read.
        return [Source(name=raw, path=raw)]
    found, skipped = discover([raw])
    errors.extend(ConfigError(f"{s.path}: cannot read: {s.reason}") for s in skipped)
    files = [src for src in found if src.member is None and not path.is_dir()]
    contents = _config_files(src for src in found if src.member is not None or path.is_dir())
    if not files and not contents and not skipped:
        errors.append(ConfigError(f"{raw}: holds no {CONFIG_SUFFIX} file"))
    return files + contents


def _config_files(sources: Iterable[Source]) -> list[Source]:
    """The Presence configuration files among `sources`: those with its own name, else every
    ``*.config`` file (a folder of files collected from the hosts, renamed)."""
    candidates = list(sources)
    by_name = [src for src in candidates if _base_name(src).casefold() == CONFIG_NAME.casefold()]
    if by_name:
        return by_name
    return [src for src in candidates if _base_name(src).casefold().endswith(CONFIG_SUFFIX)]


def _base_name(src: Source) -> str:
    return PurePath((src.member or src.path).replace("\\", "/")).name


def _same_file(path: str) -> str:
    """One key for one file, however it is named (``a/x``, ``./a/../a/x``, a link to it)."""
    return os.path.normcase(os.path.realpath(path))


def read_config(src: Source, collection: str) -> PresenceConfig:
    """Read, decode and parse one source; ConfigError, naming it, when it cannot be read or parsed."""
    try:
        with open_source(src) as stream:
            data = stream.read(MAX_CONFIG_BYTES + 1)
    except OSError as e:
        raise ConfigError(f"{src.name}: cannot read: {e.strerror or e}") from e
    except READ_ERRORS as e:
        raise ConfigError(f"{src.name}: cannot read: {e}") from e
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError(
            f"{src.name}: larger than {MAX_CONFIG_BYTES // (1024 * 1024)} MiB: not a configuration file"
        )
    return parse_config(decode_text(data, src.name), src.name, collection)
