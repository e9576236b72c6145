"""FastAPI dependencies of a service: its runtime and the request's database transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from shared.runtime.service import ServiceRuntime


def get_runtime(request: Request) -> ServiceRuntime:
    """The runtime of the service serving this request."""
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request: committed after the endpoint returns, before the response is sent."""
    async with get_runtime(request).sessions() as session, session.begin():
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
RuntimeDep = Annotated[ServiceRuntime, Depends(get_runtime)]
