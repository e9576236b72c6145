"""A partner system in tests: its Ed25519 key, its OAuth2 token and signed DCI messages."""

from __future__ import annotations

import copy
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from services.registry.dci.signature import sign
from tests.support.api import auth


@dataclass
class Partner:
    """A partner with its own key and token subject."""

    sender_id: str
    data_dir: Path
    key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)

    @property
    def subject(self) -> str:
        """The OAuth2 subject of the partner's token."""
        return f"client:{self.sender_id}"

    def headers(self) -> dict[str, str]:
        """Authorization with the partner's token (role system)."""
        return auth(self.data_dir, "system", "13.71", subject=self.subject)

    def registration(self, **overrides: Any) -> dict[str, Any]:
        """The admin API body that registers this partner."""
        pem = self.key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
        body: dict[str, Any] = {
            "sender_id": self.sender_id,
            "name": f"Partner {self.sender_id}",
            "oauth_subject": self.subject,
            "public_key_pem": pem,
            "callback_uris": ["http://127.0.0.1:9/on-search"],
            "query_types": ["idtype-value", "predicate", "expression"],
            "wilayah": ["13.71"],
            "fields": [
                "identifier",
                "name",
                "sex",
                "birth_date",
                "location",
                "poverty_score",
                "status",
                "group_size",
                "members",
                "household_identifier",
                "relationship",
                "is_deceased",
            ],
        }
        body.update(overrides)
        return body

    def envelope(
        self,
        message: dict[str, Any],
        *,
        action: str = "search",
        signer: Ed25519PrivateKey | None = None,
        total: int | None = None,
        **header_fields: Any,
    ) -> dict[str, Any]:
        """A signed DCI request body (with its own copy of `message`; extra header fields, e.g. sender_uri)."""
        message = copy.deepcopy(message)
        header = {
            "version": "1.0.0",
            "message_id": str(uuid.uuid4()),
            "message_ts": datetime.now(UTC).isoformat(timespec="seconds"),
            "action": action,
            "sender_id": self.sender_id,
            "total_count": total if total is not None else len(message.get("search_request", [1])),
            **header_fields,
        }
        signature = sign(
            signer or self.key,
            sender_id=self.sender_id,
            key_id="k1",
            header=header,
            message=message,
            now=int(time.time()),
        )
        return {"signature": signature, "header": header, "message": message}


def search_message(*criteria: dict[str, Any]) -> dict[str, Any]:
    """A SearchRequest with one search_request per criteria."""
    now = datetime.now(UTC).isoformat(timespec="seconds")
    return {
        "transaction_id": str(uuid.uuid4()),
        "search_request": [
            {"reference_id": f"ref-{i}", "timestamp": now, "search_criteria": c} for i, c in enumerate(criteria, 1)
        ],
    }


def by_id(id_type: str, value: str, **extra: Any) -> dict[str, Any]:
    """idtype-value criteria."""
    return {"query_type": "idtype-value", "query": {"type": id_type, "value": value}, **extra}


def predicate(*conditions: tuple[str, str, Any], **extra: Any) -> dict[str, Any]:
    """predicate criteria: each condition its own expression (joined with AND)."""
    items = [
        {"seq_num": i, "expression1": {"attribute_name": a, "operator": o, "attribute_value": v}}
        for i, (a, o, v) in enumerate(conditions, 1)
    ]
    return {"query_type": "predicate", "query": items, **extra}
