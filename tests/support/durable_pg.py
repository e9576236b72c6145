"""A throw-away PostgreSQL cluster that keeps every acknowledged commit, for tests that stop or crash it.

Started by the project's own script (`deploy/scripts/postgres.sh durable`), on its own port, so stopping it
never disturbs the shared test server (whose synchronous_commit=off may drop a commit on a crash)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.support.cluster import free_port
from tests.support.infra import REPO, Infra

SCRIPT = REPO / "deploy" / "scripts" / "postgres.sh"


@dataclass
class DurablePostgres:
    """One cluster: its folder, its port, and the Infra that points the tests at it."""

    folder: Path
    port: int
    kafka_bootstrap: str

    def _script(self, action: str) -> None:
        subprocess.run(["bash", str(SCRIPT), "durable", action, str(self.folder), str(self.port)], check=True)

    def start(self) -> None:
        """Start (and on first use create) the cluster; returns when it accepts connections."""
        self._script("start")

    def stop(self) -> None:
        """Fast shutdown: sessions are ended, the server is unreachable until `start`."""
        self._script("stop")

    def crash(self) -> None:
        """Immediate shutdown, as on a power cut: no checkpoint, recovery from the WAL at the next start."""
        self._script("crash")

    @property
    def infra(self) -> Infra:
        """The test servers with this cluster as PostgreSQL."""
        return Infra(
            pg_admin_url=f"postgresql://postgres:postgres@127.0.0.1:{self.port}/postgres",
            kafka_bootstrap=self.kafka_bootstrap,
            managed=False,
        )


def start_durable_postgres(kafka_bootstrap: str) -> DurablePostgres:
    """A new cluster in a fresh folder the postgres user can enter."""
    base = Path(tempfile.mkdtemp(prefix="tepat-durable-pg-"))
    base.chmod(0o755)
    cluster = DurablePostgres(folder=base / "data", port=free_port(), kafka_bootstrap=kafka_bootstrap)
    cluster.start()
    return cluster


def remove_durable_postgres(cluster: DurablePostgres) -> None:
    """Stop the cluster if it runs and delete its folder."""
    subprocess.run(["bash", str(SCRIPT), "durable", "stop", str(cluster.folder)], check=False, capture_output=True)
    shutil.rmtree(cluster.folder.parent, ignore_errors=True)
