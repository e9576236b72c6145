"""The chaos run of bench/chaos.py, short: 1,000 families through registry → Kafka → verification and
disbursement while at least 5 random faults hit processes, a broker and PostgreSQL; then nothing lost, nothing
applied twice, order per family kept, both read models equal to the registry."""

from __future__ import annotations

import pytest

from bench.chaos import run
from tests.support.kafka_cluster import KafkaCluster

pytestmark = pytest.mark.infra


async def test_short_chaos_run_loses_duplicates_and_diverges_nothing(kafka_cluster: KafkaCluster) -> None:
    result = await run(families=1000, faults=5, kafka=kafka_cluster, drain_timeout=600)
    s = result["summary"]
    assert s["faults"] >= 5
    assert result["checks"]["families"] >= 950  # the generator leaves a few families for the second quarter only
    assert s["household_events"] >= result["checks"]["families"]
    assert s["drain_seconds"] is not None, f"did not drain: {result['checks']}"
    assert s["unpublished"] == 0
    assert s["lost"] == 0
    assert s["duplicated"] == 0
    assert s["order_violations"] == 0
    assert s["diverged"] == 0, result["checks"]
    assert s["dead_letters"] == 0
    assert result["checks"]["registry_version_matches_events"] == 0
