"""Column types shared by the services' tables."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.types import TypeEngine


def IdText(length: int) -> TypeEngine[str]:
    """An identifier column (uuid, NIK, No. KK): byte-ordered (COLLATE "C") on PostgreSQL.

    Identifiers have no linguistic order, and PostgreSQL only sorts text with abbreviated keys under the C
    collation: index builds, joins and window sorts over a city's NIKs run 2-3x faster than under C.UTF-8."""
    return String(length).with_variant(String(length, collation="C"), "postgresql")
