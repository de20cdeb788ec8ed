"""Redaction: consistent, keyed pseudonyms for BES logs, user maps and reports, keeping them diagnosable.

The package is a pipeline as the scan is: `keys` (the secret), `pseudonyms` (one name to its
pseudonym; `permute` under it), `tokens` (which text in a line is a name), `grammar` (what
replaces it), `plainlines` (the
lines whose only name is their {user}, a block at a time), `logs` and `archives` (streams and
containers, bytes in and bytes out), `usermaps`, `inputs` (paths to units of work), `run` (the
entry point, ``redact_paths``), `report` (a scan's `Report`), `mapping` and `reverse` (back to the
real names, locally).
"""

from __future__ import annotations

from bes_logdiag.errors import BesLogdiagError


class RedactError(BesLogdiagError):
    """A key file, mapping file or output folder the redaction cannot use; the message names it."""
