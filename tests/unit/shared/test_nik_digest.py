"""Keyed NIK digests: the same HMAC in Python and in SQL (SQLite here; PostgreSQL in the registry's import tests)."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import pytest
from sqlalchemy import literal, select

from services.registry.settings import RegistrySettings
from shared.db.engine import create_engine, session_factory
from shared.privacy.digest import _pads, digest_sql, load_or_create_key, nik_digest
from shared.privacy.identifiers import mask_identifier

NIK = "1371014505900001"


def test_digest_is_hmac_sha256_under_the_key() -> None:
    assert nik_digest(NIK, b"k1") == hmac.new(b"k1", NIK.encode(), hashlib.sha256).hexdigest()
    assert nik_digest(NIK, b"k1") != nik_digest(NIK, b"k2")  # without the key, no NIK can be tried against it
    assert nik_digest(NIK, b"k1") != hashlib.sha256(NIK.encode()).hexdigest()


@pytest.mark.parametrize("key", [b"short", b"x" * 64, b"y" * 100])
def test_the_pads_postgresql_uses_spell_out_the_same_hmac(key: bytes) -> None:
    inner, outer = _pads(key)
    spelled = hashlib.sha256(outer + hashlib.sha256(inner + NIK.encode()).digest()).hexdigest()
    assert spelled == nik_digest(NIK, key)


async def test_sqlite_sql_gives_the_python_digest(tmp_path: Path) -> None:
    settings = RegistrySettings(data_dir=tmp_path)
    engine = create_engine(settings)
    try:
        async with session_factory(engine, settings)() as session:
            got = (await session.execute(select(digest_sql(session, literal(NIK))))).scalar_one()
    finally:
        await engine.dispose()
    assert got == nik_digest(NIK, settings.nik_digest_secret())


def test_dev_key_is_made_once_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "nik-digest.key"
    first = load_or_create_key(path)
    assert load_or_create_key(path) == first
    assert len(first) == 64
    assert path.stat().st_mode & 0o077 == 0
    assert list(path.parent.iterdir()) == [path]  # no draft left behind
    configured = RegistrySettings(data_dir=tmp_path, nik_digest_key="from-compose")
    assert configured.nik_digest_secret() == b"from-compose"


def test_masked_nik_keeps_only_its_ends() -> None:
    assert mask_identifier(NIK) == "1371••••••••0001"
