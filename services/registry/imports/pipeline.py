"""An extract validated in worker processes while this one COPYs finished chunks into staging (PostgreSQL).

Validation is CPU-bound Python and the COPY is work for the database server: run one after the other they add
up, in separate processes they overlap, and two workers (each validating every other chunk) halve the Python
part on a machine with two cores or more. The worker sends each chunk as
CSV text with its row errors;
the pipe holds little, so the worker stays at most about one chunk ahead and memory stays flat."""

from __future__ import annotations

import asyncio
import csv
import io
import multiprocessing
import os
from collections.abc import AsyncGenerator
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


def _validate(path: str, import_id: str, today: date, part: int, parts: int, conn: Connection) -> None:
    """A worker: validate its share of the file's chunks and send each one; a format error ends the stream."""
    try:
        with open_extract(Path(path)) as fh:
            for chunk in read_chunks(fh, import_id=import_id, today=today, part=part, parts=parts):
                conn.send(("chunk", encode_records(chunk.records), chunk.errors, chunk.rows))
        conn.send(("done",))
    except (ExtractFormatError, UnicodeDecodeError) as exc:
        conn.send(("unreadable", str(exc)))
    finally:
        conn.close()


def worker_count() -> int:
    """Validation workers: two where there are two cores or more (staging rows arrive in any order)."""
    return 2 if (os.cpu_count() or 1) >= 2 else 1


async def validated_chunks(
    path: Path, *, import_id: str, today: date, workers: int | None = None
) -> AsyncGenerator[EncodedChunk, None]:
    """The file's chunks, validated by worker processes, in the order they finish; ExtractFormatError if the
    file cannot be read."""
    parts = workers or worker_count()
    context = multiprocessing.get_context("spawn")
    receivers: list[Connection] = []
    processes = []
    for part in range(parts):
        receiver, sender = context.Pipe(duplex=False)
        process = context.Process(
            target=_validate,
            args=(str(path), import_id, today, part, parts, sender),
            name=f"tepat-import-validate-{part}",
            daemon=True,
        )
        process.start()
        sender.close()
        receivers.append(receiver)
        processes.append(process)
    loop = asyncio.get_running_loop()
    pending = {loop.run_in_executor(None, r.recv): i for i, r in enumerate(receivers)}
    try:
        while pending:
            done, _ = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for future in done:
                i = pending.pop(future)
                try:
                    message = future.result()
                except EOFError:
                    raise RuntimeError(f"validation worker {i} stopped (exit code {processes[i].exitcode})") from None
                if message[0] == "unreadable":
                    raise ExtractFormatError(message[1])
                if message[0] == "chunk":
                    pending[loop.run_in_executor(None, receivers[i].recv)] = i
                    yield EncodedChunk(csv=message[1], errors=message[2], rows=message[3])
    finally:
        # A job that fails (or is cancelled) mid-file must not leave a worker blocked on a full pipe.
        for process in processes:
            if process.is_alive():
                process.kill()
        for process in processes:
            await loop.run_in_executor(None, process.join)
        # With the workers gone, receives still waiting end (EOFError); collect them before closing the pipes.
        await asyncio.gather(*pending, return_exceptions=True)
        for receiver in receivers:
            receiver.close()
