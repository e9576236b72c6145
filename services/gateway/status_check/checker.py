"""Answering one public status query: rate-limited per address, the same shape and (at least) the same time
whether the person is known or not, asked of the registry and disbursement with the gateway's own token."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from services.gateway.guard import TokenBuckets
from services.gateway.metrics import GATEWAY_REJECTIONS
from services.gateway.settings import GatewaySettings
from shared.auth.tokens import PRIVATE_KEY_NAME, issue_dev_token
from shared.http.problems import ProblemError
from shared.status_check import StatusAnswer, StatusQuery

TOKEN_TTL_S = 600
SUBJECT = "gateway-status-check"


@dataclass
class Upstream:
    """How to reach one service's status-check route."""

    client: httpx.AsyncClient
    base_url: str


class StatusChecker:
    """The public status check's state: per-address buckets and the gateway's token."""

    def __init__(self, settings: GatewaySettings, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self.clock = clock
        self.buckets = TokenBuckets(settings.status_check_per_minute, settings.status_check_burst)
        self.min_s = settings.status_check_min_ms / 1000
        self._token: tuple[str, float] | None = None

    def admit(self, address: str) -> None:
        """Take a token of the address's bucket, or refuse with 429."""
        if wait := self.buckets.take(address, self.clock()):
            GATEWAY_REJECTIONS.labels("status_check_limited").inc()
            raise ProblemError(
                429,
                "Terlalu banyak pencarian dari alamat ini; coba lagi nanti.",
                code="rate_limited",
                headers={"Retry-After": str(max(1, int(wait) + 1))},
            )

    def token(self) -> str:
        """A short-lived system token signed with the gateway's key (re-issued before it expires)."""
        now = time.time()
        if self._token is not None and self._token[1] > now + 60:
            return self._token[0]
        key_file: Path = self.settings.status_check_key_file or self.settings.data_dir / PRIVATE_KEY_NAME
        if not key_file.exists():
            raise ProblemError(503, "Cek status belum dikonfigurasi.", code="status_check_unconfigured")
        token = issue_dev_token(
            key_file.read_bytes(),
            subject=SUBJECT,
            role="system",
            wilayah=self.settings.status_check_wilayah,
            issuer=self.settings.auth_issuer,
            audience=self.settings.auth_audience,
            ttl_s=TOKEN_TTL_S,
            client_type="service",
        )
        self._token = (token, now + TOKEN_TTL_S)
        return token

    async def answer(self, query: StatusQuery, registry: Upstream, disbursement: Upstream) -> StatusAnswer:
        """Ask both services, then wait out the fixed minimum so a miss takes as long as a hit."""
        started = time.monotonic()
        try:
            return await self._ask(query, registry, disbursement)
        finally:
            left = self.min_s - (time.monotonic() - started)
            if left > 0:
                await asyncio.sleep(left)

    async def _ask(self, query: StatusQuery, registry: Upstream, disbursement: Upstream) -> StatusAnswer:
        headers = {"Authorization": f"Bearer {self.token()}"}
        found = await _post(registry, "/status-check/lookup", query.model_dump(exclude_none=True), headers)
        # Disbursement is asked even when nobody was found: the same two calls every time.
        lines = await _post(disbursement, "/status-check/payments", {"household_ids": found["household_ids"]}, headers)
        return StatusAnswer.model_validate(lines)


async def _post(up: Upstream, path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    try:
        response = await up.client.post(f"{up.base_url}{path}", json=body, headers=headers)
    except httpx.HTTPError as exc:
        raise ProblemError(503, "Layanan cek status sedang tidak tersedia.", code="upstream_unavailable") from exc
    if response.status_code != 200:
        raise ProblemError(503, "Layanan cek status sedang tidak tersedia.", code="upstream_unavailable")
    return response.json()
