"""CLI hook of the lapse job: `python -m services.verification.objections.lapse` (cron, ops)."""

from __future__ import annotations

import asyncio

from services.verification.app import definition
from services.verification.objections.service import lapse_overdue
from shared.db.engine import unit_of_work
from shared.runtime.service import ServiceRuntime


async def run() -> int:
    """Lapse overdue objections once; returns how many lapsed."""
    runtime = ServiceRuntime(definition())
    try:
        async with unit_of_work(runtime.sessions) as session:
            return await lapse_overdue(session, outbox=runtime.outbox)
    finally:
        await runtime.engine.dispose()


if __name__ == "__main__":
    print(f"verification: {asyncio.run(run())} objections lapsed")
