"""Keyed digests of NIKs: the one way a NIK crosses a service boundary (registry events, verification's officers).

HMAC-SHA256 under a secret the registry and verification share: equal NIKs give equal digests, so verification can
tell whether an officer is a member of a family without ever holding a member's NIK, and a digest cannot be turned
back into a NIK by hashing the few billion possible NIKs without the key.

The registry builds event payloads both in Python (one family) and in SQL (a bulk import): `digest_sql` is the
same HMAC as SQL on either dialect, so both paths give the same digests (a test compares them).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import LargeBinary, func, literal
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement

SQLITE_HMAC_FUNCTION = "tepat_hmac_sha256_hex"
SESSION_KEY = "nik_digest_key"
DIGEST_PATTERN = r"^[0-9a-f]{64}$"
_BLOCK = 64  # SHA-256's block size: HMAC pads the key to it


def nik_digest(nik: str, key: bytes) -> str:
    """HMAC-SHA256 of a NIK under the shared key, hex."""
    return hmac.new(key, nik.encode(), hashlib.sha256).hexdigest()


def hmac_sha256_hex(key: bytes, value: str | None) -> str | None:
    """The SQLite function behind `digest_sql` (NULL in, NULL out)."""
    return None if value is None else hmac.new(bytes(key), value.encode(), hashlib.sha256).hexdigest()


def _pads(key: bytes) -> tuple[bytes, bytes]:
    block = hashlib.sha256(key).digest() if len(key) > _BLOCK else key
    block = block.ljust(_BLOCK, b"\0")
    return bytes(b ^ 0x36 for b in block), bytes(b ^ 0x5C for b in block)


def digest_sql(session: AsyncSession, nik: Any) -> ColumnElement[Any]:
    """`nik_digest(nik)` as SQL: on PostgreSQL HMAC spelled out with the built-in sha256 (no pgcrypto needed),
    on SQLite the function every connection registers (`shared.db.engine`)."""
    key = digest_key(session)
    if session.bind.dialect.name == "postgresql":
        inner_pad, outer_pad = _pads(key)
        inner = func.sha256(literal(inner_pad, LargeBinary).op("||")(func.convert_to(nik, "UTF8")))
        return func.encode(func.sha256(literal(outer_pad, LargeBinary).op("||")(inner)), "hex")
    sqlite_hmac: ColumnElement[Any] = getattr(func, SQLITE_HMAC_FUNCTION)(literal(key, LargeBinary), nik)
    return sqlite_hmac


def digest_key(session: AsyncSession) -> bytes:
    """The NIK digest key of the service the session belongs to (set by its runtime, see `session_info`)."""
    loader: Callable[[], bytes] | None = session.info.get(SESSION_KEY)
    if loader is None:
        raise RuntimeError("this session has no NIK digest key: build sessions with the service's runtime")
    return loader()


def load_or_create_key(path: Path) -> bytes:
    """A dev key kept in a file, created on first use (the embedded mode and tests; Compose passes the key in)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f"{path.name}.{secrets.token_hex(4)}.tmp")
        draft.write_text(secrets.token_hex(32))
        draft.chmod(0o600)
        try:
            # A hard link fails if the file exists: two services starting together end up with one key.
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    text = path.read_text().strip()
    if not text:
        raise RuntimeError(f"NIK digest key file {path} is empty")
    return text.encode()
