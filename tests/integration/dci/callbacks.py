"""What the async DCI tests share: a registry whose callbacks may reach 127.0.0.1, one run of the DCI job at a
chosen time, the callback rows, and checks of a received callback (Tepat's signature, the spec's schema)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select

from services.registry.app import create_app
from services.registry.dci import spec
from services.registry.dci.async_requests import answer_pending
from services.registry.dci.delivery import Policy, Signer, deliver_due
from services.registry.dci.models import dci_callback
from services.registry.dci.service import RECEIVER_ID
from services.registry.dci.signature import parse, verify
from services.registry.domain.identifiers import today_wib
from services.registry.settings import RegistrySettings
from tests.integration.registry.conftest import Registry
from tests.support.api import running

SEARCH_ANSWER = "#/paths/~1registry~1sync~1search/post/responses/default/content/application~1json/schema"
ASYNC = "/dci/social/registry"


def callback_settings(pg_settings: Any, **overrides: Any) -> RegistrySettings:
    """Registry settings for these tests: callbacks may reach 127.0.0.1, short timeouts, four attempts."""
    values: dict[str, Any] = {
        "auto_migrate": True,
        "run_workers": False,
        "dci_callback_allowed_addresses": ["127.0.0.1"],
        "dci_callback_timeout_s": 5.0,
        "dci_callback_max_attempts": 4,
        "dci_callback_backoff_s": 10.0,
        "dci_callback_backoff_cap_s": 25.0,
    }
    values.update(overrides)
    settings: RegistrySettings = pg_settings(RegistrySettings, **values)
    return settings


@pytest.fixture
async def dci_registry(pg_settings: Any) -> AsyncIterator[Registry]:
    """The registry on PostgreSQL, without background workers (the tests run the DCI job themselves)."""
    settings = callback_settings(pg_settings)
    app = create_app(settings)
    async with running(app) as client:
        yield Registry(client, app.state.runtime, settings.data_dir)


def settings_of(registry: Registry) -> RegistrySettings:
    """The registry's settings."""
    settings = registry.runtime.settings
    assert isinstance(settings, RegistrySettings)
    return settings


async def run_dci_job(registry: Registry, now: datetime, policy: Policy | None = None) -> dict[str, int]:
    """One run of the `dci-callbacks` job at `now` (async searches answered, due callbacks sent)."""
    settings = settings_of(registry)
    async with registry.runtime.sessions() as session, session.begin():
        answered = await answer_pending(session, now=now, today=today_wib())
    counts = await deliver_due(
        registry.runtime.sessions,
        policy=policy or Policy.from_settings(settings),
        signer=Signer(settings),
        now=now,
    )
    return {"answered": answered, **counts}


async def callback_rows(registry: Registry, **where: Any) -> list[dict[str, Any]]:
    """The callback rows (optionally filtered by column values), oldest first."""
    stmt = select(dci_callback).order_by(dci_callback.c.id)
    for name, value in where.items():
        stmt = stmt.where(dci_callback.c[name] == value)
    async with registry.runtime.sessions() as session:
        return [dict(r) for r in (await session.execute(stmt)).mappings()]


def check_callback(registry: Registry, body: dict[str, Any], action: str, message_schema: str | None) -> None:
    """A received callback is signed with Tepat's key and follows the spec."""
    signer = Signer(settings_of(registry))
    header = body["header"]
    verify(
        body.get("signature"),
        public_key_pem=signer.public_pem(),
        sender_id=RECEIVER_ID,
        header=header,
        message=body.get("message", {}),
        now=parse(body.get("signature")).created,
    )
    assert header["action"] == action
    if action == "on-search":
        assert spec.problems(spec.validator(SEARCH_ANSWER), body) == []
    else:
        assert message_schema is not None
        assert spec.problems(spec.envelope_validator(action, message_schema, callback=True), body) == []


def check_ack(answer: dict[str, Any]) -> str:
    """An ACK as the spec's Response; its correlation id."""
    assert spec.problems(spec.validator(spec.ACK_RESPONSE), answer) == []
    assert answer["message"]["ack_status"] == "ACK"
    correlation_id: str = answer["message"]["correlation_id"]
    return correlation_id
