"""A DCI partner's round trip against `make run`: register, sign, search by predicate, then by No. KK and NIK.

    python -m demo.dci_partner [--base-url http://127.0.0.1:8000] [--data-dir data]

The partner's Ed25519 key is made on the first run (data/dci-demo-partner.key); its token comes from the dev
issuer (in production: the gateway's POST /oauth/token with client credentials).
"""

from __future__ import annotations

import argparse
import json
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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


def main() -> None:
    """Run the round trip and print each answer."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--data-dir", default="data")
    args = parser.parse_args()
    data_dir = Path(args.data_dir)
    issuer_key = (data_dir / PRIVATE_KEY_NAME).read_bytes()
    key = _key(data_dir)
    operator = issue_dev_token(issuer_key, subject="ops", role=Role.SYSTEM, wilayah="13.71", client_type="system")
    partner = issue_dev_token(issuer_key, subject=SUBJECT, role=Role.SYSTEM, wilayah="13.71", client_type="system")
    with httpx.Client(base_url=args.base_url, timeout=30) as client:
        registration = {
            "sender_id": SENDER,
            "name": "Demo partner (a bank)",
            "oauth_subject": SUBJECT,
            "public_key_pem": key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode(),
            "callback_uris": ["https://demo-partner.example.id/dci/on-search"],
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


if __name__ == "__main__":
    main()
