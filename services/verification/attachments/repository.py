"""Queries of document references."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.verification.attachments.models import attachment
from services.verification.attachments.schemas import DocumentRef
from shared.db.dialect import insert_for
from shared.events.envelope import utcnow


async def attach(session: AsyncSession, *, owner_kind: str, owner_id: int, ref: DocumentRef, by: str) -> None:
    """Attach (or replace) the document of this role on its owner."""
    values = {
        "owner_kind": owner_kind,
        "owner_id": owner_id,
        "role": ref.role,
        "sha256": ref.sha256,
        "size_bytes": ref.size_bytes,
        "media_type": ref.media_type,
        "signed_by": ref.signed_by,
        "attached_by": by,
        "attached_at": utcnow(),
    }
    base = insert_for(session, attachment).values(values)
    keys = ("owner_kind", "owner_id", "role")
    await session.execute(
        base.on_conflict_do_update(
            index_elements=list(keys), set_={k: base.excluded[k] for k in values if k not in keys}
        )
    )


async def attachments_of(session: AsyncSession, *, owner_kind: str, owner_id: int) -> list[dict[str, Any]]:
    """The documents attached to one owner."""
    rows = await session.execute(
        select(attachment).where(attachment.c.owner_kind == owner_kind, attachment.c.owner_id == owner_id)
    )
    return [dict(r._mapping) for r in rows]
