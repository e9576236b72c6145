"""The gateway's cache of verified tokens: a hit skips the signature check, never past the token's expiry."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from shared.auth.principal import Principal, Role
from shared.auth.tokens import (
    PRIVATE_KEY_NAME,
    PUBLIC_KEY_NAME,
    TokenError,
    TokenVerifier,
    VerifiedTokens,
    ensure_dev_keys,
    issue_dev_token,
    load_public_key,
)


class CountingVerifier(TokenVerifier):
    """A real verifier that counts its signature checks."""

    calls = 0

    def verify(self, token: str) -> Principal:
        self.calls += 1
        return super().verify(token)


def _verifier(tmp_path: Path) -> CountingVerifier:
    ensure_dev_keys(tmp_path)
    key = load_public_key(tmp_path / PUBLIC_KEY_NAME)
    return CountingVerifier(issuer="tepat-dev", audience="tepat", public_key=key, jwks_url=None)


def _token(tmp_path: Path, ttl_s: int = 3600) -> str:
    pem = (tmp_path / PRIVATE_KEY_NAME).read_bytes()
    return issue_dev_token(pem, subject="s", role=Role.TKSK, wilayah="13.71.01", ttl_s=ttl_s)


def test_a_verified_token_is_checked_once_and_bad_ones_every_time(tmp_path: Path) -> None:
    verifier = _verifier(tmp_path)
    tokens = VerifiedTokens(verifier)
    good = _token(tmp_path)
    assert tokens.verify(good) == tokens.verify(good)
    assert tokens.verify(good).wilayah == "13.71.01"
    assert verifier.calls == 1
    for _ in range(2):
        with pytest.raises(TokenError):
            tokens.verify(good[:-4] + "AAAA")
    assert verifier.calls == 3


class Clock:
    """Wall-clock seconds the test moves by hand."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def test_a_hit_is_never_served_past_the_tokens_expiry(tmp_path: Path) -> None:
    verifier = _verifier(tmp_path)
    clock = Clock()
    tokens = VerifiedTokens(verifier, max_age_s=10_000, clock=clock)
    token = _token(tmp_path, ttl_s=60)
    tokens.verify(token)
    clock.now += 30
    tokens.verify(token)
    assert verifier.calls == 1
    clock.now += 31  # past exp: the cache checks again (and the verifier refuses the token once it is expired)
    tokens.verify(token)
    assert verifier.calls == 2


def test_a_hit_is_checked_again_after_max_age(tmp_path: Path) -> None:
    verifier = _verifier(tmp_path)
    clock = Clock()
    tokens = VerifiedTokens(verifier, max_age_s=300, clock=clock)
    token = _token(tmp_path)
    tokens.verify(token)
    clock.now += 299
    tokens.verify(token)
    assert verifier.calls == 1
    clock.now += 2
    tokens.verify(token)
    assert verifier.calls == 2


def test_an_expired_token_is_refused(tmp_path: Path) -> None:
    verifier = _verifier(tmp_path)
    pem = (tmp_path / PRIVATE_KEY_NAME).read_bytes()
    expired = issue_dev_token(pem, subject="s", role=Role.TKSK, wilayah="13.71.01", ttl_s=-600)
    with pytest.raises(TokenError, match="expired"):
        VerifiedTokens(verifier).verify(expired)


def test_the_cache_is_bounded(tmp_path: Path) -> None:
    tokens = VerifiedTokens(_verifier(tmp_path), max_entries=3)
    for i in range(5):
        pem = (tmp_path / PRIVATE_KEY_NAME).read_bytes()
        tokens.verify(issue_dev_token(pem, subject=f"s{i}", role=Role.PSM, wilayah="13.71.01.1001"))
    assert len(tokens._verified) == 3
