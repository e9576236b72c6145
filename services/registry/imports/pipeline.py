"""An extract validated in a worker process while this one COPYs the previous chunk into staging (PostgreSQL).

Validation is CPU-bound Python and the COPY is work for the database server: run one after the other they add
up, in two processes they overlap (the machine this was sized on has two cores). The worker sends each chunk as
CSV text with its row errors;
the pipe holds little, so the worker stays at most about one chunk ahead and memory stays flat."""

from __future__ import annotations

import asyncio
import csv
import io
import multiprocessing
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from services.registry.imports.extract import ExtractFormatError, RowError, open_extract, read_chunks


@dataclass(frozen=True)
class EncodedChunk:
    """Good rows as CSV (in `import_row` column order), bad rows as errors, and how many rows were read."""

    csv: bytes
    errors: list[RowError]
    rows: int


def encode_records(records: list[tuple[Any, ...]]) -> bytes:
    """Staging records as COPY CSV; None is an empty field, which COPY reads as NULL.

    Validation never stages an empty string (an empty optional column becomes None, a required one is an error),
    so an empty field can only mean None."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(records)
    return buffer.getvalue().encode()


def _validate(path: str, import_id: str, today: date, conn: Connection) -> None:
    """The worker: validate the file chunk by chunk and send each one; a format error ends the stream."""
    try:
        with open_extract(Path(path)) as fh:
            for chunk in read_chunks(fh, import_id=import_id, today=today):
                conn.send(("chunk", encode_records(chunk.records), chunk.errors, chunk.rows))
        conn.send(("done",))
    except (ExtractFormatError, UnicodeDecodeError) as exc:
        conn.send(("unreadable", str(exc)))
    finally:
        conn.close()


async def validated_chunks(path: Path, *, import_id: str, today: date) -> AsyncIterator[EncodedChunk]:
    """The file's chunks, validated by a worker process; ExtractFormatError if the file cannot be read."""
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    worker = context.Process(
        target=_validate, args=(str(path), import_id, today, sender), name="tepat-import-validate", daemon=True
    )
    worker.start()
    sender.close()
    loop = asyncio.get_running_loop()
    try:
        while True:
            try:
                message = await loop.run_in_executor(None, receiver.recv)
            except EOFError:
                raise RuntimeError(f"the validation worker stopped (exit code {worker.exitcode})") from None
            if message[0] == "done":
                return
            if message[0] == "unreadable":
                raise ExtractFormatError(message[1])
            yield EncodedChunk(csv=message[1], errors=message[2], rows=message[3])
    finally:
        receiver.close()
        # A job that fails (or is cancelled) mid-file must not leave the worker blocked on a full pipe.
        if worker.is_alive():
            worker.kill()
        await loop.run_in_executor(None, worker.join)
