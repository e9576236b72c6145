"""An export as an HTTP response: the list's own rows, streamed as CSV or XLSX."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any, Literal

from fastapi.responses import StreamingResponse
from sqlalchemy import Select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.exports.tabular import Column, csv_chunks, xlsx_chunks

ExportFormat = Literal["json", "csv", "xlsx"]
FileFormat = Literal["csv", "xlsx"]
MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
YIELD_PER = 2000
# The list routes' OpenAPI: besides the JSON list, the two export formats.
EXPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {MEDIA["csv"].split(";")[0]: {}, MEDIA["xlsx"]: {}}, "description": "JSON, CSV or XLSX"}
}
# The export routes' OpenAPI: a CSV or XLSX file.
EXPORT_FILE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {MEDIA["csv"].split(";")[0]: {}, MEDIA["xlsx"]: {}}, "description": "CSV or XLSX"}
}


async def stream_query(
    sessions: async_sessionmaker[AsyncSession], stmt: Select[Any], to_row: Callable[[RowMapping], Mapping[str, Any]]
) -> AsyncIterator[Mapping[str, Any]]:
    """The query's rows as the JSON list shapes them, read in batches in a session of the export's own.

    The request's session is committed and closed before a streamed body runs, hence a session here.
    """
    async with sessions() as session:
        result = await session.stream(stmt.execution_options(yield_per=YIELD_PER))
        async for row in result.mappings():
            yield to_row(row)


def export_response(
    fmt: FileFormat, columns: Sequence[Column], rows: AsyncIterator[Mapping[str, Any]], *, name: str
) -> StreamingResponse:
    """A streamed download named `<name>.<fmt>`."""
    body = csv_chunks(columns, rows) if fmt == "csv" else xlsx_chunks(columns, rows, sheet=name)
    return StreamingResponse(
        body, media_type=MEDIA[fmt], headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'}
    )
