"""Prefilter engines: find, in one pass over a chunk of bytes, every line that can hold a pattern.

Only the lines an engine reports are decoded and parsed, so this pass is the scan's hot loop
(research notes, section 4: grep is fast because it never splits the input into lines).
A *probe* is one or two literal byte runs; a line holds the probe when it holds the runs in that
order (ignoring ASCII case, for a caseless probe).  A pattern's probes come from its regex
(`derive_probes`) or, failing that, from its declared prefilter literals (`literal_probes`).
Two engines report the same lines: hyperscan where it imports, and a pure-Python one built on
``bytes.find``.
"""

from __future__ import annotations

import re
import threading
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple, Protocol

from bes_logdiag.errors import UsageError


class Probe(NamedTuple):
    runs: tuple[bytes, ...]
    """Literal runs that a line must hold, in this order, to be reported."""
    caseless: bool = False
    """The runs are lower case and match in any ASCII case."""


MAX_ALTERNATIVES = 16
"""More alternatives than this in one regex, and its declared literals are used instead."""
MIN_ANCHOR = 3
"""Every alternative needs one run at least this long, or the declared literals are used."""

# Characters a run may hold.  ASCII only (a UTF-8 or cp1252 line holds them as the same bytes),
# and none that `parse.normalise` can produce from something else ("x" from "×", "-" from dashes,
# quotes from curly quotes, " " from a no-break space), nor the brackets and braces whose meaning
# differs between `re` and the `regex` module (POSIX classes, fuzzy matching).
_RUN_CHARS = frozenset(chr(c) for c in range(0x21, 0x7F)) - set("x-\"'[]{}")
# `regex` reads "{e<=1}" as fuzzy matching, which `re` would take as literal text.
_NOT_A_REPEAT = re.compile(r"\{(?!\d*(?:,\d*)?\})")
_ESCAPE = re.compile(r"\\.", re.DOTALL)

BOM = b"\xef\xbb\xbf"
"""A byte-order mark inside a line is dropped by `parse.normalise`, so it can split a run: the
matcher treats a line holding one as a candidate for every pattern whose literal it holds."""


class Prefilter(Protocol):
    name: str

    def scan(self, buf: bytes) -> list[tuple[int, int]]:
        """``(offset, probe index)`` pairs: at least one offset inside every line that holds a
        probe, none in lines that do not, in no particular order."""
        ...


def derive_probes(source: str) -> tuple[Probe, ...] | None:
    """Probes of which one holds in every line the regex can match, or None when none are known.

    The regex is read with the standard library's parser: each alternative of the regex gives
    the literal runs every match of it must contain, in order.  Anything the parser reads
    differently from the `regex` module, case-insensitive text, and optional parts only end a
    run, so a probe is always a necessary condition for a match, never a sufficient one.
    """
    if _NOT_A_REPEAT.search(_ESCAPE.sub("", source)):
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parsed = _sre_parse(source)
        alternatives = _sequence(list(parsed), parsed.state.flags)
    except Exception:  # noqa: BLE001 - syntax only the `regex` module knows: no probes
        return None
    probes: dict[Probe, None] = {}
    for alt in alternatives:
        runs = tuple(r.encode("ascii") for r in "".join(c or "\0" for c in alt).split("\0") if r)
        if not runs or max(map(len, runs)) < MIN_ANCHOR:
            return None
        probes[Probe(_two_longest(runs))] = None
    return tuple(probes)


def required_literal(source: str) -> str | None:
    """A literal that every match of the regex contains, or None: the longest run of its probe,
    when it has exactly one (no alternation).  What a pattern without ``prefilter = [...]``
    declares as its literal."""
    probes = derive_probes(source)
    if probes is None or len(probes) != 1:
        return None
    runs = probes[0].runs
    return max(runs, key=len).decode("ascii")


def literal_probes(literals: Iterable[bytes]) -> tuple[Probe, ...]:
    """Probes for a pattern's declared literals: one each, except that spellings of one word in
    different case ("not started", "Not Started", "NOT STARTED") share one caseless probe.

    The matcher still requires a declared literal in every line, so this never widens what a
    pattern matches; it only saves the pure-Python engine passes over the text.
    """
    families: dict[bytes, list[bytes]] = {}
    for lit in literals:
        families.setdefault(lit.lower(), []).append(lit)
    return tuple(
        Probe((low,), caseless=True) if len(spellings) > 1 else Probe((spellings[0],))
        for low, spellings in families.items()
    )


def _two_longest(runs: tuple[bytes, ...]) -> tuple[bytes, ...]:
    """The two longest runs, in their order.  More runs hardly ever rule out another line, but
    made hyperscan's compile 2.5x and its scan 1.2x slower (benchmarks/README.md)."""
    keep = sorted(range(len(runs)), key=lambda i: (-len(runs[i]), i))[:2]
    return tuple(runs[i] for i in sorted(keep))


def _sre_parse(source: str) -> Any:
    try:
        from re import _parser as sre_parse  # type: ignore[attr-defined]  # Python 3.11+
    except ImportError:  # pragma: no cover - Python 3.10
        import sre_parse  # type: ignore[no-redef]
    return sre_parse.parse(source)


_Alt = list  # a list of characters, None where a run ends


def _sequence(nodes: Iterable[tuple[Any, Any]], flags: int) -> list[_Alt]:
    alts: list[_Alt] = [[]]
    for op, av in nodes:
        parts = _node(str(op), av, flags)
        joined = [a + b for a in alts for b in parts]
        alts = joined if len(joined) <= MAX_ALTERNATIVES else [a + [None] for a in alts]
    return alts


def _node(op: str, av: Any, flags: int) -> list[_Alt]:
    ignorecase = bool(flags & re.IGNORECASE)
    if op == "LITERAL":
        c = chr(av)
        return [[c]] if c in _RUN_CHARS and not ignorecase else [[None]]
    if op in ("AT", "ASSERT", "ASSERT_NOT"):  # zero-width: the matched text is unchanged
        return [[]]
    if op == "SUBPATTERN":
        _group, add, remove, body = av
        return _sequence(body, (flags | add) & ~remove)
    if op == "ATOMIC_GROUP":
        return _sequence(av, flags)
    if op == "BRANCH":
        out = [alt for body in av[1] for alt in _sequence(body, flags)]
        return out if len(out) <= MAX_ALTERNATIVES else [[None]]
    if op in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
        low, high, body = av
        if low == 0:
            return [[None]]
        inner = _sequence(body, flags)
        if low == high == 1:
            return inner
        return [[None, *alt, None] for alt in inner]
    return [[None]]  # a class, any character, a back-reference ...: a run ends here


def probe_regex(probe: Probe) -> bytes:
    """The probe as one regex for hyperscan and `re`: the runs in order, within one line.

    Without the DOTALL flag, ``.`` matches anything but a newline in both engines (and
    hyperscan compiles ``.*`` a fifth faster than ``[^\\n]*``).
    """
    return b".*".join(b"".join(b"\\x%02x" % c for c in run) for run in probe.runs)


def _finder(anchor: bytes) -> Callable[[bytes, int], int]:
    """``find(buf, start)`` for one anchor: `re` when the anchor is short and does not start with
    a lower-case letter (its search then skips to the rare first byte), else ``bytes.find``
    (whose skip loop wins on long anchors): 13% less time over the library's anchors, measured
    on the benchmark corpus (benchmarks/README.md)."""
    if len(anchor) < 14 and not anchor[:1].islower():
        search = re.compile(re.escape(anchor)).search

        def find(buf: bytes, start: int) -> int:
            m = search(buf, start)
            return -1 if m is None else m.start()

        return find
    return lambda buf, start: buf.find(anchor, start)


_Check = tuple[int, "re.Pattern[bytes] | None"]
"""A probe's index, and the regex that checks its other run (None for a one-run probe)."""


class PythonPrefilter:
    """One search pass per distinct anchor (one run of each probe); the probe's other run is
    checked with a small `re` on the lines the anchor finds.  Caseless probes search a
    lower-cased copy of the chunk, made once per chunk.

    Which run is the anchor does not change what is reported, only how fast: a probe starts
    with a run it shares with other probes, else its longest, and moves to its other run when
    the anchor turns out to be common (``CheckResponseReceived`` in every Connection Manager line
    makes ``Received`` a poor one).
    """

    name = "python"
    BUSY = 64
    """Anchor hits in one chunk above which a two-run probe tries its other run."""

    def __init__(self, probes: Sequence[Probe]) -> None:
        self._probes = tuple(probes)
        self._checks = [re.compile(probe_regex(p)) if len(p.runs) > 1 else None for p in self._probes]
        # Start from runs that several probes share (one pass serves them all), then the longest.
        shared = Counter((run, p.caseless) for p in self._probes for run in set(p.runs))
        self._anchor = [
            max(range(len(p.runs)), key=lambda i: (shared[p.runs[i], p.caseless] > 1, len(p.runs[i])))
            for p in self._probes
        ]
        self._finders: dict[bytes, Callable[[bytes, int], int]] = {}
        self._passes = self._group()

    def _group(self) -> list[tuple[bytes, bool, Callable[[bytes, int], int], list[_Check]]]:
        by_anchor: dict[tuple[bytes, bool], list[_Check]] = {}
        for index, probe in enumerate(self._probes):
            key = (probe.runs[self._anchor[index]], probe.caseless)
            by_anchor.setdefault(key, []).append((index, self._checks[index]))
        return [
            (anchor, caseless, self._finders.setdefault(anchor, _finder(anchor)), checks)
            for (anchor, caseless), checks in by_anchor.items()
        ]

    def scan(self, buf: bytes) -> list[tuple[int, int]]:
        hits: list[tuple[int, int]] = []
        add = hits.append
        ascii_only = buf.isascii()  # then no non-ASCII run (the BOM) can occur: skip its pass
        lowered: bytes | None = None
        busy: list[int] = []
        for anchor, caseless, find_anchor, checks in self._passes:
            if ascii_only and not anchor.isascii():
                continue
            text = buf
            if caseless:  # bytes.lower() changes A-Z only, so offsets stay put
                text = lowered = buf.lower() if lowered is None else lowered
            find, rfind, size = text.find, text.rfind, len(text)
            found = 0
            pos = find_anchor(text, 0)
            while pos >= 0:
                found += 1
                end = find(b"\n", pos)
                if end < 0:
                    end = size
                start = -1
                for index, rest in checks:
                    if rest is None:
                        add((pos, index))
                        continue
                    if start < 0:
                        start = rfind(b"\n", 0, pos) + 1
                    if rest.search(text, start, end) is not None:
                        add((pos, index))
                pos = find_anchor(text, end)
            if found > self.BUSY:
                busy.extend(index for index, rest in checks if rest is not None)
        if busy:
            for index in busy:
                self._anchor[index] = (self._anchor[index] + 1) % len(self._probes[index].runs)
            self._passes = self._group()
        return hits


class HyperscanPrefilter:
    """Every probe in one hyperscan database, scanned in block mode.

    The scan runs without the GIL, so threads scan files in parallel; each thread gets its own
    scratch space, as hyperscan requires.
    """

    name = "hyperscan"

    def __init__(self, probes: Sequence[Probe]) -> None:
        import hyperscan

        self._hs = hyperscan
        self._db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        self._db.compile(
            expressions=[probe_regex(p) for p in probes],
            ids=list(range(len(probes))),
            elements=len(probes),
            flags=[hyperscan.HS_FLAG_CASELESS if p.caseless else 0 for p in probes],
        )
        self._local = threading.local()

    def scan(self, buf: bytes) -> list[tuple[int, int]]:
        hits: list[tuple[int, int]] = []
        add = hits.append

        def on_match(index: int, start: int, end: int, flags: int, context: object) -> None:
            add((end - 1, index))  # the last byte of the last run: inside the line

        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = self._hs.Scratch(self._db)
        self._db.scan(buf, match_event_handler=on_match, scratch=scratch)
        return hits


PARALLEL_IN_THREADS = {"hyperscan": True, "python": False}
"""Whether an engine's scan releases the GIL, so that threads (not processes) run files at once."""


def hyperscan_available() -> bool:
    try:
        import hyperscan  # noqa: F401
    except ImportError:
        return False
    return True


def make_prefilter(probes: Sequence[Probe], engine: str = "auto") -> Prefilter:
    """``auto`` takes hyperscan when it imports; ``python`` and ``hyperscan`` force one engine."""
    return HyperscanPrefilter(probes) if uses_hyperscan(engine) else PythonPrefilter(probes)


def uses_hyperscan(engine: str) -> bool:
    """Whether an engine setting (auto, hyperscan, python) means hyperscan here; a usage error
    for one that cannot be had."""
    if engine == "python" or (engine == "auto" and not hyperscan_available()):
        return False
    from bes_logdiag.settings import ENGINE_VARIABLE, ENGINES  # (only to say what is wrong)

    if engine not in ENGINES:
        raise UsageError(f"{engine}: unknown prefilter engine (use {', '.join(ENGINES)})")
    if not hyperscan_available():
        raise UsageError(
            f"{ENGINE_VARIABLE}=hyperscan: the hyperscan module is not installed (use auto or python)"
        )
    return True
