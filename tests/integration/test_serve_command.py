"""`make run` for real: the `tepat serve` process answers for all four services, and a CLI token works."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx

from services.gateway.settings import GatewaySettings
from tests.support.infra import REPO
from tests.support.waiting import wait_for


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _raw_status_of_huge_head(port: int, size: int) -> int | None:
    """Send a GET whose Authorization header is `size` bytes; the status the server answered, or None if it
    closed the connection before the whole head was even sent."""
    head = f"GET /api/registry/families HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {'a' * size}\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(head.encode())
        try:
            answer = sock.recv(64)
        except ConnectionResetError:
            return None
    return int(answer.split()[1]) if answer.startswith(b"HTTP/1.1 ") else None


async def test_serve_answers_health_for_all_services_and_accepts_cli_tokens(tmp_path: Path) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEPAT_")}
    env["TEPAT_GATEWAY_DATA_DIR"] = str(tmp_path)
    env["TEPAT_GATEWAY_DEMO_FAMILIES"] = "0"  # this test is about serving, not the demo city
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "services.cli", "serve", "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base) as client:

            async def health() -> int:
                try:
                    return (await client.get("/healthz")).status_code
                except httpx.HTTPError:
                    return 0

            await wait_for(health, lambda code: code == 200, timeout=60)
            for name in ("registry", "verification", "disbursement"):
                assert (await client.get(f"/api/{name}/healthz")).json()["service"] == name
            assert (await client.get("/docs")).status_code == 200

            token = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "services.cli",
                    "token",
                    "--role",
                    "system",
                    "--wilayah",
                    "13.71",
                    "--data-dir",
                    str(tmp_path),
                ],
                cwd=REPO,
                env=env,
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
            headers = {"Authorization": f"Bearer {token}"}
            assert (await client.post("/api/registry/ops/probe", headers=headers)).status_code == 202
            wrong = {"Authorization": f"Bearer {token[:-4]}AAAA"}
            assert (await client.post("/api/registry/ops/probe", headers=wrong)).status_code == 401

            # Header limits hold in the real server: a head over the gateway's limit is a 431 problem, and one
            # past the server's own bound (4 x the limit) is cut off by h11 before it is buffered whole.
            limit = GatewaySettings().max_header_bytes
            r = await client.get("/api/registry/families", headers={"Authorization": "Bearer " + "a" * (limit + 10)})
            assert r.status_code == 431
            assert r.json()["code"] == "headers_too_large"
            assert await asyncio.to_thread(_raw_status_of_huge_head, port, 4 * 1024 * 1024) in (None, 400)
            assert (await client.get("/healthz")).status_code == 200
    finally:
        proc.terminate()
        await asyncio.to_thread(proc.wait, 30)
        log.close()
    # uvicorn shuts down cleanly, then re-raises the SIGTERM it caught.
    assert proc.returncode in (0, -signal.SIGTERM)
    assert "Traceback" not in (tmp_path / "serve.log").read_text()
    assert (tmp_path / "registry.db").exists()
