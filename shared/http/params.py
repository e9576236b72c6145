"""Request parameters shared by every service's routes, bounded at the edge so no input can overflow a column."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

# Ids are BIGINT (PostgreSQL) / INTEGER (SQLite, 64-bit): a larger number can name no row, so it is a 422, not a 500.
MAX_ID = 2**63 - 1

RecordId = Annotated[int, Path(ge=1, le=MAX_ID, description="A record's numeric id.")]

# A kota, kecamatan or kelurahan code as a filter (13.71, 13.71.01, 13.71.01.1001).
WILAYAH_FILTER = r"^\d{2}\.\d{2}(\.\d{2}(\.\d{4})?)?$"
# Free-text filters: printable only (PostgreSQL refuses NUL in text; control characters name nothing).
PRINTABLE = r"^[^\x00-\x1f\x7f]*$"

WilayahFilter = Annotated[str | None, Query(pattern=WILAYAH_FILTER, description="a kota, kecamatan or kelurahan code")]
TextFilter = Annotated[str | None, Query(max_length=100, pattern=PRINTABLE)]
# A string id in a path (uuid, household id): bounded and printable, so it can only fail to match, never break a query.
PathText = Annotated[str, Path(max_length=100, pattern=PRINTABLE)]
# Free text in bodies (notes, reasons, comments): anything but NUL, which PostgreSQL cannot store in text.
NO_NUL = r"^[^\x00]*$"
