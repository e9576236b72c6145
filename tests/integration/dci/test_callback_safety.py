"""Callbacks go only where the partner registered, never by a redirect, never to a private address (SSRF)."""

from __future__ import annotations

import httpx
import pytest

from services.registry.dci.delivery import CallbackRefused, PinnedBackend, PinnedTransport, Policy, Resolver, post
from shared.events.envelope import utcnow
from tests.integration.dci.callbacks import ASYNC, callback_rows, check_ack, run_dci_job, settings_of
from tests.integration.dci.conftest import register
from tests.integration.dci.partner import Partner, by_id, search_message
from tests.integration.dci.receiver import Receiver
from tests.integration.registry.conftest import Registry
from tests.integration.registry.helpers import kk


async def _queue_search(registry: Registry, partner: Partner) -> None:
    body = partner.envelope(search_message(by_id("KK", kk(1))))
    r = await registry.client.post(f"{ASYNC}/search", json=body, headers=partner.headers())
    assert r.status_code == 200, r.text
    check_ack(r.json())


async def test_redirects_are_not_followed(dci_registry: Registry) -> None:
    registry = dci_registry
    receiver = Receiver()
    receiver.start()
    bank = Partner("bank.example.id", registry.data_dir)
    # Both URIs registered: the redirect's target would be allowed, but a callback never follows one.
    await register(registry, bank, callback_uris=[receiver.uri("/redirect"), receiver.uri("/on-search")])
    await _queue_search(registry, bank)
    try:
        counts = await run_dci_job(registry, utcnow())
    finally:
        receiver.stop()
    assert (counts["delivered"], counts["retry"]) == (0, 1)
    assert receiver.received == []
    (row,) = await callback_rows(registry)
    assert "302" in row["last_error"]
    assert "redirects are not followed" in row["last_error"]


async def test_private_and_loopback_addresses_are_refused_unless_allowed(dci_registry: Registry) -> None:
    registry = dci_registry
    receiver = Receiver()
    receiver.start()
    inside = Partner("inside.example.id", registry.data_dir)
    await register(registry, inside, callback_uris=["http://10.1.2.3/cb", "http://169.254.169.254/latest"])
    await _queue_search(registry, inside)
    body = inside.envelope(search_message(by_id("KK", kk(1))), sender_uri="http://169.254.169.254/latest")
    assert (await registry.client.post(f"{ASYNC}/search", json=body, headers=inside.headers())).status_code == 200
    local = Partner("local.example.id", registry.data_dir)
    await register(registry, local, callback_uris=[receiver.uri(), f"http://localhost:{receiver.port}/on-search"])
    await _queue_search(registry, local)
    body = local.envelope(search_message(by_id("KK", kk(1))), sender_uri=f"http://localhost:{receiver.port}/on-search")
    assert (await registry.client.post(f"{ASYNC}/search", json=body, headers=local.headers())).status_code == 200
    strict = Policy.from_settings(settings_of(registry))
    strict = Policy(**{**strict.__dict__, "allowed_addresses": frozenset()})
    try:
        counts = await run_dci_job(registry, utcnow(), policy=strict)
    finally:
        receiver.stop()
    assert (counts["delivered"], counts["retry"]) == (0, 4)
    assert receiver.received == []
    errors = {r["uri"]: r["last_error"] for r in await callback_rows(registry)}
    assert all("non-public address" in e for e in errors.values()), errors
    assert "10.1.2.3" in errors["http://10.1.2.3/cb"]
    assert "169.254.169.254" in errors["http://169.254.169.254/latest"]
    assert "127.0.0.1" in errors[receiver.uri()]


async def test_only_the_partner_s_registered_uris(dci_registry: Registry) -> None:
    registry = dci_registry
    receiver = Receiver()
    receiver.start()
    bank = Partner("bank.example.id", registry.data_dir)
    await register(registry, bank, callback_uris=[receiver.uri()])
    # An unregistered sender_uri is refused at the door (no callback queued) ...
    body = bank.envelope(search_message(by_id("KK", kk(1))), sender_uri="http://127.0.0.1:1/steal")
    r = await registry.client.post(f"{ASYNC}/search", json=body, headers=bank.headers())
    assert (r.status_code, r.json()["errors"][0]["code"]) == (400, "err.sender_uri.invalid")
    assert await callback_rows(registry) == []
    # ... and an answer whose URI the partner no longer has is not sent there.
    await _queue_search(registry, bank)
    await register(registry, bank, callback_uris=[receiver.uri("/new")])
    try:
        counts = await run_dci_job(registry, utcnow())
    finally:
        receiver.stop()
    assert (counts["delivered"], counts["retry"]) == (0, 1)
    assert receiver.received == []
    (row,) = await callback_rows(registry)
    assert "not a callback URI the partner registered" in row["last_error"]


async def test_callbacks_go_out_concurrently_up_to_the_limit(dci_registry: Registry) -> None:
    """A slow subscriber no longer caps delivery at one callback per round trip, nor gets more than the limit."""
    registry = dci_registry
    receiver = Receiver(delay=1.0)
    receiver.start()
    bank = Partner("bank.example.id", registry.data_dir)
    await register(registry, bank, callback_uris=[receiver.uri()])
    for _ in range(6):
        await _queue_search(registry, bank)
    policy = Policy(**{**Policy.from_settings(settings_of(registry)).__dict__, "concurrency": 3})
    try:
        counts = await run_dci_job(registry, utcnow(), policy=policy)
    finally:
        receiver.stop()
    assert (counts["answered"], counts["delivered"], counts["retry"]) == (6, 6, 0)
    assert len(receiver.received) == 6
    assert receiver.max_in_flight == 3
    assert {r["status"] for r in await callback_rows(registry)} == {"delivered"}


async def test_the_checked_address_is_the_one_connected_to() -> None:
    """DNS rebinding: the host is resolved once per connection, checked, and that very address is dialled, so an
    answer that changes between a check and a connect cannot reach a private address."""
    receiver = Receiver()
    receiver.start()
    lookups: list[str] = []

    def resolver_giving(*answers: list[str]) -> Resolver:
        pending = list(answers)

        async def resolve(host: str, port: int) -> list[str]:
            lookups.append(host)
            return pending.pop(0)

        return resolve

    uri = f"http://partner.invalid:{receiver.port}/on-search"  # .invalid never resolves through the system
    try:
        allowed = frozenset({"127.0.0.1"})
        transport = PinnedTransport(PinnedBackend(allowed, resolver_giving(["127.0.0.1"])))
        async with httpx.AsyncClient(transport=transport) as client:
            await post(client, uri, b"{}", max_bytes=1024)
        assert lookups == ["partner.invalid"]
        assert [path for path, _ in receiver.received] == ["/on-search"]

        # The answer a rebinding host gives at connect time is the one checked: a private one is refused.
        rebinding = PinnedBackend(frozenset(), resolver_giving(["10.0.0.7"]))
        with pytest.raises(CallbackRefused, match=r"non-public address \['10.0.0.7'\]"):
            await rebinding.connect_tcp("partner.invalid", receiver.port)
        # Any private address in a mixed answer refuses the host.
        mixed = PinnedBackend(frozenset(), resolver_giving(["93.184.216.34", "127.0.0.1"]))
        with pytest.raises(CallbackRefused, match=r"127\.0\.0\.1"):
            await mixed.connect_tcp("partner.invalid", receiver.port)
        assert len(receiver.received) == 1
    finally:
        receiver.stop()
