"""The Kafka topics of Tepat, defined once: services, deploy scripts and tests read this list."""

from __future__ import annotations

from dataclasses import dataclass

REGISTRY_HOUSEHOLD = "registry.household.v1"
VERIFICATION_OUTCOME = "verification.outcome.v1"
DISBURSEMENT_PAYMENT = "disbursement.payment.v1"
# Used only by the foundation's tests and benchmark, so they never disturb the services' own topics.
PROBE = "tepat.probe.v1"


@dataclass(frozen=True)
class TopicSpec:
    """A topic with its fixed partition count."""

    name: str
    partitions: int


def dlq_name(topic: str) -> str:
    """The dead-letter topic of a topic."""
    return f"{topic}.dlq"


_MAIN = (
    TopicSpec(REGISTRY_HOUSEHOLD, 6),
    TopicSpec(VERIFICATION_OUTCOME, 6),
    TopicSpec(DISBURSEMENT_PAYMENT, 6),
    TopicSpec(PROBE, 3),
)

ALL_TOPICS: tuple[TopicSpec, ...] = _MAIN + tuple(TopicSpec(dlq_name(t.name), 1) for t in _MAIN)
