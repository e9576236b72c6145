"""The gateway's own Prometheus metrics (requests by route and status come from RequestContextMiddleware)."""

from __future__ import annotations

from prometheus_client import Counter

GATEWAY_REJECTIONS = Counter(
    "tepat_gateway_rejections_total",
    "Requests the gateway refused before any service saw them, by reason (rate limits, lockouts, size limits)",
    ["reason"],
)
