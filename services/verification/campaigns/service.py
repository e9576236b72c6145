"""Revalidation campaigns: select families, open and assign their checks in one statement, show progress."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.verification import guarded
from services.verification.campaigns.models import campaign
from services.verification.campaigns.repository import insert_campaign_checks
from services.verification.campaigns.schemas import CampaignIn, CampaignOut, CampaignProgress
from services.verification.groundchecks import repository as checks_repo
from services.verification.groundchecks.models import ground_check
from services.verification.groundchecks.schemas import WorkloadRow
from services.verification.households.models import household
from services.verification.scope import not_found, within_scope
from services.verification.settings import VerificationSettings
from shared.auth.principal import Principal, ScopeLevel, code_within
from shared.auth.scope import ensure_covers
from shared.events.envelope import utcnow


def months_before(moment: datetime, months: int) -> datetime:
    """The same day `months` calendar months earlier (clamped to the month's last day)."""
    year, month = divmod(moment.year * 12 + moment.month - 1 - months, 12)
    month += 1
    for day in (moment.day, 30, 29, 28):
        try:
            return moment.replace(year=year, month=month, day=min(moment.day, day))
        except ValueError:
            continue
    raise AssertionError("unreachable")


async def create_campaign(
    session: AsyncSession,
    *,
    principal: Principal,
    settings: VerificationSettings,
    body: CampaignIn,
    now: datetime | None = None,
) -> CampaignOut:
    """Open a revalidation check for every selected family (one INSERT … SELECT), assigned to its TKSK."""
    codes = body.codes()
    for code in codes:
        ensure_covers(principal, code, what="kecamatan")
    now = now or utcnow()
    new_id = int(
        (
            await session.execute(
                insert(campaign)
                .values(
                    name=body.name,
                    kecamatan_codes=json.dumps(codes),
                    not_verified_months=body.not_verified_months,
                    desil_max=body.desil_max,
                    created_by=principal.subject,
                    created_at=now,
                    created_checks=0,
                )
                .returning(campaign.c.id)
            )
        ).scalar_one()
    )
    created = await insert_campaign_checks(
        session,
        campaign_id=new_id,
        kecamatan_codes=codes,
        verified_since=months_before(now, body.not_verified_months) if body.not_verified_months else None,
        desil_max=body.desil_max,
        due_at=now + timedelta(days=settings.ground_check_due_days),
        now=now,
        scope_filter=within_scope(household.c.kelurahan_code, principal),
    )
    await session.execute(update(campaign).where(campaign.c.id == new_id).values(created_checks=created))
    return await load_campaign(session, principal=principal, campaign_id=new_id)


def _out(row: dict[str, Any]) -> CampaignOut:
    return CampaignOut(**{**row, "kecamatan_codes": json.loads(row["kecamatan_codes"])})


async def load_campaign(session: AsyncSession, *, principal: Principal, campaign_id: int) -> CampaignOut:
    """A campaign touching the caller's scope, else 404."""
    row = await guarded.load(session, campaign, campaign_id)
    if row is None:
        raise not_found("campaign", campaign_id)
    out = _out(row)
    if not any(code_within(c, principal.wilayah) or code_within(principal.wilayah, c) for c in out.kecamatan_codes):
        raise not_found("campaign", campaign_id)
    return out


async def progress(session: AsyncSession, *, principal: Principal, campaign_id: int) -> CampaignProgress:
    """Counts by state per kecamatan and per officer (only the caller's part of the campaign)."""
    out = await load_campaign(session, principal=principal, campaign_id=campaign_id)
    where = checks_repo.filtered(principal, campaign_id=campaign_id)
    now = utcnow()
    per_kecamatan = await checks_repo.counts_by(session, ground_check.c.kecamatan_code, where, now=now)
    per_officer = await checks_repo.counts_by(session, ground_check.c.assigned_to, where, now=now)
    roles = await checks_repo.assignee_roles(session, [k for k in per_officer if k])
    if principal.scope_level is not ScopeLevel.KOTA:
        # The campaign as far as the caller's wilayah goes: its kecamatan and its checks there, not the city's.
        out = out.model_copy(
            update={
                "kecamatan_codes": [
                    c
                    for c in out.kecamatan_codes
                    if code_within(c, principal.wilayah) or code_within(principal.wilayah, c)
                ],
                "created_checks": sum(sum(c.values()) for c, _ in per_kecamatan.values()),
            }
        )
    return CampaignProgress(
        campaign=out,
        by_kecamatan={k: c for k, (c, _) in sorted(per_kecamatan.items())},
        by_officer=[
            WorkloadRow(officer=k, role=roles.get(k) if k else None, counts=c, overdue=late)
            for k, (c, late) in sorted(per_officer.items(), key=lambda kv: kv[0] or "")
        ],
    )
