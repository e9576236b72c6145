"""A three-broker Kafka cluster of its own (deploy/scripts/kafka.sh cluster), for tests that kill brokers.

It runs on its own ports and in its own folder, so killing a broker never disturbs the shared test broker."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.support.infra import REPO

SCRIPT = REPO / "deploy" / "scripts" / "kafka.sh"
NODES = (1, 2, 3)
# Each node takes two ports (broker, controller) from the base upwards.
_FIRST_BASE = 29092
_PORTS_PER_CLUSTER = 2 * len(NODES)


@dataclass
class KafkaCluster:
    """One running cluster: its folder and its base port."""

    folder: Path
    base_port: int

    def _script(self, action: str, *node: str) -> None:
        command = ["bash", str(SCRIPT), "cluster", action, str(self.folder), str(self.base_port), *node]
        subprocess.run(command, check=True)

    def port(self, node: int) -> int:
        """The client port of one node."""
        return self.base_port + 2 * (node - 1)

    @property
    def bootstrap(self) -> str:
        """Bootstrap servers naming all three brokers."""
        return ",".join(f"127.0.0.1:{self.port(n)}" for n in NODES)

    def kill(self, node: int) -> None:
        """SIGKILL one broker, as a crash would."""
        self._script("kill", str(node))

    def start_node(self, node: int) -> None:
        """Start one broker again on its log dir; returns when it answers."""
        self._script("start-node", str(node))

    def start(self) -> None:
        """Start every node (idempotent) and create the topics with three replicas."""
        self._script("start")

    def stop(self) -> None:
        """Stop every node."""
        self._script("stop")


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def start_kafka_cluster() -> KafkaCluster:
    """A new cluster in a fresh folder on the first free run of ports from 29092."""
    base = _FIRST_BASE
    while not all(_free(p) for p in range(base, base + _PORTS_PER_CLUSTER)):
        base += 10
    folder = Path(tempfile.mkdtemp(prefix="tepat-kafka-cluster-"))
    cluster = KafkaCluster(folder=folder, base_port=base)
    try:
        cluster.start()
    except BaseException:
        remove_kafka_cluster(cluster)
        raise
    return cluster


def remove_kafka_cluster(cluster: KafkaCluster) -> None:
    """Stop the cluster and delete its folder."""
    subprocess.run(
        ["bash", str(SCRIPT), "cluster", "stop", str(cluster.folder), str(cluster.base_port)],
        check=False,
        capture_output=True,
    )
    shutil.rmtree(cluster.folder, ignore_errors=True)
