"""Delivering DCI callbacks (on-search, on-subscribe, on-unsubscribe, txn-on-status, notify) to partners.

Every callback is a `dci_callback` row: queued → delivering (leased while one runner sends it) → delivered, or back
to queued with an exponential, capped backoff after a failure, and dead after the last attempt (operators list and
retry dead ones: `GET /dci/callbacks?status=dead`, `POST /dci/callbacks/{id}/retry`, `tepat dci-callbacks`).
One family's notifications go out in order: a callback waits while an earlier one of the same partner and family
is still queued or being sent, so one run claims at most one callback per family and sends the claimed ones
concurrently (`DCI_CALLBACK_CONCURRENCY` at a time): a subscriber's round trip no longer caps the rate at one
callback per round trip. Its message id is fixed when queued, so a partner de-duplicates retries.

SSRF: a callback goes only to a URI the partner registered (checked again when sent, the partner may have changed
it), redirects are never followed (a 3xx is a failed attempt), the host is resolved and every address must be
public (private, loopback, link-local, multicast, reserved are refused) unless listed in
`TEPAT_REGISTRY_DCI_CALLBACK_ALLOWED_ADDRESSES`; each attempt has a timeout and reads at most
`DCI_CALLBACK_MAX_RESPONSE_BYTES` of the answer. The check and the connection use one and the same resolution
(`PinnedBackend`): a host whose DNS answer changes between a check and a connect (DNS rebinding) cannot slip a
private address in, and TLS still verifies the certificate against the host name.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import socket
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.registry.dci import repository
from services.registry.dci.service import RECEIVER_ID
from services.registry.dci.signature import sign_with
from services.registry.settings import RegistrySettings
from shared.audit.anchor import FileSigner, key_id

log = logging.getLogger(__name__)
# Delivered callbacks are marked in groups of this many (a crash before the mark resends them, same message ids).
DELIVERED_FLUSH = 100


class CallbackRefused(Exception):
    """A callback target that may not be called (not registered, not http(s), a private address, a redirect)."""


@dataclass(frozen=True)
class Policy:
    """How callbacks are sent: allowed private addresses, timeout, answer cap, attempts and backoff."""

    allowed_addresses: frozenset[str] = frozenset()
    timeout_s: float = 10.0
    max_response_bytes: int = 65536
    max_attempts: int = 8
    backoff_s: float = 5.0
    backoff_cap_s: float = 3600.0
    batch: int = 200
    concurrency: int = 8

    @classmethod
    def from_settings(cls, settings: RegistrySettings) -> Policy:
        """The policy the registry's settings describe."""
        return cls(
            allowed_addresses=frozenset(settings.dci_callback_allowed_addresses),
            timeout_s=settings.dci_callback_timeout_s,
            max_response_bytes=settings.dci_callback_max_response_bytes,
            max_attempts=settings.dci_callback_max_attempts,
            backoff_s=settings.dci_callback_backoff_s,
            backoff_cap_s=settings.dci_callback_backoff_cap_s,
            batch=settings.dci_callback_batch,
            concurrency=settings.dci_callback_concurrency,
        )


def backoff_delay(attempts: int, *, first_s: float, cap_s: float) -> float:
    """Seconds to wait after the `attempts`-th failed attempt: first_s, doubled each time, at most cap_s."""
    return float(min(cap_s, first_s * 2 ** max(0, attempts - 1)))


def address_allowed(address: str, allowed: frozenset[str]) -> bool:
    """A public unicast address, or one the settings allow explicitly."""
    if address in allowed:
        return True
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_uri(uri: str, registered: Sequence[str]) -> tuple[str, int]:
    """The host and port of a registered http(s) URI; CallbackRefused otherwise."""
    if uri not in registered:
        raise CallbackRefused(f"{uri} is not a callback URI the partner registered")
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CallbackRefused(f"{uri} is not an http(s) URI")
    return parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)


Resolver = Callable[[str, int], Awaitable[list[str]]]


async def system_resolver(host: str, port: int) -> list[str]:
    """The addresses the system resolver gives for host:port."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def public_addresses(host: str, port: int, allowed: frozenset[str], resolver: Resolver) -> list[str]:
    """The host's addresses if every one is public (or allowed); CallbackRefused otherwise."""
    try:
        addresses = await resolver(host, port)
    except OSError as exc:
        raise CallbackRefused(f"{host} does not resolve ({exc})") from exc
    refused = sorted(a for a in addresses if not address_allowed(a, allowed))
    if refused or not addresses:
        raise CallbackRefused(f"{host} resolves to a non-public address {refused}")
    return addresses


class PinnedBackend(httpcore.AsyncNetworkBackend):
    """Connects only to addresses it has just checked: resolution, check and connect are one step."""

    def __init__(self, allowed: frozenset[str], resolver: Resolver = system_resolver) -> None:
        self.allowed = allowed
        self.resolver = resolver
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Resolve, refuse a non-public answer, connect to the first checked address."""
        addresses = await public_addresses(host, port, self.allowed, self.resolver)
        return await self._inner.connect_tcp(
            addresses[0], port, timeout=timeout, local_address=local_address, socket_options=socket_options
        )

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        """Never: callbacks go over TCP to a partner."""
        raise CallbackRefused("callbacks do not use Unix sockets")

    async def sleep(self, seconds: float) -> None:
        """Sleep (the connection pool's keep-alive housekeeping)."""
        await self._inner.sleep(seconds)


class PinnedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport on a connection pool whose every connection goes through `PinnedBackend`."""

    def __init__(self, backend: PinnedBackend) -> None:
        super().__init__()
        # httpx 0.28 takes no network backend: the pool it built is replaced by the same pool on ours.
        self._pool = httpcore.AsyncConnectionPool(ssl_context=httpx.create_ssl_context(), network_backend=backend)


async def post(client: httpx.AsyncClient, uri: str, payload: bytes, *, max_bytes: int) -> None:
    """POST one callback; raises on a redirect, a non-2xx answer or a transport error (answer read up to a cap)."""
    request = client.build_request("POST", uri, content=payload, headers={"content-type": "application/json"})
    response = await client.send(request, stream=True, follow_redirects=False)
    try:
        read = 0
        async for chunk in response.aiter_raw():
            read += len(chunk)
            if read > max_bytes:
                break
    finally:
        await response.aclose()
    if response.is_redirect or 300 <= response.status_code < 400:
        raise CallbackRefused(f"answered {response.status_code} (redirects are not followed)")
    if not response.is_success:
        raise httpx.HTTPStatusError(f"answered {response.status_code}", request=request, response=response)


class Signer:
    """Tepat's DCI signing key: a file created on first use, its public half next to it."""

    def __init__(self, settings: RegistrySettings) -> None:
        path = settings.dci_signing_key_path
        self._file = FileSigner(path, path.with_suffix(path.suffix + ".pub"))

    @property
    def key_id(self) -> str:
        """The key id in the signature's kidId."""
        return key_id(self._file.public_key())

    def public_pem(self) -> str:
        """The public key partners verify callbacks with."""
        self._file.public_key()
        return self._file.public_path.read_text(encoding="utf-8")

    def signature(self, body: Mapping[str, Any], now: datetime) -> str:
        """The `signature` of one callback body."""
        return sign_with(
            self._file.sign,
            sender_id=RECEIVER_ID,
            key_id=self.key_id,
            header=body["header"],
            message=body.get("message", {}),
            now=int(now.timestamp()),
        )


async def deliver_due(
    sessions: async_sessionmaker[AsyncSession],
    *,
    policy: Policy,
    signer: Signer,
    now: datetime,
    transport: httpx.AsyncBaseTransport | None = None,
    clock: Callable[[], datetime] | None = None,
) -> dict[str, int]:
    """Send every due callback once; returns how many were delivered, retried later and dead."""
    lease = now + timedelta(seconds=policy.timeout_s * 3)
    async with sessions() as session, session.begin():
        claimed = await repository.claim_callbacks(session, now=now, lease_until=lease, limit=policy.batch)
        partners = {p["sender_id"]: p for p in await repository.list_partners(session)} if claimed else {}
    counts = {"delivered": 0, "retry": 0, "dead": 0}
    if not claimed:
        return counts
    timeout = httpx.Timeout(policy.timeout_s)
    gate = asyncio.Semaphore(policy.concurrency)
    pending: list[Mapping[str, Any]] = []
    flushing = asyncio.Lock()

    async def flush(rows: list[Mapping[str, Any]]) -> None:
        async with flushing:
            await _mark_delivered(sessions, rows, clock() if clock is not None else now)
            counts["delivered"] += len(rows)

    async def send(client: httpx.AsyncClient, row: Mapping[str, Any]) -> None:
        # The claim holds at most one callback per partner and family, so these may go out in any order.
        async with gate:
            error = await _attempt(client, row, partners.get(row["sender_id"]), policy=policy, signer=signer, now=now)
        if error is None:
            pending.append(row)
            # Marked in groups: one transaction per callback would cost more than the POST itself.
            if len(pending) >= DELIVERED_FLUSH:
                rows = pending[:]
                pending.clear()
                await flush(rows)
            return
        at = clock() if clock is not None else now
        async with sessions() as session, session.begin():
            attempts = row["attempts"] + 1
            if attempts >= policy.max_attempts:
                await repository.callback_dead(session, row, attempts=attempts, error=error, at=at)
                counts["dead"] += 1
            else:
                wait = backoff_delay(attempts, first_s=policy.backoff_s, cap_s=policy.backoff_cap_s)
                await repository.callback_retry(
                    session, row["id"], attempts=attempts, error=error, next_at=now + timedelta(seconds=wait)
                )
                counts["retry"] += 1

    if transport is None:
        transport = PinnedTransport(PinnedBackend(policy.allowed_addresses))
    async with httpx.AsyncClient(timeout=timeout, follow_redirects=False, transport=transport) as client:
        await asyncio.gather(*(send(client, row) for row in claimed))
    await flush(pending)
    return counts


async def _mark_delivered(
    sessions: async_sessionmaker[AsyncSession], rows: Sequence[Mapping[str, Any]], at: datetime
) -> None:
    if rows:
        async with sessions() as session, session.begin():
            await repository.callbacks_delivered(session, rows, at=at)


async def _attempt(
    client: httpx.AsyncClient,
    row: Mapping[str, Any],
    partner: Mapping[Any, Any] | None,
    *,
    policy: Policy,
    signer: Signer,
    now: datetime,
) -> str | None:
    """One delivery attempt; None when delivered, else why not (the address check happens at connect time)."""
    try:
        if partner is None or not partner["active"]:
            raise CallbackRefused(f"partner {row['sender_id']} is no longer active")
        check_uri(row["uri"], list(partner["callback_uris"]))
        body = {"signature": signer.signature(row["body"], now), **row["body"]}
        payload = json.dumps(body, ensure_ascii=False).encode()
        await post(client, row["uri"], payload, max_bytes=policy.max_response_bytes)
    except (CallbackRefused, httpx.HTTPError) as exc:
        log.info("DCI callback %s to %s failed: %s", row["message_id"], row["uri"], exc)
        return f"{type(exc).__name__}: {exc}"[:1000]
    return None
