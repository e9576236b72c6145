"""A DCI partner's round trip against `make run`: register, sign, search by predicate, then by No. KK and NIK;
with `--callbacks-port`, also subscribe, search asynchronously and receive on-subscribe, on-search and the notify of
a change made through Tepat's own API on a local callback endpoint (the server must allow callbacks to 127.0.0.1:
`TEPAT_REGISTRY_DCI_CALLBACK_ALLOWED_ADDRESSES='["127.0.0.1"]' make run`; callbacks go out at the scheduler's next
tick, within about 30 s).

    python -m demo.dci_partner [--base-url http://127.0.0.1:8000] [--data-dir data] [--callbacks-port 8765]

The partner's Ed25519 key is made on the first run (data/dci-demo-partner.key); its token comes from the dev
issuer (in production: the gateway's POST /oauth/token with client credentials).
"""

from __future__ import annotations

import argparse
import json
import threading
import time
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
)

from services.registry.dci.signature import sign
from shared.auth.principal import Role
from shared.auth.tokens import PRIVATE_KEY_NAME, issue_dev_token

SENDER = "demo-partner.example.id"
SUBJECT = "client:demo-partner"


def _key(data_dir: Path) -> Ed25519PrivateKey:
    path = data_dir / "dci-demo-partner.key"
    if not path.exists():
        path.write_bytes(Ed25519PrivateKey.generate().private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    key = load_pem_private_key(path.read_bytes(), password=None)
    assert isinstance(key, Ed25519PrivateKey)
    return key


def _envelope(key: Ed25519PrivateKey, criteria: list[dict[str, Any]]) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat(timespec="seconds")
    message = {
        "transaction_id": str(uuid.uuid4()),
        "search_request": [
            {"reference_id": f"ref-{i}", "timestamp": now, "search_criteria": c} for i, c in enumerate(criteria, 1)
        ],
    }
    header = {
        "version": "1.0.0",
        "message_id": str(uuid.uuid4()),
        "message_ts": now,
        "action": "search",
        "sender_id": SENDER,
        "total_count": len(criteria),
    }
    signature = sign(key, sender_id=SENDER, key_id="demo", header=header, message=message, now=int(time.time()))
    return {"signature": signature, "header": header, "message": message}


class _Callbacks(BaseHTTPRequestHandler):
    """The partner's callback endpoint: prints what Tepat sends."""

    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", "0"))))
        _Callbacks.received.append(body)
        print(f"callback {body['header']['action']} (message_id {body['header']['message_id']}):")
        print(json.dumps(body.get("message", {}), indent=2)[:1200])
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return


def _signed(key: Ed25519PrivateKey, action: str, message: dict[str, Any], total: int) -> dict[str, Any]:
    header = {
        "version": "1.0.0",
        "message_id": str(uuid.uuid4()),
        "message_ts": datetime.now(UTC).isoformat(timespec="seconds"),
        "action": action,
        "sender_id": SENDER,
        "total_count": total,
    }
    signature = sign(key, sender_id=SENDER, key_id="demo", header=header, message=message, now=int(time.time()))
    return {"signature": signature, "header": header, "message": message}


def _async_round_trip(
    client: httpx.Client, key: Ed25519PrivateKey, auth: dict[str, str], writer: str, no_kk: str, family_id: str
) -> None:
    """Subscribe to Padang Selatan's families, search by No. KK asynchronously, change the family, wait."""
    now = datetime.now(UTC).isoformat(timespec="seconds")
    criteria = {
        "reg_event_type": "REGISTER",
        "filter_type": "expression",
        "filter": {"type": "tepat:filter", "value": {"expression": "wilayah eq 13.71"}},
        "notify_record_type": "Group",
    }
    subscribe = {
        "transaction_id": str(uuid.uuid4()),
        "subscribe_request": [{"reference_id": "sub-1", "timestamp": now, "subscribe_criteria": criteria}],
    }
    r = client.post("/dci/social/registry/subscribe", json=_signed(key, "subscribe", subscribe, 1), headers=auth)
    print("subscribe:", r.status_code, r.text)
    r = client.post(
        "/dci/social/registry/search",
        json=_envelope(key, [{"query_type": "idtype-value", "query": {"type": "KK", "value": no_kk}}]),
        headers=auth,
    )
    print("async search:", r.status_code, r.text)
    officer = {"Authorization": f"Bearer {writer}"}
    family = client.get(f"/api/registry/families/{family_id}", headers=officer)
    r = client.patch(
        f"/api/registry/families/{family_id}",
        json={"address": f"Jl. Demo DCI {int(time.time()) % 1000}"},
        headers={**officer, "If-Match": family.headers["etag"]},
    )
    print("family changed through Tepat's API:", r.status_code)
    waited = 0
    while waited < 90 and {"on-subscribe", "on-search", "notify"} - {
        b["header"]["action"] for b in _Callbacks.received
    }:
        time.sleep(1)
        waited += 1
    print("callbacks received:", [b["header"]["action"] for b in _Callbacks.received])


def main() -> None:
    """Run the round trip and print each answer."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--data-dir", default="data")
    parser.add_argument("--callbacks-port", type=int, help="also run the async round trip, callbacks on this port")
    args = parser.parse_args()
    data_dir = Path(args.data_dir)
    issuer_key = (data_dir / PRIVATE_KEY_NAME).read_bytes()
    key = _key(data_dir)
    operator = issue_dev_token(issuer_key, subject="ops", role=Role.SYSTEM, wilayah="13.71", client_type="system")
    partner = issue_dev_token(issuer_key, subject=SUBJECT, role=Role.SYSTEM, wilayah="13.71", client_type="system")
    writer = issue_dev_token(issuer_key, subject="demo-verifikator", role=Role.VERIFIKATOR, wilayah="13.71")
    server = None
    callback_uri = "https://demo-partner.example.id/dci/on-search"
    if args.callbacks_port:
        server = ThreadingHTTPServer(("127.0.0.1", args.callbacks_port), _Callbacks)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        callback_uri = f"http://127.0.0.1:{args.callbacks_port}/dci"
    with httpx.Client(base_url=args.base_url, timeout=30) as client:
        registration = {
            "sender_id": SENDER,
            "name": "Demo partner (a bank)",
            "oauth_subject": SUBJECT,
            "public_key_pem": key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode(),
            "callback_uris": [callback_uri],
            "query_types": ["idtype-value", "predicate", "expression"],
            "wilayah": ["13.71"],
            "fields": [
                "identifier",
                "household_identifier",
                "name",
                "sex",
                "birth_date",
                "location",
                "poverty_score",
                "status",
                "group_size",
                "members",
            ],
        }
        r = client.post(
            "/api/registry/dci/partners", json=registration, headers={"Authorization": f"Bearer {operator}"}
        )
        r.raise_for_status()
        print(f"registered {SENDER}")
        auth = {"Authorization": f"Bearer {partner}"}
        poorest = {
            "query_type": "predicate",
            "query": [
                {"seq_num": 1, "expression1": {"attribute_name": "desil", "operator": "le", "attribute_value": 2}}
            ],
            "sort": [{"attribute_name": "desil", "sort_order": "asc"}],
            "pagination": {"page_size": 2, "page_number": 1},
            "consent": {"purpose": {"text": "KKS card issuance check"}},
        }
        r = client.post("/dci/social/registry/sync/search", json=_envelope(key, [poorest]), headers=auth)
        answer = r.json()
        print("predicate desil <= 2:", json.dumps(answer["message"]["search_response"][0]["pagination"]))
        groups = answer["message"]["search_response"][0]["data"]["reg_records"]
        if not groups:
            print("no family with desil <= 2 (is the demo city loaded?)")
            return
        no_kk = groups[0]["identifier"][0]["identifier_value"]
        nik = groups[0]["members"][0]["identifier"][0]["identifier_value"]
        by_id = [
            {"query_type": "idtype-value", "query": {"type": "KK", "value": no_kk}},
            {"query_type": "idtype-value", "query": {"type": "NIK", "value": nik}},
        ]
        r = client.post("/dci/social/registry/sync/search", json=_envelope(key, by_id), headers=auth)
        print(json.dumps(r.json(), indent=2)[:3000])
        unsigned = _envelope(key, by_id)
        unsigned.pop("signature")
        r = client.post("/dci/social/registry/sync/search", json=unsigned, headers=auth)
        print("unsigned:", r.status_code, r.text)
        if server is not None:
            try:
                _async_round_trip(client, key, auth, writer, no_kk, groups[0]["household_identifier"])
            finally:
                server.shutdown()


if __name__ == "__main__":
    main()
