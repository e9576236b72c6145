"""Service runtimes and event helpers for messaging tests."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from typing import Any

from sqlalchemy import func, select

from services.verification.households.models import Household
from shared.events.household import DataStatus, HouseholdEventType, HouseholdState
from shared.events.topics import REGISTRY_HOUSEHOLD
from shared.runtime.service import ServiceRuntime
from tests.support.infra import REPO


def household_state(household_id: str, *, status: DataStatus = DataStatus.ACTIVE, desil: int = 3) -> HouseholdState:
    """A valid PII-free household payload in Padang Selatan."""
    return HouseholdState(
        household_id=household_id,
        kecamatan_code="13.71.01",
        kelurahan_code="13.71.01.1001",
        data_status=status,
        desil=desil,
        desil_period="2026-Q3",
    )


async def emit_household(runtime: ServiceRuntime, household_id: str, version: int, **state: Any) -> uuid.UUID:
    """Write one household event into the registry's outbox, as the registry itself does."""
    async with runtime.sessions() as session, session.begin():
        return await runtime.outbox.add(
            session,
            topic=REGISTRY_HOUSEHOLD,
            event_type=HouseholdEventType.UPDATED if version > 1 else HouseholdEventType.REGISTERED,
            subject=household_id,
            aggregate_version=version,
            data=household_state(household_id, **state),
        )


async def count_households(runtime: ServiceRuntime, ids: list[str]) -> int:
    """How many of these families verification's read model holds."""
    async with runtime.sessions() as session:
        stmt = select(func.count()).select_from(Household).where(Household.household_id.in_(ids))  # type: ignore[attr-defined]
        return int((await session.execute(stmt)).scalar_one())


async def receipts(runtime: ServiceRuntime) -> dict[str, int]:
    """Probe receipts per event id (more than 1 would be a duplicate effect)."""
    t = runtime.definition.messaging.probe_receipt
    async with runtime.sessions() as session:
        rows = (await session.execute(select(t.c.event_id, func.count()).group_by(t.c.event_id))).all()
    return {r[0]: int(r[1]) for r in rows}


async def unpublished(runtime: ServiceRuntime) -> int:
    """Outbox rows not yet marked published."""
    t = runtime.definition.messaging.outbox
    async with runtime.sessions() as session:
        stmt = select(func.count()).select_from(t).where(t.c.published_at.is_(None))
        return int((await session.execute(stmt)).scalar_one())


def service_env(service: str, settings: Any) -> dict[str, str]:
    """The environment of a `tepat` process of `service` configured like `settings` (no other TEPAT_ variable)."""
    prefix = f"TEPAT_{service.upper()}_"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEPAT_")}
    env.update(
        {
            prefix + "DATABASE_URL": settings.resolved_database_url,
            prefix + "BUS": settings.bus,
            prefix + "KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
            prefix + "CONSUMER_GROUP": settings.consumer_group or service,
            prefix + "RELAY_POLL_INTERVAL_MS": str(settings.relay_poll_interval_ms),
            prefix + "DATA_DIR": str(settings.data_dir),
            prefix + "LOG_JSON": "false",
        }
    )
    return env


def spawn_worker(
    command: str, service: str, settings: Any, *, failpoints: str = "", health_port: int = 0
) -> subprocess.Popen[bytes]:
    """Run `tepat <command> <service>` as a separate OS process configured like `settings`.

    Its output goes to a log file in the service's data folder, read back when a test fails."""
    env = service_env(service, settings) | {"TEPAT_FAILPOINTS": failpoints}
    log_path = settings.data_dir / f"{command}-{service}-{uuid.uuid4().hex[:6]}.log"
    with log_path.open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "services.cli", command, service, "--health-port", str(health_port)],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def terminate(proc: subprocess.Popen[bytes], *, timeout: float = 30) -> int:
    """SIGTERM a spawned process and wait for its exit status. One still running after `timeout` is killed, so it
    cannot outlive its test (its Popen would raise ResourceWarning in a later one), and fails the test."""
    proc.terminate()
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise AssertionError(f"{proc.args!r} was still running {timeout:.0f}s after SIGTERM") from None
