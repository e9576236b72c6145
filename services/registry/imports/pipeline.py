"""An extract validated in worker processes while this one COPYs finished chunks into staging (PostgreSQL).

Validation is CPU-bound Python and the COPY is work for the database server: run one after the other they add
up, in separate processes they overlap, and two workers (each validating every other chunk) halve the Python
part on a machine with two cores or more. A worker is this module run as a program (`python -m`), so it never
depends on how the parent process was started; it writes each chunk to its stdout as a length-prefixed pickle
of the CSV text (good rows) and the row errors. A pipe holds little, so a worker stays at most about one chunk
ahead and memory stays flat."""

from __future__ import annotations

import asyncio
import csv
import os
import pickle
import re
import struct
import sys
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, Any

from services.registry.imports.extract import ExtractFormatError, RowError, open_extract, read_chunks

_LENGTH = struct.Struct("!Q")


@dataclass(frozen=True)
class EncodedChunk:
    """Good rows as CSV (in `import_row` column order), bad rows as errors, and how many rows were read."""

    csv: bytes
    errors: list[RowError]
    rows: int


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


def validate_part(path: Path, *, import_id: str, today: date, part: int, parts: int, out: IO[bytes]) -> None:
    """A worker's work: validate its share of the file's chunks and send each; a format error ends the stream."""
    try:
        with open_extract(path) as fh:
            for chunk in read_chunks(fh, import_id=import_id, today=today, part=part, parts=parts):
                _send(out, ("chunk", encode_records(chunk.records), chunk.errors, chunk.rows))
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
                    yield EncodedChunk(csv=message[1], errors=message[2], rows=message[3])
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
