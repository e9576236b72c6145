"""Real PostgreSQL and Kafka for the tests: started by the project's own scripts, or taken from the environment.

TEPAT_TEST_PG_ADMIN_URL (a superuser URL, e.g. postgresql://postgres:pw@host:5432/postgres) and
TEPAT_TEST_KAFKA_BOOTSTRAP (host:port) point the tests at servers you already run; otherwise
deploy/scripts/infra.sh starts local ones.
"""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg

REPO = Path(__file__).resolve().parents[2]
INIT_SQL = REPO / "deploy" / "postgres" / "init.sql"
# init.sql makes the roles without passwords; test clusters log in with password = role name.
DEV_PASSWORDS_SQL = REPO / "deploy" / "postgres" / "dev-passwords.sql"
SERVICES = ("registry", "verification", "disbursement")


@dataclass(frozen=True)
class Infra:
    """Where the test servers are."""

    pg_admin_url: str
    kafka_bootstrap: str
    managed: bool

    @property
    def pg_host(self) -> str:
        """Host of the PostgreSQL server."""
        return urlsplit(self.pg_admin_url).hostname or "127.0.0.1"

    @property
    def pg_port(self) -> int:
        """Port of the PostgreSQL server."""
        return urlsplit(self.pg_admin_url).port or 5432

    def admin_url(self, database: str) -> str:
        """Superuser URL of another database on the same server."""
        parts = urlsplit(self.pg_admin_url)
        return parts._replace(path=f"/{database}").geturl()

    def service_url(self, service: str, database: str, *, driver: str = "postgresql+asyncpg") -> str:
        """URL a service uses: its own login role, on the given database."""
        return f"{driver}://{service}:{service}@{self.pg_host}:{self.pg_port}/{database}"


def _infra_up(attempts: int = 3) -> None:
    """Run `infra.sh up`, again after a pause if it fails; on the last failure raise with its whole output."""
    output = ""
    for attempt in range(1, attempts + 1):
        # Captured, not inherited: pytest hides a session fixture's stderr, and CI must show why the servers failed.
        done = subprocess.run(
            ["bash", str(REPO / "deploy/scripts/infra.sh"), "up"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            check=False,
        )
        if done.returncode == 0:
            return
        output += f"--- infra.sh up, attempt {attempt}: exit {done.returncode}\n{done.stdout}"
        if attempt < attempts:
            time.sleep(5 * attempt)
    raise RuntimeError(f"deploy/scripts/infra.sh up failed {attempts} times:\n{output}")


def start_infra() -> Infra:
    """Use the servers named in the environment, or start the local ones (idempotent)."""
    admin = os.environ.get("TEPAT_TEST_PG_ADMIN_URL")
    kafka = os.environ.get("TEPAT_TEST_KAFKA_BOOTSTRAP")
    if admin and kafka:
        return Infra(pg_admin_url=admin, kafka_bootstrap=kafka, managed=False)
    _infra_up()
    port = os.environ.get("TEPAT_PG_PORT", "55432")
    kafka = "127.0.0.1:19092"
    if os.environ.get("TEPAT_KAFKA_BROKERS") == "3":  # infra.sh started the three-broker cluster instead
        base = int(os.environ.get("TEPAT_KAFKA_CLUSTER_PORT", "29092"))
        kafka = ",".join(f"127.0.0.1:{base + 2 * i}" for i in range(3))
    return Infra(
        pg_admin_url=f"postgresql://postgres:postgres@127.0.0.1:{port}/postgres",
        kafka_bootstrap=kafka,
        managed=True,
    )


def restart_kafka() -> None:
    """Restart the local broker with the same log dirs (only for managed infrastructure)."""
    subprocess.run(["bash", str(REPO / "deploy/scripts/kafka.sh"), "restart"], check=True)


async def create_database(infra: Infra, prefix: str) -> str:
    """A new database named `prefix_<random>`, initialised by the same init.sql Compose uses; its name."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(infra.admin_url("postgres"))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    conn = await asyncpg.connect(infra.admin_url(name))
    try:
        await conn.execute(INIT_SQL.read_text())
        await conn.execute(DEV_PASSWORDS_SQL.read_text())
    finally:
        await conn.close()
    return name


async def drop_database(infra: Infra, name: str) -> None:
    """Drop a database, ending any session still on it."""
    admin = await asyncpg.connect(infra.admin_url("postgres"))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()
