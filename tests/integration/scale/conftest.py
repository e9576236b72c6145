"""Scale-out tests: a three-broker cluster of their own, started once per test session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.kafka_cluster import KafkaCluster, remove_kafka_cluster, start_kafka_cluster


@pytest.fixture(scope="session")
def kafka_cluster() -> Iterator[KafkaCluster]:
    """Three brokers on their own ports and state folder (never the shared broker)."""
    cluster = start_kafka_cluster()
    yield cluster
    remove_kafka_cluster(cluster)
