"""The raw baseline of `bench/dci_search.py`: the same two hops with nothing of Tepat in them.

A bare ASGI "registry" reads the same signed search body, takes the NIK out of it and runs one asyncpg SELECT on
the registry's own member table in the same database; a bare ASGI "gateway" forwards the body to it over one
httpcore connection pool. Both run under the same uvicorn (uvloop, httptools) as Tepat's services, on the same
machine, in the same run, at the same arrival rate. What Tepat adds on top (token, partner, signature, schema
check, scope, field cut, transaction row, access rows, audit chain, and the frameworks) is the difference.

    .venv/bin/python -m uvicorn --factory bench.raw_search:registry_app   (env RAW_DATABASE_URL, RAW_SCHEMA)
    .venv/bin/python -m uvicorn --factory bench.raw_search:gateway_app    (env RAW_UPSTREAM)
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import asyncpg
import httpcore

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

_SELECT = "SELECT id, family_id, name, birth_date FROM member WHERE nik = $1 AND active"


async def _body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _answer(send: Send, status: int, body: bytes) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _nothing() -> None:
    return None


async def _lifespan(
    receive: Receive, send: Send, start: Callable[[], Awaitable[None]], stop: Callable[[], Awaitable[None]]
) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await start()
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await stop()
            await send({"type": "lifespan.shutdown.complete"})
            return


def registry_app() -> App:
    """One SELECT by the NIK in the search body, its row as JSON (uvicorn factory)."""
    url = os.environ["RAW_DATABASE_URL"]
    schema = os.environ.get("RAW_SCHEMA", "registry")
    pool: list[asyncpg.Pool] = []

    async def start() -> None:
        pool.append(await asyncpg.create_pool(url, min_size=4, max_size=10, server_settings={"search_path": schema}))

    async def stop() -> None:
        await pool[0].close()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send, start, stop)
            return
        if scope["method"] != "POST":
            await _answer(send, 200, b"{}")  # readiness
            return
        body = json.loads(await _body(receive))
        nik = body["message"]["search_request"][0]["search_criteria"]["query"]["value"]
        row = await pool[0].fetchrow(_SELECT, nik)
        records = [] if row is None else [{**dict(row), "birth_date": str(row["birth_date"])}]
        await _answer(send, 200, json.dumps({"records": records}).encode())

    return app


def gateway_app() -> App:
    """Forward every request's body to RAW_UPSTREAM on kept-alive connections (uvicorn factory)."""
    upstream = os.environ["RAW_UPSTREAM"]
    http = httpcore.AsyncConnectionPool(max_connections=32)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send, _nothing, http.aclose)
            return
        if scope["method"] != "POST":
            await _answer(send, 200, b"{}")
            return
        body = await _body(receive)
        headers = [(b"content-type", b"application/json")]
        response = await http.request("POST", upstream + scope["path"], headers=headers, content=body)
        await _answer(send, response.status, response.content)

    return app
