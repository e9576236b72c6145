"""Notification orchestration: queue a templated message per channel of a recipient, send what is due."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.verification.households.models import Household
from services.verification.notifications import repository as repo
from services.verification.notifications.providers import (
    LogProvider,
    Message,
    Provider,
    ProviderError,
    SmtpProvider,
    WebhookProvider,
    mask_address,
)
from services.verification.notifications.rules import (
    OFFICER_TEXT,
    NotificationTemplate,
    in_quiet_hours,
    render,
    retry_delay,
)
from services.verification.notifications.schemas import ContactIn, ContactOut, DeliveryOut, DeliveryPage
from services.verification.scope import not_found
from services.verification.settings import VerificationSettings
from shared.auth.principal import Principal
from shared.auth.scope import ensure_covers
from shared.events.envelope import utcnow

SMS, EMAIL = "sms", "email"


def channels(contact: RowMapping, settings: VerificationSettings) -> list[str]:
    """The channels a contact can be reached on with the providers configured."""
    out = []
    if contact["phone"] and settings.notify_sms_provider != "off":
        out.append(SMS)
    if contact["email"] and settings.notify_email_provider != "off":
        out.append(EMAIL)
    return out


async def notify(
    session: AsyncSession,
    *,
    settings: VerificationSettings,
    event_id: str,
    recipient_id: str,
    template: NotificationTemplate,
    values: dict[str, str],
) -> int:
    """Queue the message of one event for one recipient on each of their channels (none if opted out or unknown).

    Runs in the caller's transaction (the consumer's, with the inbox row), and the delivery's unique key absorbs a
    replay, so one event gives one notification per recipient and channel however often it arrives."""
    contact = await repo.get_contact(session, recipient_id)
    if contact is None or contact["opted_out"]:
        return 0
    message = render(template, values)
    now = utcnow()
    rows = [
        {
            "event_id": event_id,
            "recipient_id": recipient_id,
            "channel": channel,
            "template": template.value,
            "subject": message.subject,
            "body": message.body,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for channel in channels(contact, settings)
    ]
    return await repo.enqueue(session, rows)


async def tell_complainant(
    session: AsyncSession, *, settings: VerificationSettings, reference: str, category: str, phone: str, closed: bool
) -> int:
    """Queue 'complaint received' (or, once closed, 'handled') for a complainant who left a mobile number.

    Called by the complaints feature in its own transaction: the complaint and its message commit together, and
    the delivery key (reference + template) keeps a retried request to one message."""
    if await repo.get_contact(session, reference) is None:
        try:
            contact = ContactIn(phone=phone)
        except ValidationError:
            # A number no SMS gateway can reach (a landline, a typo): the complaint stands, no message.
            return 0
        await remember_contact(session, recipient_id=reference, contact=contact, updated_by="complaints")
    template = NotificationTemplate.COMPLAINT_RESOLVED if closed else NotificationTemplate.COMPLAINT_RECEIVED
    return await notify(
        session,
        settings=settings,
        event_id=f"complaint:{reference}:{template.value}",
        recipient_id=reference,
        template=template,
        values={"reference": reference, "category": category},
    )


async def remember_contact(
    session: AsyncSession, *, recipient_id: str, contact: ContactIn, updated_by: str
) -> RowMapping:
    """Store a recipient's contact (a family's by household id, a complainant's by complaint reference)."""
    await repo.upsert_contact(
        session,
        {
            "recipient_id": recipient_id,
            "phone": contact.phone,
            "email": contact.email,
            "opted_out": contact.opted_out,
            "updated_by": updated_by,
            "updated_at": utcnow(),
        },
    )
    saved = await repo.get_contact(session, recipient_id)
    assert saved is not None
    return saved


async def _family_in_scope(session: AsyncSession, principal: Principal, household_id: str) -> None:
    family = await session.get(Household, household_id)
    if family is None:
        raise not_found("family", household_id)
    ensure_covers(principal, family.kelurahan_code, what="family")


async def set_family_contact(
    session: AsyncSession, *, principal: Principal, household_id: str, contact: ContactIn
) -> ContactOut:
    """Record a family's phone / e-mail and opt-out, within the caller's wilayah."""
    await _family_in_scope(session, principal, household_id)
    saved = await remember_contact(session, recipient_id=household_id, contact=contact, updated_by=principal.subject)
    return contact_out(saved)


async def family_contact(session: AsyncSession, *, principal: Principal, household_id: str) -> ContactOut:
    """A family's contact, masked."""
    await _family_in_scope(session, principal, household_id)
    saved = await repo.get_contact(session, household_id)
    if saved is None:
        raise not_found("contact", household_id)
    return contact_out(saved)


def contact_out(row: RowMapping) -> ContactOut:
    """The API view of a contact."""
    return ContactOut(
        recipient_id=row["recipient_id"],
        phone=mask_address(row["phone"]) if row["phone"] else None,
        email=mask_address(row["email"]) if row["email"] else None,
        opted_out=row["opted_out"],
        updated_by=row["updated_by"],
        updated_at=row["updated_at"],
    )


def build_providers(settings: VerificationSettings) -> dict[str, Provider]:
    """The provider of each channel, from the settings."""
    providers: dict[str, Provider] = {}
    if settings.notify_sms_provider == "webhook":
        assert settings.notify_webhook_url is not None  # both checked by the settings
        assert settings.notify_webhook_secret is not None
        providers[SMS] = WebhookProvider(settings.notify_webhook_url, settings.notify_webhook_secret.get_secret_value())
    elif settings.notify_sms_provider == "log":
        providers[SMS] = LogProvider()
    if settings.notify_email_provider == "smtp":
        password = settings.notify_smtp_password
        providers[EMAIL] = SmtpProvider(
            settings.notify_smtp_host,
            settings.notify_smtp_port,
            settings.notify_smtp_sender,
            username=settings.notify_smtp_username,
            password=password.get_secret_value() if password else None,
            starttls=settings.notify_smtp_starttls,
        )
    elif settings.notify_email_provider == "log":
        providers[EMAIL] = LogProvider()
    return providers


async def announce_planned_visits(session: AsyncSession, *, settings: VerificationSettings, limit: int) -> int:
    """Queue a 'visit planned' message for each newly assigned ground check of a family with a contact."""
    queued = 0
    for visit in await repo.planned_visits_to_announce(session, limit=limit):
        due = visit["due_at"]
        queued += await notify(
            session,
            settings=settings,
            event_id=visit["event_id"],
            recipient_id=visit["household_id"],
            template=NotificationTemplate.VISIT_PLANNED,
            values={
                "officer": OFFICER_TEXT.get(visit["assigned_role"] or "", "verifikasi"),
                "due": due.strftime("%d-%m-%Y") if isinstance(due, datetime) else str(due)[:10],
            },
        )
    return queued


async def send_due(
    sessions: async_sessionmaker[AsyncSession],
    *,
    settings: VerificationSettings,
    providers: Mapping[str, Provider],
    now: datetime,
) -> dict[str, int]:
    """Send the pending notifications whose time has come (none in quiet hours); each outcome commits alone, so a
    crash loses at most the record of one send, and the Idempotency-Key lets the gateway drop that repeat."""
    counts = {"sent": 0, "retried": 0, "dead": 0, "skipped": 0, "quiet": 0}
    if in_quiet_hours(now, settings.notify_quiet_start_hour, settings.notify_quiet_end_hour):
        counts["quiet"] = 1
        return counts
    async with sessions() as session:
        due = await repo.due_deliveries(session, now=now, limit=settings.notify_batch_size)
    for row in due:
        outcome, values = await _attempt(row, settings=settings, providers=providers, now=now)
        counts[outcome] += 1
        async with sessions() as session, session.begin():
            await repo.update_delivery(session, row["id"], values)
    return counts


async def _attempt(
    row: RowMapping, *, settings: VerificationSettings, providers: Mapping[str, Provider], now: datetime
) -> tuple[str, dict[str, Any]]:
    address = row["phone"] if row["channel"] == SMS else row["email"]
    provider = providers.get(row["channel"])
    if row["opted_out"] or not address or provider is None:
        why = "opted out" if row["opted_out"] else "no address" if not address else "channel off"
        return "skipped", {"status": "skipped", "last_error": why}
    message = Message(
        key=f"tepat-{row['id']}",
        channel=row["channel"],
        to=address,
        template=row["template"],
        subject=row["subject"],
        body=row["body"],
    )
    attempts = row["attempts"] + 1
    try:
        await provider.send(message)
    except ProviderError as exc:
        error = str(exc)[:500]
        if attempts >= settings.notify_max_attempts:
            return "dead", {"status": "dead", "attempts": attempts, "last_error": error}
        wait = retry_delay(attempts, first_s=settings.notify_retry_first_s, cap_s=settings.notify_retry_cap_s)
        return "retried", {"attempts": attempts, "last_error": error, "next_attempt_at": now + wait}
    return "sent", {"status": "sent", "attempts": attempts, "sent_at": now, "last_error": None}


async def deliveries(
    session: AsyncSession, *, recipient_id: str | None, status: str | None, limit: int
) -> DeliveryPage:
    """The delivery log, newest first."""
    rows = await repo.list_deliveries(session, recipient_id=recipient_id, status=status, limit=limit)
    return DeliveryPage(items=[DeliveryOut.model_validate(dict(r)) for r in rows])


async def retry_dead(session: AsyncSession, *, delivery_id: int | None) -> int:
    """Requeue dead notifications."""
    return await repo.retry_dead(session, delivery_id=delivery_id, now=utcnow())
