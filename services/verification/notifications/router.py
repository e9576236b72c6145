"""HTTP API of notifications: a family's contact and opt-out, the delivery log, dead-letter retry."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from services.verification.notifications import service
from services.verification.notifications.schemas import ContactIn, ContactOut, DeliveryPage, RetryOut
from shared.auth.permissions import Permission
from shared.auth.principal import Principal
from shared.http.security import require
from shared.runtime.dependencies import SessionDep

router = APIRouter(tags=["notifications"])

ContactKeeper = Annotated[Principal, Depends(require(Permission.MANAGE_CONTACTS))]
Operator = Annotated[Principal, Depends(require(Permission.OPERATE))]


@router.put("/notifications/contacts/{household_id}", response_model=ContactOut, summary="Set a family's contact")
async def put_contact(household_id: str, body: ContactIn, session: SessionDep, principal: ContactKeeper) -> ContactOut:
    """Phone (SMS/WhatsApp) and/or e-mail of the family's recipient, and its opt-out (`opted_out: true` stops every
    notification, queued ones included). Kept in verification only, never in events."""
    return await service.set_family_contact(session, principal=principal, household_id=household_id, contact=body)


@router.get("/notifications/contacts/{household_id}", response_model=ContactOut, summary="A family's contact")
async def get_contact(household_id: str, session: SessionDep, principal: ContactKeeper) -> ContactOut:
    """The contact with its addresses masked."""
    return await service.family_contact(session, principal=principal, household_id=household_id)


@router.get("/notifications/deliveries", response_model=DeliveryPage, summary="Notification deliveries")
async def deliveries(
    session: SessionDep,
    principal: Operator,
    recipient_id: Annotated[str | None, Query(max_length=100)] = None,
    status: Annotated[str | None, Query(pattern="^(pending|sent|skipped|dead)$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> DeliveryPage:
    """The notification outbox, newest first (status `dead`: the dead letters)."""
    return await service.deliveries(session, recipient_id=recipient_id, status=status, limit=limit)


@router.post("/notifications/deliveries/retry-dead", response_model=RetryOut, summary="Retry dead notifications")
async def retry_dead(
    session: SessionDep, principal: Operator, delivery_id: Annotated[int | None, Query(ge=1)] = None
) -> RetryOut:
    """Put one dead notification (or all) back in the queue with a fresh attempt count."""
    return RetryOut(requeued=await service.retry_dead(session, delivery_id=delivery_id))
