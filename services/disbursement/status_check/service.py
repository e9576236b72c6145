"""The status check's payment answer: line statuses folded into the few a citizen is told."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.disbursement.status_check.repository import current_lines
from services.disbursement.status_check.schemas import PaymentsIn
from shared.status_check import ProgrammeStatus, StatusAnswer

# Treasury steps (SPM, SP2D) mean nothing to a citizen: before the payer it is "scheduled"; returned and
# disputed lines are in the office's hands, which the citizen hears as "on hold".
PUBLIC_STATUS = {
    "planned": "scheduled",
    "spm": "scheduled",
    "sp2d": "scheduled",
    "at_payer": "at_payer",
    "paid": "paid",
    "recovered": "paid",
    "failed": "failed",
    "returned": "on_hold",
    "disputed": "on_hold",
    "on_hold": "on_hold",
}


def public_status(line_status: str) -> str:
    """The status a citizen sees for a line status."""
    return PUBLIC_STATUS.get(line_status, "on_hold")


async def payments(session: AsyncSession, *, query: PaymentsIn) -> StatusAnswer:
    """The families' programmes in each programme's current tahap."""
    if not query.household_ids:
        return StatusAnswer(programmes=[])
    rows = await current_lines(session, query.household_ids)
    return StatusAnswer(
        programmes=[
            ProgrammeStatus(
                programme_code=r["programme_code"], tahap=r["label"], payment_status=public_status(r["status"])
            )
            for r in rows
        ]
    )
