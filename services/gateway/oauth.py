"""OAuth2 client credentials for other government systems, and the JWKS that lets services verify tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Header
from pydantic import BaseModel, Field

from services.gateway.metrics import GATEWAY_REJECTIONS
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


class ClientLockout:
    """Wrong secrets per offered client id; after `max_failures` in a row the id is refused for `lock_s` seconds.

    Counted for any id offered, known or not, so the lockout itself never tells which client ids exist.
    Bounded like the rate-limit buckets: a flood of made-up ids evicts the oldest entries, not memory.
    """

    def __init__(
        self, *, max_failures: int, lock_s: float, clock: Callable[[], float] = time.monotonic, max_ids: int = 100_000
    ) -> None:
        self.max_failures = max_failures
        self.lock_s = lock_s
        self.clock = clock
        self.max_ids = max_ids
        # digest of the client id -> (failures in a row, time of the first of them, locked until); digests, so a
        # made-up id of megabytes costs 32 bytes here.
        self._ids: OrderedDict[bytes, tuple[int, float, float]] = OrderedDict()

    def locked_for(self, client_id: str) -> float:
        """Seconds until `client_id` may try again (0 when it may now)."""
        entry = self._ids.get(_digest(client_id))
        return max(0.0, entry[2] - self.clock()) if entry else 0.0

    def failed(self, client_id: str) -> None:
        """Record one wrong secret; failures older than the lockout period no longer count."""
        now = self.clock()
        key = _digest(client_id)
        count, first, _ = self._ids.pop(key, (0, now, 0.0))
        if now - first > self.lock_s:
            count, first = 0, now
        count += 1
        until = now + self.lock_s if count >= self.max_failures else 0.0
        self._ids[key] = (0, now, until) if until else (count, first, 0.0)
        if len(self._ids) > self.max_ids:
            self._ids.popitem(last=False)

    def succeeded(self, client_id: str) -> None:
        """A right secret clears the count."""
        self._ids.pop(_digest(client_id), None)


def _digest(client_id: str) -> bytes:
    return hashlib.sha256(client_id.encode()).digest()


def load_clients(path: Path | None) -> dict[str, OAuthClient]:
    """Read the clients file (a JSON list); no file means no system clients."""
    if path is None or not path.exists():
        return {}
    clients = [OAuthClient.model_validate(c) for c in json.loads(path.read_text())]
    for c in clients:
        scope_level_of(c.wilayah)
    return {c.client_id: c for c in clients}


def oauth_router(
    *,
    clients: dict[str, OAuthClient],
    private_key: Path,
    issuer: str,
    audience: str,
    ttl_s: int,
    lockout: ClientLockout,
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
        if wait := lockout.locked_for(client_id):
            GATEWAY_REJECTIONS.labels("client_locked").inc()
            raise ProblemError(
                429,
                "Too many wrong secrets for this client id; retry later.",
                code="client_locked",
                headers={"Retry-After": str(max(1, math.ceil(wait)))},
            )
        client = clients.get(client_id)
        offered = hashlib.sha256(client_secret.encode()).hexdigest()
        # Compare even for unknown clients, so timing does not reveal which client ids exist.
        expected = client.secret_sha256 if client else "0" * 64
        if not hmac.compare_digest(offered, expected) or client is None:
            lockout.failed(client_id)
            raise ProblemError(
                401, "Unknown client or wrong secret.", code="invalid_client", headers={"WWW-Authenticate": "Basic"}
            )
        lockout.succeeded(client_id)
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
