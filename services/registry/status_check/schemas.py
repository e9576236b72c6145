"""The status-check lookup's answer (its query is the shared contract with the gateway, shared/status_check.py)."""

from __future__ import annotations

from pydantic import BaseModel


class LookupOut(BaseModel):
    """The families the query names (at most a handful: a name is rarely repeated in one kelurahan)."""

    household_ids: list[str]
