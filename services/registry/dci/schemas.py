"""Request and response models of the DCI partner administration (the DCI messages themselves are plain JSON
checked against the spec's own schemas, see spec.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from services.registry.dci.models import DciPartnerFields
from services.registry.dci.records import FIELDS
from services.registry.dci.signature import load_public_key
from shared.auth.principal import scope_level_of


class PartnerIn(DciPartnerFields):
    """A partner system allowed to call the DCI endpoints."""

    # Defaults of the request only: the table's are the server's (an empty list is written explicitly).
    callback_uris: list[str] = Field(default_factory=list, description="The only URIs callbacks may go to")
    active: bool = True

    @field_validator("public_key_pem")
    @classmethod
    def _ed25519(cls, value: str) -> str:
        try:
            load_public_key(value)
        except (ValueError, TypeError) as exc:
            raise ValueError("must be an Ed25519 public key in PEM form") from exc
        return value

    @field_validator("wilayah")
    @classmethod
    def _codes(cls, value: list[str]) -> list[str]:
        for code in value:
            scope_level_of(code)
        return value

    @field_validator("fields")
    @classmethod
    def _fields(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(FIELDS))
        if unknown:
            raise ValueError(f"unknown fields {unknown}; choose from {list(FIELDS)}")
        return value

    @field_validator("callback_uris")
    @classmethod
    def _uris(cls, value: list[str]) -> list[str]:
        for uri in value:
            if not uri.startswith(("https://", "http://")):
                raise ValueError(f"{uri!r} is not an http(s) URI")
        return value


class PartnerOut(PartnerIn):
    """A registered partner."""

    created_at: datetime
    updated_at: datetime


class CallbackOut(BaseModel):
    """A callback to a partner, as operators see it (the body stays in the database)."""

    id: int
    sender_id: str
    message_id: str
    correlation_id: str | None
    action: str
    uri: str
    family_id: str | None
    status: Literal["queued", "delivering", "delivered", "dead"]
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
