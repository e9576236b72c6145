"""Async engines and sessions: asyncpg on PostgreSQL (the service's own schema), aiosqlite when embedded."""

from __future__ import annotations

import functools
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

from shared.db.sqlite_writers import install_writer_gate
from shared.privacy.digest import SESSION_KEY, SQLITE_HMAC_FUNCTION, hmac_sha256_hex
from shared.settings import ServiceSettings

# How long a SQLite writer waits for another one: in this process on the writer gate, across processes in SQLite.
SQLITE_BUSY_SECONDS = 30
# A pooled PostgreSQL connection idle longer than this is pinged before use; a busier one is only checked locally.
PING_AFTER_IDLE_SECONDS = 10.0
_RETURNED_AT = "tepat_returned_at"


def create_engine(settings: ServiceSettings) -> AsyncEngine:
    """Build the service's engine; on PostgreSQL every connection is pinned to the service's schema."""
    url = settings.resolved_database_url
    if url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_SECONDS})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        install_writer_gate(engine, timeout=SQLITE_BUSY_SECONDS)
        return engine
    engine = create_async_engine(
        url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_size,
        connect_args={
            "server_settings": {
                "search_path": settings.schema_name,
                "application_name": f"tepat-{settings.service_name}",
            }
        },
    )
    # Instead of pool_pre_ping, which costs three round trips per checkout on asyncpg (BEGIN, ping, ROLLBACK): 7 % of
    # the registry's CPU in a py-spy profile of DCI searches. See `_check_out`.
    event.listen(engine.sync_engine, "checkout", _check_out)
    event.listen(engine.sync_engine, "checkin", _checked_in)
    return engine


def _check_out(dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: PoolProxiedConnection) -> None:
    """Refuse a dead pooled connection so the pool opens a new one (SQLAlchemy retries a checkout that raises
    DisconnectionError): a connection the server closed (a restart, a terminated backend) is known to asyncpg
    without a round trip; one idle for a while gets a real ping, for the drops nobody announces."""
    connection = dbapi_connection._connection  # the asyncpg connection behind SQLAlchemy's adapter
    if connection.is_closed():
        raise exc.DisconnectionError("the server closed this pooled connection")
    returned_at = record.info.get(_RETURNED_AT)
    if returned_at is not None and time.monotonic() - returned_at > PING_AFTER_IDLE_SECONDS:
        try:
            dbapi_connection.ping()
        except Exception as error:
            raise exc.DisconnectionError(f"a pooled connection failed its ping: {error}") from error


def _checked_in(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    record.info[_RETURNED_AT] = time.monotonic()


def _sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    # WAL lets the relay read while a request writes; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_SECONDS * 1000}")
    cursor.close()
    # NIK digests built in SQL (shared/privacy/digest.py): PostgreSQL spells HMAC out with sha256, SQLite calls this.
    dbapi_connection.create_function(SQLITE_HMAC_FUNCTION, 2, hmac_sha256_hex, deterministic=True)


def session_factory(engine: AsyncEngine, settings: ServiceSettings | None = None) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit (responses are built after the commit); with
    `settings`, each session can reach the service's NIK digest key (`shared.privacy.digest.digest_key`)."""
    info = {SESSION_KEY: functools.cache(settings.nik_digest_secret)} if settings is not None else None
    return async_sessionmaker(engine, expire_on_commit=False, info=info)


@asynccontextmanager
async def unit_of_work(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One transaction: committed when the block ends normally, rolled back on error.

    Services never commit; the request or task that owns this scope does.
    """
    async with factory() as session, session.begin():
        yield session
