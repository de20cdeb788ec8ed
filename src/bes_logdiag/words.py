"""Counting words in messages: one place for plurals and for naming a few of many."""

from __future__ import annotations

from collections.abc import Sequence


def plural(count: int, word: str) -> str:
    """``1 file``, ``2 files``, ``27,456 lines``."""
    return f"{count:,} {word}" if count == 1 else f"{count:,} {word}s"


def some(names: Sequence[str], shown: int = 3) -> str:
    """``a, b, c and 4 more``: the first few of a list that may be long."""
    head = ", ".join(names[:shown])
    return f"{head} and {len(names) - shown} more" if len(names) > shown else head
