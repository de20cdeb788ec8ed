#!/usr/bin/env python3
"""Write a BES Logs folder the way admins really collect one, to see what the scan says of it.

Two servers: a size rotation between a key and its KEY_ACCEPT, other users' mail on the pooled
threads, the night daylight saving time ends, a ` - Copy`, a `.bak` and a zip of one file, other
services' logs, Windows clutter, a server of which only the MAGT log was sent, and one user map
exported from the first server for both.  The same folder the tests check
(tests/test_messy_folder.py):

    python scripts/make_messy_logs.py /tmp/messy
    bes-logdiag scan /tmp/messy/Logs --users /tmp/messy/users_A.csv
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "tests")]

from test_messy_folder import messy_folder  # noqa: E402  (the tests' own builder)

if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    print(messy_folder(out))
