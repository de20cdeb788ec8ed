"""The redaction key: a random secret in a local file, created when missing, never written into output."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from bes_logdiag.redact import RedactError

KEY_BYTES = 32
HEADER = "bes-logdiag redaction key, version 1: keep this file private and never send it"
"""The first line of a key file; the second is the secret in hex."""


@dataclass(frozen=True)
class RedactionKey:
    """The secret every pseudonym is derived from (HMAC-SHA256): the same key gives the same
    pseudonyms on every run, and without it a pseudonym cannot be traced back."""

    secret: bytes
    path: str = ""
    created: bool = False
    """The file did not exist and was made by this run."""

    def __repr__(self) -> str:  # the secret never reaches a traceback or a log
        return f"RedactionKey(path={self.path!r}, created={self.created})"


def load_key(path: Path, *, create: bool = True) -> RedactionKey:
    """The key in `path`, or (``create``) a new random key written there first, readable by its
    owner only.  A file that holds no key raises `RedactError` naming it."""
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        if not create:
            raise RedactError(f"{path}: no such key file") from None
        return _create(path)
    except (OSError, UnicodeDecodeError) as e:
        raise RedactError(f"{path}: cannot read the key file: {getattr(e, 'strerror', None) or e}") from e
    lines = text.split()
    hexed = lines[-1] if lines else ""
    if not text.startswith(HEADER.split(":")[0]) or len(hexed) != 2 * KEY_BYTES:
        raise RedactError(f"{path}: not a bes-logdiag redaction key (give a new file name to create one)")
    try:
        secret = bytes.fromhex(hexed)
    except ValueError:
        raise RedactError(f"{path}: the key file is damaged (its key is not hex)") from None
    return RedactionKey(secret, str(path))


def _create(path: Path) -> RedactionKey:
    secret = secrets.token_bytes(KEY_BYTES)
    try:
        # O_EXCL: two runs creating the same key at once must not end with two different keys.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return load_key(path, create=False)
    except OSError as e:
        raise RedactError(f"{path}: cannot create the key file: {e.strerror or e}") from e
    with os.fdopen(fd, "w", encoding="ascii", newline="\n") as f:
        f.write(f"{HEADER}\n{secret.hex()}\n")
    return RedactionKey(secret, str(path), created=True)
