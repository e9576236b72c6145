"""Prometheus metrics shared by all services (labelled by service, so one process may host several)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

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
WORKER_UP = Gauge(
    "tepat_worker_up", "1 while a background task makes progress, 0 while it retries", ["service", "task"]
)
WORKER_FAILURES = Counter(
    "tepat_worker_failures_total", "Passing failures a background task retried", ["service", "task"]
)
WORKER_RESTARTS = Counter("tepat_worker_restarts_total", "Background tasks restarted after ending", ["service", "task"])
RELAY_LAG = Gauge("tepat_outbox_unpublished", "Outbox rows not yet published", ["service"])
RELAY_LAG_SECONDS = Gauge("tepat_outbox_oldest_unpublished_seconds", "Age of the oldest unpublished event", ["service"])
CONSUMER_LAG = Gauge("tepat_consumer_lag", "Records behind the end of the assigned partitions", ["service"])
JOB_RUNS = Counter("tepat_job_runs_total", "Scheduled job runs by result", ["service", "job", "result"])
JOB_SECONDS = Histogram(
    "tepat_job_run_seconds",
    "Duration of scheduled job runs",
    ["service", "job"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300),
)
JOB_LAST_SUCCESS = Gauge(
    "tepat_job_last_success_timestamp", "Unix time of a job's last successful run", ["service", "job"]
)
