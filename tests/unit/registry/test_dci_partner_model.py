"""The DCI partner body and the dci_partner table are one declaration: what the API takes is what the table holds."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from services.registry.dci.commands import add_arguments, partner_from
from services.registry.dci.models import dci_partner
from services.registry.dci.schemas import PartnerIn, PartnerOut


def _args(tmp_path: Path, *extra: str) -> argparse.Namespace:
    pem = Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    key = tmp_path / "partner.pem"
    key.write_bytes(pem)
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    base = ["--sender-id", "bank.example.id", "--name", "Bank Contoh", "--oauth-subject", "bank-client"]
    return parser.parse_args(
        [*base, "--public-key", str(key), "--wilayah", "13.71", "--fields", "identifier,name", *extra]
    )


def test_the_partner_body_holds_the_table_columns_but_its_timestamps() -> None:
    columns = [c.name for c in dci_partner.columns]
    assert list(PartnerIn.model_fields) == [c for c in columns if c not in {"created_at", "updated_at"}]
    assert list(PartnerOut.model_fields) == columns


def test_the_request_defaults_stay_off_the_table() -> None:
    body = PartnerIn.model_validate(
        {
            "sender_id": "bank.example.id",
            "name": "Bank",
            "oauth_subject": "bank-client",
            "public_key_pem": Ed25519PrivateKey.generate()
            .public_key()
            .public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
            .decode(),
            "query_types": ["predicate"],
            "wilayah": ["13.71"],
            "fields": ["identifier"],
        }
    )
    assert (body.callback_uris, body.active) == ([], True)
    # The table keeps its server default only: a row written without `active` is active by the database's word.
    assert dci_partner.c.active.default is None
    assert dci_partner.c.active.server_default is not None
    assert dci_partner.c.callback_uris.default is None


def test_the_cli_builds_a_partner_from_its_options(tmp_path: Path) -> None:
    partner = partner_from(_args(tmp_path, "--query-types", "idtype-value, predicate"))
    assert partner is not None
    assert partner.query_types == ["idtype-value", "predicate"]
    assert (partner.wilayah, partner.fields, partner.callback_uris, partner.active) == (
        ["13.71"],
        ["identifier", "name"],
        [],
        True,
    )


@pytest.mark.parametrize("query_types", ["graphql", "predicate,sql"])
def test_the_cli_refuses_an_unknown_query_type(
    tmp_path: Path, query_types: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert partner_from(_args(tmp_path, "--query-types", query_types)) is None
    assert "query_types" in capsys.readouterr().out
