"""The DCI message signature: Ed25519 over a digest of {header}+{message}, in the spec's `Signature:` format.

Signing string (as the spec's MsgSignature example lays out, `headers="(created) (expires) digest"`):
    (created): <unix seconds>\n(expires): <unix seconds>\ndigest: BLAKE-512=<base64 BLAKE2b-512 of the body>
where the body is the canonical JSON (sorted keys, no spaces, UTF-8) of {"header": …, "message": …}.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

ALGORITHM = "ed25519"
_PARAM = re.compile(r'(\w+)="([^"]*)"')


class SignatureError(Exception):
    """A signature that is missing (code err.signature.missing) or does not verify (err.signature.invalid)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ParsedSignature:
    """The parts of a `Signature:` value."""

    sender_id: str
    key_id: str
    created: int
    expires: int
    signature: bytes


def canonical_body(header: Any, message: Any) -> bytes:
    """The bytes both sides digest: canonical JSON of header and message."""
    return json.dumps(
        {"header": header, "message": message}, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode()


def signing_string(header: Any, message: Any, created: int, expires: int) -> bytes:
    """What the Ed25519 key signs."""
    digest = base64.b64encode(hashlib.blake2b(canonical_body(header, message), digest_size=64).digest()).decode()
    return f"(created): {created}\n(expires): {expires}\ndigest: BLAKE-512={digest}".encode()


def sign(
    private_key: Ed25519PrivateKey,
    *,
    sender_id: str,
    key_id: str,
    header: Any,
    message: Any,
    now: int,
    ttl_s: int = 300,
) -> str:
    """A `Signature:` value for this header and message (partners' side)."""
    return sign_with(
        private_key.sign, sender_id=sender_id, key_id=key_id, header=header, message=message, now=now, ttl_s=ttl_s
    )


def sign_with(
    signer: Callable[[bytes], bytes],
    *,
    sender_id: str,
    key_id: str,
    header: Any,
    message: Any,
    now: int,
    ttl_s: int = 300,
) -> str:
    """A `Signature:` value made by `signer` (an Ed25519 sign function; Tepat's callbacks use its key file)."""
    created, expires = now, now + ttl_s
    value = base64.b64encode(signer(signing_string(header, message, created, expires))).decode()
    return (
        f'Signature: namespace="dci", kidId="{sender_id}|{key_id}|{ALGORITHM}", algorithm="{ALGORITHM}", '
        f'created="{created}", expires="{expires}", headers="(created) (expires) digest", signature="{value}"'
    )


def parse(value: str | None) -> ParsedSignature:
    """Read a `Signature:` value; SignatureError when missing or malformed."""
    if not value or not value.strip():
        raise SignatureError("err.signature.missing", "The message carries no signature.")
    params = dict(_PARAM.findall(value))
    try:
        sender_id, key_id, algorithm = params["kidId"].split("|")
        if algorithm != ALGORITHM or params.get("algorithm", ALGORITHM) != ALGORITHM:
            raise SignatureError("err.signature.invalid", f"Only {ALGORITHM} signatures are accepted.")
        return ParsedSignature(
            sender_id=sender_id,
            key_id=key_id,
            created=int(params["created"]),
            expires=int(params["expires"]),
            signature=base64.b64decode(params["signature"], validate=True),
        )
    except (KeyError, ValueError) as exc:
        raise SignatureError("err.signature.invalid", "The signature is not in the spec's format.") from exc


@functools.lru_cache(maxsize=256)
def load_public_key(pem: str) -> Ed25519PublicKey:
    """A partner's Ed25519 public key from PEM; ValueError for anything else (parsed once per distinct PEM: every
    request of a partner is checked against the same key)."""
    key = load_pem_public_key(pem.encode())
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("the public key must be an Ed25519 key")
    return key


def verify(value: str | None, *, public_key_pem: str, sender_id: str, header: Any, message: Any, now: int) -> None:
    """Check the signature of a request from `sender_id`; raises SignatureError."""
    parsed = parse(value)
    if parsed.sender_id != sender_id:
        raise SignatureError("err.signature.invalid", "The signature's key id names another sender.")
    if not parsed.created <= now + 60 or now > parsed.expires:
        raise SignatureError("err.signature.invalid", "The signature has expired or is not yet valid.")
    try:
        load_public_key(public_key_pem).verify(
            parsed.signature, signing_string(header, message, parsed.created, parsed.expires)
        )
    except InvalidSignature as exc:
        raise SignatureError("err.signature.invalid", "The signature does not match the message.") from exc
