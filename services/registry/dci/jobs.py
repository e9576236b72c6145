"""The registry's DCI job: answer stored async searches, then deliver due callbacks (see delivery.py)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from services.registry.dci.async_requests import answer_pending
from services.registry.dci.delivery import Policy, Signer, deliver_due
from services.registry.domain.identifiers import today_wib
from services.registry.settings import RegistrySettings
from shared.runtime.scheduler import Job, JobContext


async def dci_callbacks(ctx: JobContext) -> Mapping[str, int]:
    """Answer every pending async search and send every due callback once (retries wait for their backoff)."""
    settings = ctx.settings if isinstance(ctx.settings, RegistrySettings) else RegistrySettings()
    async with ctx.sessions() as session, session.begin():
        answered = await answer_pending(session, now=ctx.now, today=today_wib())
    counts = await deliver_due(
        ctx.sessions, policy=Policy.from_settings(settings), signer=Signer(settings), now=ctx.now
    )
    return {"searches_answered": answered, **counts}


# Due at every scheduler tick: the backoff lives in each callback's next_attempt_at, not in the job's period.
JOBS = (Job("dci-callbacks", timedelta(seconds=1), dci_callbacks, "answer async DCI searches, deliver callbacks"),)
