"""The services behind the gateway and how to reach them."""

from __future__ import annotations

from dataclasses import dataclass

from services.gateway.settings import GatewaySettings

SERVICES = ("registry", "verification", "disbursement")


@dataclass(frozen=True)
class Upstream:
    """One service: its name, its public prefix and (distributed mode) its base URL."""

    name: str
    prefix: str
    url: str


def upstreams(settings: GatewaySettings) -> list[Upstream]:
    """The routing table: /api/<service> → service."""
    urls = {
        "registry": settings.registry_url,
        "verification": settings.verification_url,
        "disbursement": settings.disbursement_url,
    }
    return [Upstream(name=n, prefix=f"/api/{n}", url=urls[n].rstrip("/")) for n in SERVICES]
