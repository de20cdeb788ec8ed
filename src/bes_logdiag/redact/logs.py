"""One log stream redacted into another, block by block: same encoding, byte-order mark, line ends
and line order; only the names between them change.

Memory is one block and one line carried over, whatever the size of the log: blocks of
`decode.CHUNK_SIZE` bytes cut at their last line end (no token spans two lines), and a line
longer than `decode.MAX_LINE` passed on in pieces.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from bes_logdiag.decode import CHUNK_SIZE, MAX_LINE, SNIFF_SIZE, detect_encoding
from bes_logdiag.errors import reason_of
from bes_logdiag.filehead import SNIFF_BYTES
from bes_logdiag.read import READ_ERRORS
from bes_logdiag.redact.grammar import Redactor

_UTF16_ERRORS = "bes-logdiag-redact-utf16"


@dataclass(frozen=True)
class Streamed:
    """What redacting one stream did."""

    encoding: str
    lines: int
    problem: str | None = None
    """Why the input broke off part way (a truncated gzip file, a corrupt member): the lines
    before it were redacted and written, the rest is lost."""


def redact_stream(source: BinaryIO, sink: BinaryIO, redactor: Redactor, head: bytes = b"") -> Streamed:
    """Redact `source` (whose first bytes, `head`, were already read from it) into `sink`.  When
    reading breaks off (a truncated gzip), the piece of a line it broke off in is left out, as the
    scan leaves it out: cut off, a name's brackets may never close, and it would pass unredacted."""
    encoding = detect_encoding(head[:SNIFF_SIZE])
    counter = _Counter()
    blocks = _blocks(head, source, counter)
    if encoding.startswith("utf-16"):
        _utf16(blocks, sink, redactor, encoding, counter)
    else:
        _ascii_compatible(blocks, sink, redactor, counter)
    return Streamed(encoding, counter.lines, counter.problem)


class _Counter:
    def __init__(self) -> None:
        self.lines = 0
        self.problem: str | None = None


def _blocks(head: bytes, source: BinaryIO, counter: _Counter) -> Iterator[bytes]:
    if head:
        yield head
    while True:
        try:
            block = source.read(CHUNK_SIZE)
        except READ_ERRORS as e:
            counter.problem = reason_of(e)
            return
        if not block:
            return
        yield block


def _ascii_compatible(blocks: Iterator[bytes], sink: BinaryIO, redactor: Redactor, counter: _Counter) -> None:
    """UTF-8, cp1252 or both by line: matched as text decoded with ``surrogateescape`` (but for
    plain lines, `Redactor.redact_bytes`), so every byte not replaced is written back exactly as
    it was."""

    def emit(chunk: bytes) -> None:
        counter.lines += chunk.count(b"\n")
        sink.write(redactor.redact_bytes(chunk))

    carry = b""
    for block in blocks:
        buf = carry + block if carry else block
        cut = buf.rfind(b"\n")
        if cut < 0:
            carry = buf
            if len(carry) >= MAX_LINE:  # no line end for megabytes: not log text, passed on in pieces
                emit(carry)
                carry = b""
            continue
        emit(buf[: cut + 1])
        carry = buf[cut + 1 :]
    if carry and counter.problem is None:  # (a log cut off mid-line: its fragment is left out)
        emit(carry)
        counter.lines += 1


def _utf16(
    blocks: Iterator[bytes], sink: BinaryIO, redactor: Redactor, encoding: str, counter: _Counter
) -> None:
    """UTF-16 (LE or BE, the byte-order mark kept as the character it is): decoded and encoded
    again; a lone surrogate passes through, an odd last byte becomes U+FFFD."""
    decoder = codecs.getincrementaldecoder(encoding)(errors=_utf16_errors())
    encoder = codecs.getincrementalencoder(encoding)(errors="surrogatepass")

    def emit(text: str) -> None:
        counter.lines += text.count("\n")
        sink.write(encoder.encode(redactor.redact(text)))

    carry = ""
    for block in blocks:
        buf = carry + decoder.decode(block)
        cut = buf.rfind("\n")
        if cut < 0:
            carry = buf
            if len(carry) >= MAX_LINE // 2:
                emit(carry)
                carry = ""
            continue
        emit(buf[: cut + 1])
        carry = buf[cut + 1 :]
    carry += decoder.decode(b"", final=True)
    if carry and counter.problem is None:  # (a log cut off mid-line: its fragment is left out)
        emit(carry)
        counter.lines += 1


def _utf16_errors() -> str:
    try:
        codecs.lookup_error(_UTF16_ERRORS)
    except LookupError:
        codecs.register_error(_UTF16_ERRORS, _pass_or_replace)
    return _UTF16_ERRORS


def _pass_or_replace(e: UnicodeError) -> tuple[str, int]:
    """A lone surrogate as itself (it is written back as it came); a byte cut off as U+FFFD."""
    try:
        return codecs.lookup_error("surrogatepass")(e)  # type: ignore[return-value]
    except UnicodeError:
        if not isinstance(e, UnicodeDecodeError):
            raise e from None
        return "\ufffd", e.end


def looks_like_log(head: bytes) -> bool:
    """A BES timestamp in the first `SNIFF_BYTES`, as the scan sniffs a file whose name says nothing."""
    from bes_logdiag.parse import BES_LINE_BYTES

    encoding = detect_encoding(head[:SNIFF_SIZE])
    if encoding.startswith("utf-16"):
        head = head.decode(encoding, "replace").encode("utf-8")
    return BES_LINE_BYTES.search(head) is not None


def read_head(source: BinaryIO) -> tuple[bytes, str | None]:
    """The first `SNIFF_BYTES` of a stream (fewer at its end), and the reason when reading them
    failed (what was read before the failure is returned)."""
    parts: list[bytes] = []
    size = 0
    while size < SNIFF_BYTES:
        try:
            block = source.read(SNIFF_BYTES - size)
        except READ_ERRORS as e:
            return b"".join(parts), reason_of(e)
        if not block:
            break
        parts.append(block)
        size += len(block)
    return b"".join(parts), None
