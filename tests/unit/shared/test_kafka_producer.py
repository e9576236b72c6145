"""Every producer of the project (relays, dead-letter publishers) waits for all in-sync replicas."""

from __future__ import annotations

from shared.bus.kafka import make_producer


async def test_every_producer_waits_for_all_in_sync_replicas() -> None:
    producer = make_producer("127.0.0.1:1", "acks-check")  # never started: no broker needed
    # With min.insync.replicas=2 on the three-broker cluster, acks=all (-1) means an acknowledged event is on two
    # brokers at least; idempotence keeps the producer's own retries from duplicating it.
    try:
        assert producer._sender._acks == -1
        assert producer._txn_manager is not None
    finally:
        await producer.stop()
