"""The pattern library (``patterns/*.toml``): its values, and loading and validating them.

It knows nothing of log lines: matching is `bes_logdiag.match`, the example checks
`bes_logdiag.pattern_check`.
"""

from bes_logdiag.library.defs import (
    MATCH_TIMEOUT,
    Article,
    Library,
    MilestoneDef,
    Pattern,
    StageDef,
    StallRule,
)
from bes_logdiag.library.load import builtin_dir, load_library, read_library

__all__ = [
    "MATCH_TIMEOUT",
    "Article",
    "Library",
    "MilestoneDef",
    "Pattern",
    "StageDef",
    "StallRule",
    "builtin_dir",
    "load_library",
    "read_library",
]
