"""Calling a service app over ASGI with its lifespan running, as an authenticated principal."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI

from shared.auth.principal import Role
from shared.auth.tokens import PRIVATE_KEY_NAME, ensure_dev_keys, issue_dev_token


def token(data_dir: Path, role: Role | str, wilayah: str = "13.71", *, subject: str | None = None) -> str:
    """A dev-issuer token for `role` scoped to `wilayah` (keys live in the service's data folder)."""
    ensure_dev_keys(data_dir)
    return issue_dev_token(
        (data_dir / PRIVATE_KEY_NAME).read_bytes(),
        subject=subject or f"{role}-{wilayah}",
        role=role,
        wilayah=wilayah,
    )


def auth(data_dir: Path, role: Role | str, wilayah: str = "13.71", *, subject: str | None = None) -> dict[str, str]:
    """Authorization header for `token`."""
    return {"Authorization": f"Bearer {token(data_dir, role, wilayah, subject=subject)}"}


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Run the app's lifespan (migrations, relay, consumers) and yield a client bound to it."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client
