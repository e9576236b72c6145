"""Prometheus metrics shared by all services (labelled by service, so one process may host several)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

HTTP_REQUESTS = Counter("tepat_http_requests_total", "HTTP requests served", ["service", "method", "route", "status"])
HTTP_LATENCY = Histogram(
    "tepat_http_request_seconds",
    "HTTP request latency",
    ["service", "method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
EVENTS_PUBLISHED = Counter("tepat_outbox_published_total", "Events relayed from the outbox", ["service"])
EVENTS_CONSUMED = Counter("tepat_events_consumed_total", "Events applied by consumers", ["service", "topic"])
DEAD_LETTERS = Counter("tepat_dead_letters_total", "Events sent to the dead-letter queue", ["service", "topic"])
