"""OAuth2 client credentials for other government systems, and the JWKS that lets services verify tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Header
from pydantic import BaseModel, Field

from shared.auth.principal import Role, scope_level_of
from shared.auth.tokens import issue_dev_token, load_public_key, public_jwk
from shared.http.problems import ProblemError


class OAuthClient(BaseModel):
    """A system client allowed to obtain tokens (its secret is stored only as a SHA-256 hash)."""

    client_id: str = Field(min_length=3, max_length=100)
    secret_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    role: Role = Role.SYSTEM
    wilayah: str = "13.71"
    name: str = ""


class TokenResponse(BaseModel):
    """RFC 6749 §5.1 access token response."""

    access_token: str
    token_type: str = "Bearer"
    expires_in: int


def load_clients(path: Path | None) -> dict[str, OAuthClient]:
    """Read the clients file (a JSON list); no file means no system clients."""
    if path is None or not path.exists():
        return {}
    clients = [OAuthClient.model_validate(c) for c in json.loads(path.read_text())]
    for c in clients:
        scope_level_of(c.wilayah)
    return {c.client_id: c for c in clients}


def oauth_router(
    *, clients: dict[str, OAuthClient], private_key: Path, issuer: str, audience: str, ttl_s: int
) -> APIRouter:
    """POST /oauth/token (client_credentials) and GET /.well-known/jwks.json."""
    router = APIRouter(tags=["auth"])
    # Read once: the issuer's keys do not change while the gateway runs.
    signing_key = private_key.read_bytes() if private_key.exists() else None
    public = private_key.with_name(private_key.name.replace("private", "public"))
    keys = [public_jwk(load_public_key(public))] if public.exists() else []

    @router.post("/oauth/token", summary="OAuth2 client credentials grant", response_model=TokenResponse)
    async def token(
        grant_type: Annotated[str, Form()],
        client_id: Annotated[str | None, Form()] = None,
        client_secret: Annotated[str | None, Form()] = None,
        authorization: Annotated[str | None, Header()] = None,
    ) -> TokenResponse:
        if grant_type != "client_credentials":
            raise ProblemError(400, "Only the client_credentials grant is supported.", code="unsupported_grant_type")
        if authorization and authorization.lower().startswith("basic "):
            try:
                client_id, _, client_secret = base64.b64decode(authorization[6:]).decode().partition(":")
            except (ValueError, UnicodeDecodeError) as exc:
                raise ProblemError(400, "Malformed Basic credentials.", code="invalid_request") from exc
        if not client_id or not client_secret:
            raise ProblemError(400, "client_id and client_secret are required.", code="invalid_request")
        client = clients.get(client_id)
        offered = hashlib.sha256(client_secret.encode()).hexdigest()
        # Compare even for unknown clients, so timing does not reveal which client ids exist.
        expected = client.secret_sha256 if client else "0" * 64
        if not hmac.compare_digest(offered, expected) or client is None:
            raise ProblemError(
                401, "Unknown client or wrong secret.", code="invalid_client", headers={"WWW-Authenticate": "Basic"}
            )
        if signing_key is None:
            raise ProblemError(503, "This gateway does not issue tokens.", code="issuer_not_configured")
        access = issue_dev_token(
            signing_key,
            subject=f"client:{client.client_id}",
            role=client.role,
            wilayah=client.wilayah,
            issuer=issuer,
            audience=audience,
            ttl_s=ttl_s,
            client_type="system",
        )
        return TokenResponse(access_token=access, expires_in=ttl_s)

    @router.get("/.well-known/jwks.json", summary="Public keys that sign Tepat tokens")
    async def jwks() -> dict[str, list[dict[str, str]]]:
        return {"keys": keys}

    return router
