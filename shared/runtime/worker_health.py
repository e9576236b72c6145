"""The small HTTP endpoint of `tepat relay|consume|worker` processes: each task's liveness and lag, and metrics."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from shared.events.envelope import utcnow
from shared.runtime.jobs import outbox_lag
from shared.runtime.service import ServiceRuntime


async def relay_lag(runtime: ServiceRuntime) -> dict[str, int | None]:
    """Unpublished outbox rows and the oldest one's age (None when the database is unreachable)."""
    try:
        count, age = await asyncio.wait_for(
            outbox_lag(
                runtime.sessions,
                runtime.definition.messaging.outbox,
                service=runtime.settings.service_name,
                now=utcnow(),
            ),
            5,
        )
    except Exception:
        return {"unpublished": None, "oldest_seconds": None}
    return {"unpublished": count, "oldest_seconds": age}


async def worker_status(runtime: ServiceRuntime) -> tuple[bool, dict[str, object]]:
    """(every task alive, the JSON body of /healthz)."""
    tasks: dict[str, dict[str, object]] = {}
    if runtime.relay is not None:
        tasks["relay"] = {
            **runtime.relay.health.as_dict(),
            "leader": runtime.relay.is_leader,
            "lag": await relay_lag(runtime),
        }
    if runtime.consumer is not None:
        tasks["consumer"] = {
            **runtime.consumer.health.as_dict(),
            "lag": runtime.runner.lag() if runtime.runner is not None else 0,
        }
    alive = all(h.alive for h in runtime.task_health())
    return alive, {"service": runtime.settings.service_name, "status": "ok" if alive else "failing", "tasks": tasks}


def worker_health_app(runtime: ServiceRuntime) -> Starlette:
    """/healthz (200 while every task is alive, else 503, with each task's state and lag) and /metrics."""

    async def healthz(_request: Request) -> Response:
        alive, body = await worker_status(runtime)
        return JSONResponse(body, status_code=200 if alive else 503)

    async def metrics(_request: Request) -> Response:
        if runtime.relay is not None:
            await relay_lag(runtime)
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return Starlette(routes=[Route("/healthz", healthz), Route("/metrics", metrics)])


def health_server(runtime: ServiceRuntime, host: str, port: int) -> uvicorn.Server:
    """A uvicorn server for the worker's health app, to run as a task next to the workers."""
    config = uvicorn.Config(worker_health_app(runtime), host=host, port=port, log_level="warning", access_log=False)
    return _QuietServer(config)


class _QuietServer(uvicorn.Server):
    """A uvicorn server that leaves SIGINT/SIGTERM to the worker, which stops it along with its tasks."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """Install no signal handlers."""
        yield
