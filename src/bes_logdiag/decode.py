"""Decoding: a source's raw bytes to buffers of whole lines in one ASCII-compatible encoding, and
an account of what in them is not log text (NUL runs, bytes no encoding explains, huge lines)."""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

CHUNK_SIZE = 256 * 1024
"""Bytes read at a time.  Small enough that a chunk stays in the CPU's cache while the prefilter
and the newline count pass over it, and that malloc recycles chunks instead of mapping fresh
pages (a pass over the benchmark corpus took 1.3x as long with 1 MiB chunks, and reading alone
10x as long with 8 MiB ones: benchmarks/README.md); large enough that the per-chunk overhead
vanishes."""
SNIFF_SIZE = 4096
"""The encoding is decided on this many bytes (or the first line, if the file starts smaller), so
that `detect_encoding` sees a BOM or NUL pattern."""
LONG_LINE = 1024 * 1024
"""A line this long is not a log line (BES lines are well under 4 KiB): the report says so, and
`LineChunker` passes over the rest of it (see there)."""
MAX_LINE = 8 * 1024 * 1024
"""The longest line a reader that keeps every line whole holds before cutting it (``redact``)."""


@dataclass
class Encoding:
    """The encoding a stream was read in; ``cp1252_lines`` counts lines that were not UTF-8."""

    name: str = "utf-8"
    cp1252_lines: int = 0
    replaced: int = 0
    """Characters of a UTF-16 stream that did not decode (read as U+FFFD)."""
    long_lines: int = 0
    """Lines longer than ``LONG_LINE`` that spanned blocks (a shorter one within a block goes
    uncounted: no log line comes near either size)."""
    passed_over: int = 0
    """Bytes of over-long lines that were not passed on (`LineChunker`)."""
    passed_over_nul: int = 0
    """NUL bytes among them: the only thing looked for in them."""

    @property
    def label(self) -> str:
        if self.name == "utf-8" and self.cp1252_lines:
            return "cp1252"
        return self.name


def detect_encoding(head: bytes) -> str:
    """BOM first (UTF-8, UTF-16 LE/BE); then UTF-16 told by its NUL bytes; else ASCII-compatible."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith(codecs.BOM_UTF16_LE):
        return "utf-16-le"
    if head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16-be"
    sample = head[:4096]
    if len(sample) >= 16:
        even = sample[0::2].count(0)
        odd = sample[1::2].count(0)
        half = len(sample) // 2
        if odd > 0.4 * half and even < 0.05 * half:
            return "utf-16-le"
        if even > 0.4 * half and odd < 0.05 * half:
            return "utf-16-be"
    return "utf-8"


class LineChunker:
    """Raw bytes in, buffers of whole lines out, fed piece by piece and finished once (as
    ``codecs``' incremental decoders are): a whole file read in blocks, or what a live log appended.

    UTF-16 input is transcoded to UTF-8 on the way; a BOM is dropped.  A buffer ends at a line
    end, except the one `finish` gives and the first piece of a line that runs ``max_line`` bytes
    (`LONG_LINE`) without a line end.  Such a line is not log text: its first ``max_line`` bytes
    are passed on as one piece, the blocks after them are passed over (counted in
    ``Encoding.passed_over``, their NUL bytes too), and the block that ends it is passed on from
    where it starts, as any block is.  So a decompression bomb of NUL bytes, or of one byte and
    no line end, is never held past ``max_line`` (the scan refuses a file whose head has no BES
    timestamp after that much), a run inside a log costs neither memory nor matching, and what
    came before it stays within the reader's look back (the time a log ends is found there).
    A line a block holds whole is never cut.
    """

    def __init__(self, enc: Encoding, max_line: int = LONG_LINE) -> None:
        self.enc = enc
        self.max_line = max_line
        self._head: bytes | None = b""
        """What came before the encoding was decided; None once it is."""
        self._decoder: codecs.IncrementalDecoder | None = None
        self._strip_bom = False
        self._carry: list[bytes] = []  # the start of a line that a later block ends
        self._pending = 0  # bytes in _carry
        self._run = 0  # bytes of the unfinished line so far, held, passed on or passed over
        self._passing = False  # the unfinished line is over-long: its blocks are passed over

    def feed(self, data: bytes) -> list[bytes]:
        if self._head is not None:
            self._head += data
            if len(self._head) < SNIFF_SIZE and b"\n" not in self._head:
                return []
            data = self._start()
        return self._lines(self._recode(data))

    def finish(self) -> list[bytes]:
        out = []
        if self._head is not None:
            out += self._lines(self._recode(self._start()))
        if self._decoder is not None:
            out += self._lines(self._text(self._decoder.decode(b"", final=True)))
        if self._carry:
            out.append(b"".join(self._carry))
        self._carry, self._pending, self._run, self._passing = [], 0, 0, False
        return out

    @property
    def transcodes(self) -> bool:
        """Whether the buffers are transcoded (UTF-16 input), not the stream's own bytes."""
        return self._decoder is not None

    def _start(self) -> bytes:
        head, self._head = self._head or b"", None
        self.enc.name = detect_encoding(head)
        if self.enc.name.startswith("utf-16"):
            self._decoder = codecs.getincrementaldecoder(self.enc.name)(errors="replace")
            self._strip_bom = True
        elif self.enc.name == "utf-8-sig":
            head = head[len(codecs.BOM_UTF8) :]
        return head

    def _recode(self, data: bytes) -> bytes:
        return data if self._decoder is None else self._text(self._decoder.decode(data))

    def _text(self, text: str) -> bytes:
        if self._strip_bom and text:
            text, self._strip_bom = text.removeprefix("\ufeff"), False
        self.enc.replaced += text.count("\ufffd")
        return text.encode("utf-8")

    def _grow(self, added: int) -> None:
        """The unfinished line is `added` bytes longer: counted once as long past `LONG_LINE`."""
        if self._run < LONG_LINE <= self._run + added:
            self.enc.long_lines += 1
        self._run += added

    def _lines(self, block: bytes) -> list[bytes]:
        if not block:
            return []
        cut = block.rfind(b"\n")
        if cut < 0:
            self._grow(len(block))
            if self._passing:
                self.enc.passed_over += len(block)
                self.enc.passed_over_nul += block.count(b"\0")
                return []
            self._carry.append(block)
            self._pending += len(block)
            if self._pending < self.max_line:
                return []
            # No line end for max_line bytes: not log text.  This much goes on, the rest is passed over.
            piece = b"".join(self._carry)
            self._carry, self._pending, self._passing = [], 0, True
            return [piece]
        self._grow(block.find(b"\n"))
        # One copy at most: the whole block when it ends a line, else the lines it completes.
        if self._carry:
            out = b"".join((*self._carry, memoryview(block)[: cut + 1]))
        elif cut == len(block) - 1:
            out = block
        else:
            out = block[: cut + 1]
        tail = block[cut + 1 :]
        self._carry, self._pending = ([tail], len(tail)) if tail else ([], 0)
        self._run, self._passing = len(tail), False
        return [out]


def read_chunks(
    stream: BinaryIO, enc: Encoding, size: int = CHUNK_SIZE, max_line: int = LONG_LINE
) -> Iterator[bytes]:
    """Buffers of whole lines from a byte stream read in blocks of ``size`` (see `LineChunker`)."""
    chunker = LineChunker(enc, max_line)
    block = stream.read(max(size, SNIFF_SIZE))
    while block:
        yield from chunker.feed(block)
        block = stream.read(size)
    yield from chunker.finish()


def decode_line(raw: bytes, enc: Encoding) -> str:
    """Decode one line: UTF-8 when it is valid UTF-8, else Windows cp1252 (BES-LOGS.md section 1)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        enc.cp1252_lines += 1
        return raw.decode("cp1252", errors="replace")


CP1252_UNDEFINED = (b"\x81", b"\x8d", b"\x8f", b"\x90", b"\x9d")
"""The bytes that mean nothing in cp1252: outside valid UTF-8 they are damage, not text."""


class Damage:
    """What in a file is not log text: NUL runs, bytes no encoding explains, over-long lines.

    Each check is one C-speed test per chunk (``in``, ``isascii``); only a chunk that fails it is
    looked at line by line.
    """

    def __init__(self) -> None:
        self.nul = self.nul_line = 0
        self.bad = self.bad_line = 0
        self.long_line = 0
        self._long_pieces = 0
        self._latest_long = 0  # the line of the latest over-long line
        self._passed_over_nul = 0  # enc.passed_over_nul counted so far

    def note(self, buf: bytes, line_base: int, enc: Encoding) -> None:
        """Look at one chunk whose first line is line ``line_base + 1``."""
        self._count_passed_over(enc)
        if b"\0" in buf:
            if not self.nul:
                self.nul_line = line_base + buf.count(b"\n", 0, buf.find(b"\0")) + 1
            self.nul += buf.count(b"\0")
        if not buf.isascii() and not enc.name.startswith("utf-16"):
            self._undecodable(buf, line_base)
        if enc.long_lines > self._long_pieces:
            self.long_line = self.long_line or line_base + 1
            self._latest_long = line_base + 1
        self._long_pieces = enc.long_lines

    def _count_passed_over(self, enc: Encoding) -> None:
        """The NUL bytes of what `LineChunker` passed over since the last chunk: they belong to
        the latest over-long line, which came before this chunk's lines."""
        added = enc.passed_over_nul - self._passed_over_nul
        if added:
            if not self.nul:
                self.nul_line = self._latest_long
            self.nul += added
            self._passed_over_nul = enc.passed_over_nul

    def _undecodable(self, buf: bytes, line_base: int) -> None:
        try:
            buf.decode("utf-8")
            return
        except UnicodeDecodeError:
            pass
        if not any(b in buf for b in CP1252_UNDEFINED):
            return  # cp1252 text, or UTF-8 and cp1252 lines mixed: all of it decodes
        for i, raw in enumerate(buf.split(b"\n")):
            if any(b in raw for b in CP1252_UNDEFINED):
                try:
                    raw.decode("utf-8")
                except UnicodeDecodeError:
                    self.bad_line = self.bad_line or line_base + i + 1
                    self.bad += sum(raw.count(b) for b in CP1252_UNDEFINED)

    def describe(self, enc: Encoding) -> list[str]:
        # (A file may end inside an over-long line: what was passed over since the last chunk.)
        nul = self.nul + enc.passed_over_nul - self._passed_over_nul
        out = []
        if nul:
            where = f"from line {self.nul_line or self._latest_long}"
            out.append(f"{nul:,} NUL bytes {where} (a copy taken while the server wrote?)")
        if self.bad:
            where = f"from line {self.bad_line}"
            out.append(f"{self.bad:,} bytes that are neither UTF-8 nor cp1252 {where}, read as U+FFFD")
        if enc.replaced:
            out.append(f"invalid {enc.name.upper()} in {enc.replaced:,} place(s), read as U+FFFD")
        if self.long_line:
            what = "not log text"
            if enc.passed_over:
                what += f"; {enc.passed_over / 2**20:,.1f} MiB of over-long lines passed over"
            out.append(f"a line over {LONG_LINE // 2**20} MiB long at line {self.long_line} ({what})")
        return out
