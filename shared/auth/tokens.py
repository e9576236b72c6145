"""JWT verification (RS256; a local dev issuer or a JWKS) and the dev issuer used in embedded mode and tests."""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from shared.auth.principal import Principal, Role, scope_level_of

ALGORITHMS = ["RS256"]
PRIVATE_KEY_NAME = "dev-jwt-private.pem"
PUBLIC_KEY_NAME = "dev-jwt-public.pem"


class TokenError(Exception):
    """A token that must be refused; the message says why (safe to show)."""


@dataclass
class TokenVerifier:
    """Verifies bearer tokens against a public key or a JWKS endpoint."""

    issuer: str
    audience: str
    public_key: Any = None
    jwks_url: str | None = None

    def __post_init__(self) -> None:
        self._jwks = jwt.PyJWKClient(self.jwks_url) if self.jwks_url else None

    def verify(self, token: str) -> Principal:
        """Return the principal of a valid token, else raise TokenError."""
        try:
            key = self._jwks.get_signing_key_from_jwt(token).key if self._jwks else self.public_key
            if key is None:
                raise TokenError("no key configured to verify tokens")
            claims = jwt.decode(
                token,
                key,
                algorithms=ALGORITHMS,  # never 'none', never HS* with a public key
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise TokenError("token expired") from exc
        except jwt.InvalidAudienceError as exc:
            raise TokenError("token audience not accepted") from exc
        except jwt.InvalidIssuerError as exc:
            raise TokenError("token issuer not accepted") from exc
        except jwt.PyJWTError as exc:
            raise TokenError(f"invalid token: {exc}") from exc
        return principal_from_claims(claims)


class VerifiedTokens:
    """Tokens already verified, until they expire (at most `max_age_s`): a client sends the same token on every
    request, and an RS256 check costs more than the rest of the gateway's (or a service's) own work for it. Bounded;
    refusals are never remembered."""

    def __init__(
        self,
        verifier: TokenVerifier,
        max_entries: int = 10_000,
        max_age_s: float = 300.0,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.verifier = verifier
        self.max_entries = max_entries
        self.max_age_s = max_age_s
        # Wall-clock seconds: compared with the token's exp claim.
        self.clock = clock
        self._verified: OrderedDict[str, tuple[Principal, float]] = OrderedDict()

    def verify(self, token: str) -> Principal:
        """The token's principal; raises TokenError like TokenVerifier.verify."""
        now = self.clock()
        hit = self._verified.get(token)
        if hit is not None and now < hit[1]:
            self._verified.move_to_end(token)
            return hit[0]
        principal = self.verifier.verify(token)
        # The signature is checked above; the payload is only read again for its expiry.
        exp = jwt.decode(token, options={"verify_signature": False}).get("exp")
        until = min(float(exp), now + self.max_age_s) if isinstance(exp, int | float) else now
        self._verified[token] = (principal, until)
        if len(self._verified) > self.max_entries:
            self._verified.popitem(last=False)
        return principal


def principal_from_claims(claims: dict[str, Any]) -> Principal:
    """Build a Principal from verified claims; refuses unknown roles and malformed wilayah codes."""
    try:
        role = Role(claims["role"])
        wilayah = str(claims["wilayah"])
        scope_level_of(wilayah)
    except (KeyError, ValueError) as exc:
        raise TokenError("token lacks a valid role or wilayah claim") from exc
    return Principal(
        subject=str(claims["sub"]),
        role=role,
        wilayah=wilayah,
        client_type=str(claims.get("client_type", "user")),
    )


def load_public_key(path: Path) -> Any:
    """Read a PEM public key."""
    return serialization.load_pem_public_key(path.read_bytes())


def ensure_dev_keys(folder: Path) -> tuple[Path, Path]:
    """Create the dev issuer's RSA key pair in `folder` if missing; returns (private, public) paths."""
    folder.mkdir(parents=True, exist_ok=True)
    private_path, public_path = folder / PRIVATE_KEY_NAME, folder / PUBLIC_KEY_NAME
    if not private_path.exists() or not public_path.exists():
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        private_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        private_path.chmod(0o600)
        public_path.write_bytes(
            key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        )
    return private_path, public_path


def issue_dev_token(
    private_key_pem: bytes,
    *,
    subject: str,
    role: Role | str,
    wilayah: str,
    issuer: str = "tepat-dev",
    audience: str = "tepat",
    ttl_s: int = 8 * 3600,
    client_type: str = "user",
) -> str:
    """Sign a token as the dev issuer would (embedded mode, tests, the `tepat token` CLI)."""
    now = int(time.time())
    claims = {
        "sub": subject,
        "role": str(Role(role)),
        "wilayah": wilayah,
        "client_type": client_type,
        "iss": issuer,
        "aud": audience,
        "iat": now,
        "exp": now + ttl_s,
        "jti": str(uuid.uuid4()),
    }
    key = serialization.load_pem_private_key(private_key_pem, password=None)
    return jwt.encode(claims, private_key_pem, algorithm="RS256", headers={"kid": key_id(key.public_key())})


def key_id(public_key: Any) -> str:
    """A stable key id (RFC 7638-style thumbprint prefix) so JWKS consumers can pick the right key."""
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()[:16]


def public_jwk(public_key: Any) -> dict[str, str]:
    """The public key as a JWK (for /.well-known/jwks.json)."""
    numbers = public_key.public_numbers()

    def b64(n: int) -> str:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return {
        "kty": "RSA",
        "use": "sig",
        "alg": "RS256",
        "kid": key_id(public_key),
        "n": b64(numbers.n),
        "e": b64(numbers.e),
    }
