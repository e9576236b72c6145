"""The TKSK work report of a kecamatan over a period: gathered through the repositories, as JSON or PDF."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.verification.groundchecks import repository as checks
from services.verification.groundchecks.models import OPEN_STATES
from services.verification.scope import not_found
from services.verification.workreports import repository as repo
from services.verification.workreports.pdf import tksk_report_document
from services.verification.workreports.schemas import CampaignWork, OfficerWork, OutcomeCount, TkskReport
from shared.auth.principal import Principal
from shared.http.problems import ProblemError
from shared.pdf.document import Signatory
from shared.pdf.response import PdfReport

MAX_DAYS = 366
EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def check_period(period_from: date, period_to: date) -> None:
    """422 naming the field when a day lies outside 2000-2099, or the period runs backwards or spans over a year."""
    for name, day in (("from", period_from), ("to", period_to)):
        if not EARLIEST <= day <= LATEST:
            raise ProblemError(
                422,
                f"{name} must lie between {EARLIEST.isoformat()} and {LATEST.isoformat()}.",
                code="validation",
                errors=[{"field": name, "reason": "outside 2000-01-01 .. 2099-12-31"}],
            )
    if period_to < period_from:
        raise ProblemError(
            422,
            "The period ends before it starts.",
            code="validation",
            errors=[{"field": "to", "reason": f"before from ({period_from.isoformat()})"}],
        )
    if (period_to - period_from).days >= MAX_DAYS:
        raise ProblemError(
            422,
            f"A work report covers at most {MAX_DAYS} days.",
            code="validation",
            errors=[{"field": "to", "reason": f"more than {MAX_DAYS} days after from"}],
        )


async def tksk_report(
    session: AsyncSession,
    *,
    principal: Principal,
    kecamatan_code: str,
    period_from: date,
    period_to: date,
    now: datetime,
) -> TkskReport:
    """Per officer: checks assigned, visits and their outcomes, overdue checks; outcomes; campaign progress."""
    check_period(period_from, period_to)
    if not principal.covers(kecamatan_code):
        raise not_found("kecamatan", kecamatan_code)
    where = checks.filtered(principal, kelurahan_code=kecamatan_code)
    start, end = _midnight(period_from), _midnight(period_to + timedelta(days=1))
    cutoff = min(now, end)
    per_officer = await repo.counts_per_officer(session, where, start=start, end=end, cutoff=cutoff)
    roles = await checks.assignee_roles(session, [k for k in per_officer if k])
    campaigns: dict[int, CampaignWork] = {}
    for campaign_id, name, status, n in await repo.campaign_counts(session, where, end=end):
        work = campaigns.setdefault(
            campaign_id, CampaignWork(campaign_id=campaign_id, name=name, counts={}, total=0, done=0)
        )
        work.counts[status] = n
        work.total += n
        work.done += n if status not in OPEN_STATES else 0
    return TkskReport(
        kecamatan_code=kecamatan_code,
        period_from=period_from,
        period_to=period_to,
        as_of=(cutoff - timedelta(microseconds=1)).date(),
        officers=[
            OfficerWork(officer=k, role=roles.get(k) if k else None, **v)
            for k, v in sorted(per_officer.items(), key=lambda kv: (kv[0] is None, kv[0] or ""))
        ],
        outcomes=[
            OutcomeCount(outcome=o, reason=r, visits=n)
            for o, r, n in await repo.outcomes(session, where, start=start, end=end)
        ],
        campaigns=list(campaigns.values()),
    )


async def tksk_report_pdf(
    session: AsyncSession,
    *,
    principal: Principal,
    kecamatan_code: str,
    period_from: date,
    period_to: date,
    now: datetime,
    signatory: Signatory,
) -> PdfReport:
    """The work report as PDF bytes; its date is the newest change of a check it covers (same data, same bytes)."""
    report = await tksk_report(
        session,
        principal=principal,
        kecamatan_code=kecamatan_code,
        period_from=period_from,
        period_to=period_to,
        now=now,
    )
    where = checks.filtered(principal, kelurahan_code=kecamatan_code)
    newest = await repo.newest_change(session, where, end=_midnight(period_to + timedelta(days=1)))
    created = _aware(newest) if newest is not None else _midnight(period_from)
    document = tksk_report_document(report, created_at=created)
    name = f"laporan-tksk-{kecamatan_code}-{period_from.isoformat()}-{period_to.isoformat()}.pdf"
    return PdfReport.of(document, signatory, name)
