"""An extract validated in worker processes while this one COPYs finished chunks into staging (PostgreSQL).

Validation is CPU-bound Python and the COPY is work for the database server: run one after the other they add
up, in separate processes they overlap, and two workers (each validating every other block of the file,
`part_chunks`) halve the Python part on a machine with two cores or more. A worker is this module run as a
program (`python -m`), so it never depends on how the parent process was started; it writes each chunk to its
stdout as a length-prefixed pickle of the CSV text (good rows) and the row errors. A pipe holds little, so a
worker stays at most about one chunk ahead and memory stays flat."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import pickle
import re
import struct
import sys
from collections.abc import AsyncGenerator, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, Any

from services.registry.imports.extract import (
    BadRow,
    Chunk,
    ExtractFormatError,
    RowError,
    RowValidator,
    read_chunks,
    read_header,
    validate_records,
)

_LENGTH = struct.Struct("!Q")


@dataclass(frozen=True)
class EncodedChunk:
    """Good rows as CSV (in `import_row` column order), bad rows as errors and raw values, and how many rows
    were read."""

    csv: bytes
    errors: list[RowError]
    rows: int
    bad_rows: list[BadRow]


def encode_records(records: list[tuple[Any, ...]]) -> bytes:
    """Staging records (`import_row` order) as COPY CSV; None is an empty field, which COPY reads as NULL.

    Validation never stages an empty string (an empty optional column becomes None, a required one is an error),
    so an empty field can only mean None. Only the free-text columns (alamat, nama, tempat_lahir, pendidikan,
    pekerjaan) can hold a comma, quote or line break; the others are validated codes, digits and dates. A row
    whose free text has none is written with one f-string (3x cheaper than `csv.writer`), the rare other one
    by `csv.writer`."""
    out: list[str] = []
    slow = csv.writer(_Lines(out), lineterminator="\n")
    for r in records:
        (job, row_no, no_kk, kel, kec, alamat, rt, rw, nik, issue, name, place, born, sex, rel) = r[:15]
        (marital, education, school, occupation, disability, pregnant, desil, period) = r[15:]
        if _NEEDS_QUOTES.search(f"{alamat}{name}{place}{education}{occupation}"):
            slow.writerow((*r[:20], _BOOL_TEXT[pregnant], *r[21:]))
            continue
        out.append(
            f"{job},{row_no},{no_kk},{kel},{kec},{alamat},{rt},{rw},{nik},{issue or ''},{name},{place or ''},"
            f"{'' if born is None else born.isoformat()},{sex or ''},{rel},{marital or ''},{education or ''},"
            f"{school or ''},{occupation or ''},{disability or ''},{_BOOL_TEXT[pregnant]},"
            f"{'' if desil is None else desil},{period or ''}\n"
        )
    return "".join(out).encode()


_NEEDS_QUOTES = re.compile(r'[,"\r\n]')
_BOOL_TEXT = {None: "", True: "t", False: "f"}


class _Lines:
    """The `write` that `csv.writer` needs, appending to a list of lines."""

    def __init__(self, lines: list[str]) -> None:
        self.write = lines.append


def _send(out: IO[bytes], message: tuple[Any, ...]) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    out.write(_LENGTH.pack(len(data)))
    out.write(data)
    out.flush()


BLOCK_BYTES = 1 << 20
# A "line" this long without a line break is not an extract: hand the rest to the csv module as it is.
_LONGEST_LINE = 64 << 20


def _plain(block: bytes) -> bool:
    """No quote and no lone CR: every LF ends a record and nothing else does, so records can be counted, not
    parsed."""
    return b'"' not in block and (b"\r" not in block or block.count(b"\r") == block.count(b"\r\n"))


def part_chunks(
    path: Path, *, import_id: str, today: date, part: int, parts: int, block_bytes: int = BLOCK_BYTES
) -> Iterator[Chunk]:
    """A worker's share of a file: every `parts`-th block of about `block_bytes` from block `part` on, validated.

    Each worker reads the whole file but parses only its own blocks: a plain block (`_plain`) ends at a line
    break and its records are counted by counting line breaks, so the numbering goes on without parsing the
    others' rows (at Padang scale 0.5 s of CPU less per worker). From the first block
    that is not plain (a quoted field, a lone CR) on, both workers hand over to `read_chunks`, which parses
    every record of the rest and validates its own chunks. Workers given parts 0..parts-1 share the file's
    rows exactly (tested against `read_chunks` on one stream)."""
    with path.open("rb") as fh:
        first = fh.read(block_bytes)
        newline = first.find(b"\n")
        header_line = first if newline < 0 else first[: newline + 1]
        if newline < 0 or not _plain(header_line):
            yield from _parsed_from(fh, 0, None, import_id=import_id, today=today, part=part, parts=parts)
            return
        validator = RowValidator(import_id, today)
        idx = read_header(csv.reader(io.StringIO(header_line.decode("utf-8-sig"), newline="")), validator)
        offset, row_no = len(header_line), 1
        for index, (block, plain) in enumerate(_line_blocks(fh, first[len(header_line) :], block_bytes)):
            if not plain:
                validator.nul_possible = True
                state = (validator, idx, row_no, index)
                yield from _parsed_from(fh, offset, state, import_id=import_id, today=today, part=part, parts=parts)
                return
            if index % parts == part:
                chunk = Chunk()
                validator.nul_possible = b"\x00" in block
                # A plain block's lines are its records (a CR before an LF is the csv module's to drop).
                lines = block.decode("utf-8").split("\n")
                if not lines[-1]:
                    lines.pop()
                reader = csv.reader(lines)
                row_no = validate_records(reader, validator=validator, idx=idx, row_no=row_no, out=chunk)
                if chunk.rows:
                    yield chunk
            else:
                # One record per LF: only the file's last block can end without one, and no block follows it.
                row_no += block.count(b"\n")
            offset += len(block)


def _line_blocks(fh: IO[bytes], buffer: bytes, block_bytes: int) -> Iterator[tuple[bytes, bool]]:
    """(block, plain): the rest of the file in blocks of whole lines of about `block_bytes` (the last may lack
    its line break). A block that is not `_plain`, or a line longer than `_LONGEST_LINE`, ends the blocks:
    the caller parses from there."""
    eof = False
    while True:
        while not eof and (len(buffer) < block_bytes or (b"\n" not in buffer and len(buffer) < _LONGEST_LINE)):
            data = fh.read(block_bytes)
            eof = not data
            buffer += data
        if not buffer:
            return
        end = len(buffer) if eof else buffer.rfind(b"\n") + 1
        block = buffer[:end]
        if not end or not _plain(block):
            yield buffer, False
            return
        yield block, True
        buffer = buffer[end:]


def _parsed_from(
    fh: IO[bytes],
    offset: int,
    state: tuple[RowValidator, dict[str, int], int, int] | None,
    *,
    import_id: str,
    today: date,
    part: int,
    parts: int,
) -> Iterator[Chunk]:
    fh.seek(offset)
    # utf-8-sig at the start of the file only: a BOM is the file's first bytes or nothing.
    encoding = "utf-8-sig" if offset == 0 else "utf-8"
    # Closing the wrapper closes the file too: nothing reads it after this.
    with io.TextIOWrapper(fh, encoding=encoding, newline="", errors="strict") as stream:
        yield from read_chunks(stream, import_id=import_id, today=today, part=part, parts=parts, start=state)


def validate_part(path: Path, *, import_id: str, today: date, part: int, parts: int, out: IO[bytes]) -> None:
    """A worker's work: validate its share of the file's chunks and send each; a format error ends the stream."""
    try:
        for chunk in part_chunks(path, import_id=import_id, today=today, part=part, parts=parts):
            _send(out, ("chunk", encode_records(chunk.records), chunk.errors, chunk.rows, chunk.bad_rows))
        _send(out, ("done",))
    except (ExtractFormatError, UnicodeDecodeError) as exc:
        _send(out, ("unreadable", str(exc)))


def worker_count() -> int:
    """Validation workers: two where there are two cores or more (staging rows arrive in any order)."""
    return 2 if (os.cpu_count() or 1) >= 2 else 1


async def _receive(process: asyncio.subprocess.Process) -> tuple[Any, ...]:
    assert process.stdout is not None
    try:
        (length,) = _LENGTH.unpack(await process.stdout.readexactly(_LENGTH.size))
        message: tuple[Any, ...] = pickle.loads(await process.stdout.readexactly(length))
    except asyncio.IncompleteReadError:
        await process.wait()
        # Its traceback went to this process's stderr (the service log).
        raise RuntimeError(f"a validation worker stopped (exit code {process.returncode})") from None
    return message


async def validated_chunks(
    path: Path, *, import_id: str, today: date, workers: int | None = None
) -> AsyncGenerator[EncodedChunk, None]:
    """The file's chunks, validated by worker processes, in the order they finish; ExtractFormatError if the
    file cannot be read."""
    parts = workers or worker_count()
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            __name__,
            str(path),
            import_id,
            today.isoformat(),
            str(part),
            str(parts),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            # Inherited, not piped: an undrained stderr pipe would block a worker that writes much to it.
            stderr=None,
        )
        for part in range(parts)
    ]
    pending = {asyncio.ensure_future(_receive(p)): p for p in processes}
    try:
        while pending:
            done, _ = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for future in done:
                process = pending.pop(future)
                message = future.result()
                if message[0] == "unreadable":
                    raise ExtractFormatError(message[1])
                if message[0] == "chunk":
                    pending[asyncio.ensure_future(_receive(process))] = process
                    yield EncodedChunk(csv=message[1], errors=message[2], rows=message[3], bad_rows=message[4])
    finally:
        # A job that fails (or is cancelled) mid-file must not leave a worker blocked on a full pipe.
        for future in pending:
            future.cancel()
        for process in processes:
            if process.returncode is None:
                process.kill()
            await process.wait()


if __name__ == "__main__":
    _path, _import_id, _today, _part, _parts = sys.argv[1:6]
    validate_part(
        Path(_path),
        import_id=_import_id,
        today=date.fromisoformat(_today),
        part=int(_part),
        parts=int(_parts),
        out=sys.stdout.buffer,
    )
