"""Token verification refuses every forgery the gateway and services may meet."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from shared.auth.principal import Role, ScopeLevel
from shared.auth.tokens import (
    PRIVATE_KEY_NAME,
    PUBLIC_KEY_NAME,
    TokenError,
    TokenVerifier,
    ensure_dev_keys,
    issue_dev_token,
    load_public_key,
)


@pytest.fixture
def keys(tmp_path: Path) -> tuple[bytes, TokenVerifier]:
    ensure_dev_keys(tmp_path)
    private = (tmp_path / PRIVATE_KEY_NAME).read_bytes()
    verifier = TokenVerifier(
        issuer="tepat-dev", audience="tepat", public_key=load_public_key(tmp_path / PUBLIC_KEY_NAME)
    )
    return private, verifier


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_valid_token_gives_principal(keys: tuple[bytes, TokenVerifier]) -> None:
    private, verifier = keys
    token = issue_dev_token(private, subject="tksk-ps", role=Role.TKSK, wilayah="13.71.01")
    principal = verifier.verify(token)
    assert (principal.subject, principal.role, principal.wilayah) == ("tksk-ps", Role.TKSK, "13.71.01")
    assert principal.scope_level is ScopeLevel.KECAMATAN


def test_expired_token_refused(keys: tuple[bytes, TokenVerifier]) -> None:
    private, verifier = keys
    token = issue_dev_token(private, subject="x", role=Role.TKSK, wilayah="13.71.01", ttl_s=-10)
    with pytest.raises(TokenError, match="expired"):
        verifier.verify(token)


def test_wrong_audience_and_issuer_refused(keys: tuple[bytes, TokenVerifier]) -> None:
    private, verifier = keys
    with pytest.raises(TokenError, match="audience"):
        verifier.verify(issue_dev_token(private, subject="x", role=Role.TKSK, wilayah="13.71", audience="other"))
    with pytest.raises(TokenError, match="issuer"):
        verifier.verify(issue_dev_token(private, subject="x", role=Role.TKSK, wilayah="13.71", issuer="evil"))


def test_token_signed_by_another_key_refused(keys: tuple[bytes, TokenVerifier], tmp_path: Path) -> None:
    _, verifier = keys
    other = tmp_path / "other"
    ensure_dev_keys(other)
    forged = issue_dev_token(
        (other / PRIVATE_KEY_NAME).read_bytes(), subject="x", role=Role.VERIFIKATOR, wilayah="13.71"
    )
    with pytest.raises(TokenError, match="invalid token"):
        verifier.verify(forged)


def test_alg_none_refused(keys: tuple[bytes, TokenVerifier]) -> None:
    _, verifier = keys
    now = int(time.time())
    claims = {
        "sub": "x",
        "role": "verifikator",
        "wilayah": "13.71",
        "iss": "tepat-dev",
        "aud": "tepat",
        "iat": now,
        "exp": now + 60,
    }
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    with pytest.raises(TokenError):
        verifier.verify(unsigned)


def test_hs256_with_public_key_as_secret_refused(keys: tuple[bytes, TokenVerifier], tmp_path: Path) -> None:
    # The classic key-confusion forgery: sign HMAC with the (public) RSA key bytes.
    _, verifier = keys
    public_pem = load_public_key(tmp_path / PUBLIC_KEY_NAME).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    now = int(time.time())
    claims = {
        "sub": "x",
        "role": "verifikator",
        "wilayah": "13.71",
        "iss": "tepat-dev",
        "aud": "tepat",
        "iat": now,
        "exp": now + 60,
    }
    header = _b64({"alg": "HS256", "typ": "JWT"})
    import hashlib
    import hmac

    body = f"{header}.{_b64(claims)}"
    sig = base64.urlsafe_b64encode(hmac.new(public_pem, body.encode(), hashlib.sha256).digest()).rstrip(b"=")
    with pytest.raises(TokenError):
        verifier.verify(f"{body}.{sig.decode()}")


def test_unknown_role_or_bad_wilayah_refused(keys: tuple[bytes, TokenVerifier]) -> None:
    private, verifier = keys
    now = int(time.time())
    for extra in ({"role": "superuser", "wilayah": "13.71"}, {"role": "tksk", "wilayah": "Padang"}):
        claims = {"sub": "x", "iss": "tepat-dev", "aud": "tepat", "iat": now, "exp": now + 60, **extra}
        with pytest.raises(TokenError, match="role or wilayah"):
            verifier.verify(jwt.encode(claims, private, algorithm="RS256"))


def test_verifier_without_key_refuses() -> None:
    with pytest.raises(TokenError, match="no key"):
        TokenVerifier(issuer="a", audience="b").verify("x.y.z")
