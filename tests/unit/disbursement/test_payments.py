"""The payment line state machine and the payer file parser."""

from __future__ import annotations

import io
from datetime import date

from services.disbursement.payer_reports.parsing import RowError, file_sha256, parse_row, read_rows
from services.disbursement.payments.rules import can_move, failure_reason_required, sources_of
from services.disbursement.tahap_state.rules import TahapStatus, allowed_from
from shared.events.payment import PaymentFailureReason
from shared.events.payment import PaymentLineStatusCode as S


def test_line_transitions() -> None:
    assert can_move(S.PLANNED, S.SPM)
    assert can_move(S.AT_PAYER, S.PAID)
    assert can_move(S.FAILED, S.RETURNED)
    assert can_move(S.PAID, S.DISPUTED)
    assert can_move(S.DISPUTED, S.RECOVERED)
    assert not can_move(S.PAID, S.FAILED)
    assert not can_move(S.ON_HOLD, S.PAID)  # a held line is never paid by a report
    assert not can_move(S.RETURNED, S.PAID)
    assert S.ON_HOLD not in sources_of(S.PAID)


def test_failure_reason_only_for_failed() -> None:
    assert failure_reason_required(S.FAILED, None)
    assert not failure_reason_required(S.FAILED, PaymentFailureReason.NOT_FOUND)
    assert failure_reason_required(S.PAID, PaymentFailureReason.NOT_FOUND)


def test_tahap_cancel_only_before_approval() -> None:
    assert allowed_from("cancel") == {TahapStatus.DRAFT, TahapStatus.LIST_GENERATED}
    assert TahapStatus.APPROVED not in allowed_from("generate")


def test_parse_row_accepts_payer_words_and_natural_identity() -> None:
    row = parse_row(
        2,
        {
            "programme_code": "PKH",
            "tahap_id": "t",
            "household_id": "h",
            "status": "Tersalur",
            "amount": "600000",
            "date": "2026-02-01",
            "reference": "R1",
        },
        "rep",
    )
    assert not isinstance(row, RowError)
    assert row[6] == "paid"
    assert row[7] == 600_000
    assert row[8] == date(2026, 2, 1)
    assert row[11] == "K:PKH|t|h"


def test_parse_row_errors() -> None:
    assert isinstance(bad := parse_row(2, {"line_id": "x1", "status": "paid"}, "r"), RowError)
    assert bad.reason == "invalid_line_id"
    assert parse_row(3, {"line_id": "1", "status": "paid"}, "r").reason == "missing_amount"  # type: ignore[union-attr]
    assert parse_row(4, {"line_id": "1", "status": "failed", "amount": "5"}, "r").reason == (  # type: ignore[union-attr]
        "invalid_failure_reason"
    )
    assert parse_row(5, {"line_id": "1", "status": "lost"}, "r").reason == "invalid_status"  # type: ignore[union-attr]
    assert parse_row(6, {"status": "paid", "amount": "1"}, "r").reason == "missing_identity"  # type: ignore[union-attr]


def test_read_rows_streams_and_hash_rewinds() -> None:
    data = b"line_id,status,amount\n1,paid,5\n2,gagal,5\n"
    stream = io.BytesIO(data)
    assert len(file_sha256(stream)) == 64
    assert stream.tell() == 0
    rows = list(read_rows(stream, "r"))
    assert isinstance(rows[1], RowError)
    assert rows[1].reason == "invalid_failure_reason"
    assert not isinstance(rows[0], RowError)
    assert rows[0][1] == 2
