"""Pure parts of verification's report documents: the batch list hash, the period check, the TKSK builder."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime

import pytest

from services.verification.ratification.rules import list_hash
from services.verification.workreports.pdf import tksk_report_document
from services.verification.workreports.schemas import CampaignWork, OfficerWork, OutcomeCount, TkskReport
from services.verification.workreports.service import check_period
from shared.http.problems import ProblemError
from shared.pdf.document import Signatory, render
from tests.support.pdf import pdf_text, rows_starting_with

ROW = {
    "id": 7,
    "household_id": "hh-1",
    "kecamatan_code": "13.71.01",
    "kelurahan_code": "13.71.01.1001",
    "kind": "desil_review",
    "channel": "citizen_app",
    "ground_check_id": 3,
}


def test_list_hash_is_the_documented_lines_in_id_order() -> None:
    other = ROW | {"id": 2, "household_id": None, "ground_check_id": None, "kind": "new_family"}
    expected = hashlib.sha256(
        b"2;;13.71.01;13.71.01.1001;new_family;citizen_app;\n7;hh-1;13.71.01;13.71.01.1001;desil_review;citizen_app;3\n"
    ).hexdigest()
    assert list_hash([ROW, other]) == expected
    assert list_hash([other, ROW]) == expected  # order of the input does not matter
    assert list_hash([ROW]) != expected
    assert list_hash([]) == hashlib.sha256(b"").hexdigest()


def test_period_must_run_forward_and_fit_a_year() -> None:
    check_period(date(2026, 1, 1), date(2026, 1, 1))
    check_period(date(2026, 1, 1), date(2026, 12, 31))
    for start, end, field in (
        (date(2026, 2, 1), date(2026, 1, 31), "to"),
        (date(2026, 1, 1), date(2027, 1, 2), "to"),
        (date(9999, 12, 30), date(9999, 12, 31), "from"),  # the day after would not exist
        (date(2099, 12, 30), date(9999, 12, 31), "to"),
        (date(1, 1, 1), date(2026, 1, 1), "from"),
    ):
        with pytest.raises(ProblemError) as caught:
            check_period(start, end)
        assert (caught.value.status, caught.value.errors[0]["field"]) == (422, field)  # type: ignore[index]


def test_tksk_document_rows_and_totals() -> None:
    report = TkskReport(
        kecamatan_code="13.71.01",
        period_from=date(2026, 6, 1),
        period_to=date(2026, 6, 30),
        as_of=date(2026, 6, 30),
        officers=[
            OfficerWork(
                officer="tksk-a", role="tksk", assigned=1200, visited=900, layak=700, tidak_layak=200, overdue=5
            ),
            OfficerWork(officer=None, role=None, assigned=3, visited=0, layak=0, tidak_layak=0, overdue=3),
        ],
        outcomes=[OutcomeCount(outcome="tidak_layak", reason="deceased", visits=200)],
        campaigns=[CampaignWork(campaign_id=4, name="Revalidasi", counts={"approved": 3, "open": 1}, total=4, done=3)],
    )
    sig = Signatory("Padang", "Kepala Dinas Sosial Kota Padang", "Nama", "-")
    document = tksk_report_document(report, created_at=datetime(2026, 6, 30, tzinfo=UTC))
    text = pdf_text(render(document, sig))
    assert rows_starting_with(text, "tksk-a")[0][1:] == ["tksk", "1.200", "900", "700", "200", "5"]
    assert rows_starting_with(text, "(belum ditugaskan)")[0][1:] == ["-", "3", "0", "0", "0", "3"]
    assert rows_starting_with(text, "Jumlah")[0][1:] == ["1.203", "900", "700", "200", "8"]
    assert rows_starting_with(text, "tidak layak")[0][1:] == ["meninggal dunia", "200"]
    assert rows_starting_with(text, "4. Revalidasi")[0][1:] == ["4", "3", "1", "75,0%"]
    assert "Padang, 30 Juni 2026" in text
