"""What every service app shares: engine, migrations, relay, consumers, auth, errors, health and metrics."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import MetaData, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from shared.audit.anchor import anchor_from_settings
from shared.audit.chain import AuditLog
from shared.audit.router import audit_router
from shared.auth.permissions import Permission
from shared.auth.tokens import TokenVerifier, VerifiedTokens, load_public_key
from shared.bus.base import Publisher
from shared.bus.kafka import KafkaConsumerRunner, KafkaPublisher
from shared.bus.local import LocalBus
from shared.db.engine import create_engine, session_factory
from shared.db.messaging import MessagingTables
from shared.db.migrations import alembic_config, upgrade_to_head
from shared.events.topics import PROBE
from shared.http.middleware import RequestContextMiddleware
from shared.http.problems import install_problem_handlers, problem_response
from shared.http.security import require
from shared.inbox.consumer import BatchHandler, EventConsumer, Handler
from shared.observability.health import TaskHealth
from shared.observability.logging import configure_logging
from shared.outbox.relay import OutboxRelay
from shared.outbox.writer import OutboxWriter
from shared.runtime.jobs import audit_checkpoint_job, jobs_router, outbox_health_job
from shared.runtime.probe import PROBE_EVENT, probe_handler, probe_router
from shared.runtime.retry import Backoff
from shared.runtime.scheduler import Job, Scheduler
from shared.settings import ServiceSettings

log = logging.getLogger(__name__)
# How long stop() lets the scheduler finish its job in flight before cancelling it.
SCHEDULER_GRACE_S = 5.0


@dataclass
class ServiceDefinition:
    """Everything that makes one service different from another."""

    settings: ServiceSettings
    title: str
    description: str
    metadata: MetaData
    messaging: MessagingTables
    migrations: Path
    routers: Sequence[APIRouter] = ()
    handlers: Mapping[str, Handler | BatchHandler] = field(default_factory=dict)
    topics: Sequence[str] = ()
    # Periodic jobs of the service (shared/runtime/scheduler.py); every service also runs `outbox-health`
    # and `audit-checkpoint`.
    jobs: Sequence[Job] = ()


class ServiceRuntime:
    """The live parts of a service: database, outbox, relay and consumer."""

    def __init__(self, definition: ServiceDefinition, *, bus: LocalBus | None = None) -> None:
        self.definition = definition
        self.settings = definition.settings
        self.engine: AsyncEngine = create_engine(self.settings)
        self.sessions: async_sessionmaker[AsyncSession] = session_factory(self.engine, self.settings)
        self.outbox = OutboxWriter(source=self.settings.service_name, table=definition.messaging.outbox)
        self.audit = AuditLog(definition.messaging.audit_log, anchor_from_settings(self.settings))
        self.local_bus = bus if bus is not None else (LocalBus() if self.settings.bus == "local" else None)
        self.publisher: Publisher | None = None
        self.relay: OutboxRelay | None = None
        self.consumer: EventConsumer | None = None
        self.runner: KafkaConsumerRunner | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        self.scheduler = Scheduler(
            service=self.settings.service_name,
            engine=self.engine,
            sessions=self.sessions,
            outbox=self.outbox,
            settings=self.settings,
            table=definition.messaging.job_run,
            jobs=(
                outbox_health_job(definition.messaging),
                *((audit_checkpoint_job(self.audit),) if self.audit.anchor is not None else ()),
                *definition.jobs,
            ),
        )
        self.scheduling = False

    async def migrate(self) -> None:
        """Bring the service's schema to the newest migration."""
        d = self.definition
        schema = self.settings.schema_name if self.settings.is_postgres else None
        await upgrade_to_head(self.engine, alembic_config(d.migrations, metadata=d.metadata, schema=schema))

    def make_consumer(self) -> EventConsumer | None:
        """The service's event consumer, if it consumes anything."""
        d = self.definition
        handlers: dict[str, Handler | BatchHandler] = {
            **d.handlers,
            PROBE_EVENT: probe_handler(d.messaging.probe_receipt),
        }
        return EventConsumer(
            service=self.settings.service_name,
            sessions=self.sessions,
            inbox=d.messaging.inbox,
            dead_letter=d.messaging.dead_letter,
            handlers=handlers,
            topics=(*d.topics, PROBE),
            max_retries=self.settings.consumer_max_retries,
            retry_backoff_ms=self.settings.consumer_retry_backoff_ms,
        )

    async def start_workers(self, *, relay: bool = True, consume: bool = True, schedule: bool = True) -> None:
        """Start the relay, the consumer (Kafka runner, or a subscription on the local bus) and the scheduler."""
        s = self.settings
        if self.local_bus is not None:
            self.publisher = self.local_bus
        else:
            kafka = KafkaPublisher(s.kafka_bootstrap, client_id=f"{s.service_name}-relay")
            await kafka.start()
            self.publisher = kafka
        if relay:
            self.relay = OutboxRelay(
                source=s.service_name,
                engine=self.engine,
                table=self.definition.messaging.outbox,
                publisher=self.publisher,
                batch_size=s.relay_batch_size,
                poll_interval_s=s.relay_poll_interval_ms / 1000,
            )
            self._spawn(self.relay.run, "relay", self.relay.health)
        self.consumer = self.make_consumer() if consume else None
        if self.consumer is not None:
            if self.local_bus is not None:
                self.local_bus.subscribe(self.consumer)
            else:
                group = s.consumer_group or s.service_name
                self.runner = KafkaConsumerRunner(self.consumer, bootstrap=s.kafka_bootstrap, group_id=group)
                await self.runner.start()
                self._spawn(self.runner.run, "consumer", self.consumer.health)
        if schedule:
            self.scheduling = True
            self._spawn(self.scheduler.run, "scheduler", self.scheduler.health)

    def _spawn(self, run: Callable[[], Coroutine[Any, Any, None]], name: str, health: TaskHealth) -> None:
        task = asyncio.create_task(self._supervise(run, name, health), name=f"{self.settings.service_name}-{name}")
        task.add_done_callback(_log_crash)
        self._tasks.append(task)

    async def _supervise(self, run: Callable[[], Coroutine[Any, Any, None]], name: str, health: TaskHealth) -> None:
        """Run a background task for as long as the runtime lives: one that ends unexpectedly starts again."""
        backoff = Backoff(first=0.5, cap=30.0)
        while True:
            try:
                await run()
                error = "ended without being stopped"
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"
                log.exception("worker %s-%s crashed; restarting", self.settings.service_name, name)
            if self._stopping:
                health.stopped()
                return
            health.restarted(error)
            await backoff.wait()

    def task_health(self) -> list[TaskHealth]:
        """Liveness of this runtime's background tasks."""
        found = [
            self.relay.health if self.relay else None,
            self.consumer.health if self.consumer else None,
            self.scheduler.health if self.scheduling else None,
        ]
        return [h for h in found if h is not None]

    async def stop(self) -> None:
        """Stop workers and release connections."""
        self._stopping = True
        self.scheduler.stop()
        if self.relay is not None:
            self.relay.stop()
        if self.runner is not None:
            await self.runner.stop()
        if self.consumer is not None and self.local_bus is not None:
            # Waits for a batch another service's relay is applying in this consumer (up to the grace period).
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.local_bus.unsubscribe(self.consumer), timeout=SCHEDULER_GRACE_S)
        # The scheduler ends by itself after the job in flight, the relay after the batch in flight (in embedded
        # mode that batch runs the local consumers): cancelling either mid-transaction would leave its database
        # connection to the garbage collector, so they get a moment to finish first.
        finishing = [t for t in self._tasks if t.get_name().endswith(("-scheduler", "-relay")) and not t.done()]
        if finishing:
            await asyncio.wait(finishing, timeout=SCHEDULER_GRACE_S)
        for task in self._tasks:
            if not task.done():
                task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        if isinstance(self.publisher, KafkaPublisher):
            await self.publisher.stop()
        await self.engine.dispose()

    async def database_ready(self) -> bool:
        """True when the database answers."""
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:
            return False
        return True


def _log_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("worker %s stopped", task.get_name(), exc_info=task.exception())


def token_verifier(settings: ServiceSettings) -> VerifiedTokens:
    """The verifier a service uses to check the same token the gateway checked (a token verified once is not
    checked again until it expires, as in the gateway)."""
    key = None
    if not settings.auth_jwks_url and settings.public_key_path.exists():
        key = load_public_key(settings.public_key_path)
    return VerifiedTokens(
        TokenVerifier(
            issuer=settings.auth_issuer,
            audience=settings.auth_audience,
            public_key=key,
            jwks_url=settings.auth_jwks_url,
        )
    )


def build_service_app(definition: ServiceDefinition, *, bus: LocalBus | None = None) -> FastAPI:
    """The app factory body every service uses."""
    settings = definition.settings
    configure_logging(settings.log_level, json_lines=settings.log_json)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = ServiceRuntime(definition, bus=bus)
        app.state.runtime = runtime
        app.state.token_verifier = token_verifier(settings)
        try:
            if settings.auto_migrate if settings.auto_migrate is not None else not settings.is_postgres:
                await runtime.migrate()
            if settings.run_workers:
                await runtime.start_workers()
            yield
        finally:
            await runtime.stop()

    app = FastAPI(
        title=definition.title,
        description=definition.description,
        version="1.0.0",
        lifespan=lifespan,
    )
    app.add_middleware(RequestContextMiddleware, service=settings.service_name)
    install_problem_handlers(app)
    app.include_router(health_router(settings.service_name))
    app.include_router(probe_router(definition.messaging))
    app.include_router(jobs_router())
    app.include_router(audit_router(AuditLog(definition.messaging.audit_log)))
    for router in definition.routers:
        app.include_router(router)
    return app


def health_router(service: str) -> APIRouter:
    """/healthz (alive), /readyz (database and bus reachable), /metrics (Prometheus, role system)."""
    router = APIRouter(tags=["ops"])

    @router.get("/healthz", summary="Liveness")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": service}

    @router.get("/readyz", summary="Readiness: database and bus reachable")
    async def readyz(request: Request) -> Response:
        runtime: ServiceRuntime | None = getattr(request.app.state, "runtime", None)
        checks = {"database": False, "bus": False}
        if runtime is not None:
            checks["database"] = await runtime.database_ready()
            if runtime.publisher is None and not runtime.settings.run_workers:
                # A web-only instance (workers run in `tepat relay|consume|worker` processes) writes events to
                # its outbox in the database and never talks to the bus: the database alone makes it ready.
                del checks["bus"]
            else:
                checks["bus"] = runtime.publisher is not None and await runtime.publisher.ping()
        if all(checks.values()):
            return JSONResponse({"status": "ready", "service": service, "checks": checks})
        return problem_response(503, "Service not ready", code="not_ready", service=service, checks=checks)

    # Not public: only the system role (a Prometheus scraping with a client-credentials token) reads them.
    @router.get(
        "/metrics",
        summary="Prometheus metrics",
        include_in_schema=False,
        dependencies=[Depends(require(Permission.OPERATE))],
    )
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router
