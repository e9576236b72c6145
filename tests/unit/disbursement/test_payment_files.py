"""Payment instruction files as pure functions: pain.001 against the ISO 20022 XSD, the Pos CSV, and reading back."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from lxml import etree

from services.disbursement.payer_reports.parsing import RowError, read_rows
from services.disbursement.payment_files import builders as b

XSD = Path(__file__).resolve().parents[2] / "contracts" / "iso20022"
DEBTOR = b.Debtor("Dinas Sosial Kota Padang", "1234567890", "BRINIDJA")
LINES = [
    b.Line(7, "hh-1", "13.71.01", "13.71.01.1001", 600_000),
    b.Line(9, 'hh<&>;"2', "13.71.01", "13.71.01.1002", 300_000),
]


def _schema(name: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD / name)))


def _head(kind: str, lines: list[b.Line]) -> b.FileHead:
    digest = b.LineSetDigest("tahap-1", kind)
    for line in lines:
        digest.add(line)
    return b.FileHead(
        message_id=digest.message_id(),
        created_at=datetime(2026, 3, 1, 10, 30, 15, 123456, tzinfo=UTC),
        execution_date=date(2026, 3, 1),
        count=digest.count,
        total=digest.total,
        programme_code="SEMBAKO",
        tahap_label="2026-I",
    )


def pain001(lines: list[b.Line]) -> bytes:
    """A whole pain.001 file of these lines."""
    head = _head(b.PAIN001, lines)
    body = b"".join(b.pain001_transaction(x, programme_code="SEMBAKO", tahap_label="2026-I") for x in lines)
    return b.pain001_head(head, DEBTOR) + body + b.pain001_tail()


def test_pain001_validates_against_the_iso_xsd_and_carries_the_control_totals() -> None:
    doc = etree.fromstring(pain001(LINES))
    schema = _schema("pain.001.001.09.xsd")
    assert schema.validate(doc), schema.error_log
    ns = {"p": b.PAIN001_NS}
    assert doc.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:NbOfTxs", namespaces=ns) == "2"
    assert doc.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:CtrlSum", namespaces=ns) == "900000"
    assert doc.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:CreDtTm", namespaces=ns) == "2026-03-01T10:30:15Z"
    ids = doc.xpath("//p:CdtTrfTxInf/p:PmtId/p:EndToEndId/text()", namespaces=ns)
    assert ids == ["TPT-7", "TPT-9"]
    amounts = doc.xpath("//p:InstdAmt", namespaces=ns)
    assert [(a.text, a.get("Ccy")) for a in amounts] == [("600000", "IDR"), ("300000", "IDR")]
    # Markup in a household id stays text.
    assert doc.xpath("//p:CdtrAcct//p:Othr/p:Id/text()", namespaces=ns)[1] == 'hh<&>;"2'


def test_an_invalid_pain001_is_refused_by_the_xsd() -> None:
    # The XSD test can fail: a message id longer than Max35Text does not validate.
    head = _head(b.PAIN001, LINES[:1])
    bad = b.FileHead(**{**head.__dict__, "message_id": "X" * 36})
    doc = b.pain001_head(bad, DEBTOR) + b.pain001_transaction(LINES[0], programme_code="S", tahap_label="I")
    assert not _schema("pain.001.001.09.xsd").validate(etree.fromstring(doc + b.pain001_tail()))


def test_the_message_id_follows_the_set_of_lines_not_the_clock() -> None:
    assert _head(b.PAIN001, LINES).message_id == _head(b.PAIN001, list(LINES)).message_id
    assert _head(b.PAIN001, LINES).message_id != _head(b.PAIN001, LINES[:1]).message_id
    assert _head(b.PAIN001, LINES).message_id != _head(b.POS_CSV, LINES).message_id
    assert len(_head(b.PAIN001, LINES).message_id) <= 35


def test_pos_csv_has_header_rows_and_control_trailer() -> None:
    head = _head(b.POS_CSV, LINES)
    rows = [b.pos_row(n, x, programme_code="BLT", tahap_label="2026-I") for n, x in enumerate(LINES, start=1)]
    text = (b.pos_head() + b"".join(rows) + b.pos_tail(head)).decode()
    assert text.split("\r\n") == [
        "no_urut;id_baris;referensi;id_keluarga;kode_kecamatan;kode_kelurahan;kode_program;tahap;nominal",
        "1;7;TPT-7;hh-1;13.71.01;13.71.01.1001;BLT;2026-I;600000",
        '2;9;TPT-9;"hh<&>;""2";13.71.01;13.71.01.1002;BLT;2026-I;300000',
        f"TOTAL;2;900000;{head.message_id}",
        "",
    ]


def _read(data: bytes) -> list[tuple[object, ...] | RowError]:
    return list(read_rows(io.BytesIO(data), "r1"))


def pain002(statuses: list[tuple[str, str, str, str]]) -> bytes:
    """A pain.002.001.12 status report: (end-to-end id, TxSts, reason code, amount) per transaction."""
    txs = "".join(
        "<TxInfAndSts>"
        f"<StsId>S{n}</StsId><OrgnlEndToEndId>{e2e}</OrgnlEndToEndId><TxSts>{sts}</TxSts>"
        + (f"<StsRsnInf><Rsn><Cd>{reason}</Cd></Rsn></StsRsnInf>" if reason else "")
        + "<AccptncDtTm>2026-03-05T08:00:00Z</AccptncDtTm>"
        + f'<OrgnlTxRef><Amt><InstdAmt Ccy="IDR">{amount}</InstdAmt></Amt></OrgnlTxRef>'
        "</TxInfAndSts>"
        for n, (e2e, sts, reason, amount) in enumerate(statuses)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.12"><CstmrPmtStsRpt>'
        "<GrpHdr><MsgId>BANK-1</MsgId><CreDtTm>2026-03-06T09:00:00Z</CreDtTm></GrpHdr>"
        "<OrgnlGrpInfAndSts><OrgnlMsgId>TPT1</OrgnlMsgId><OrgnlMsgNmId>pain.001.001.09</OrgnlMsgNmId>"
        "</OrgnlGrpInfAndSts>"
        f"<OrgnlPmtInfAndSts><OrgnlPmtInfId>TPT1</OrgnlPmtInfId>{txs}</OrgnlPmtInfAndSts>"
        "</CstmrPmtStsRpt></Document>"
    ).encode()


def test_pain002_validates_and_reads_as_payer_rows() -> None:
    data = pain002(
        [
            ("TPT-7", "ACSC", "", "600000"),
            ("TPT-9", "RJCT", "MD07", "300000.00"),
            ("TPT-11", "RJCT", "AC04", "300000"),
            ("TPT-12", "ACSP", "", "300000"),
            ("NOT-OURS", "ACSC", "", "1"),
        ]
    )
    schema = _schema("pain.002.001.12.xsd")
    assert schema.validate(etree.fromstring(data)), schema.error_log
    rows = _read(data)
    assert [r[2:11] for r in rows if not isinstance(r, RowError)] == [
        (7, None, None, None, "paid", 600000, date(2026, 3, 5), "S0", None),
        (9, None, None, None, "failed", 300000, date(2026, 3, 5), "S1", "deceased_without_heir"),
        (11, None, None, None, "failed", 300000, date(2026, 3, 5), "S2", "account_problem"),
        (12, None, None, None, "at_payer", 300000, date(2026, 3, 5), "S3", None),
    ]
    error = rows[-1]
    assert isinstance(error, RowError)
    assert (error.row_no, error.reason) == (5, "invalid_line_id")


def test_a_broken_pain002_is_a_row_error_not_a_crash() -> None:
    rows = _read(pain002([("TPT-7", "ACSC", "", "600000")])[:-30])
    assert isinstance(rows[-1], RowError)
    assert rows[-1].reason == "invalid_xml"


def test_pos_status_csv_reads_indonesian_columns_and_checks_the_trailer() -> None:
    good = (
        b"id_baris;status;nominal;tanggal;referensi_pos;alasan_gagal\r\n"
        b"7;tersalur;600000;2026-03-05;POS-1;\r\n"
        b"9;gagal;300000;2026-03-05;POS-2;not_collected\r\n"
        b"TOTAL;2;900000\r\n"
    )
    rows = _read(good)
    assert [r[2:11] for r in rows if not isinstance(r, RowError)] == [
        (7, None, None, None, "paid", 600000, date(2026, 3, 5), "POS-1", None),
        (9, None, None, None, "failed", 300000, date(2026, 3, 5), "POS-2", "not_collected"),
    ]
    assert not any(isinstance(r, RowError) for r in rows)
    bad = _read(good.replace(b"TOTAL;2;900000", b"TOTAL;3;900000"))
    assert [(e.row_no, e.reason) for e in bad if isinstance(e, RowError)] == [(4, "control_total_mismatch")]


@pytest.mark.parametrize("trailer", [b"", b"TOTAL;1;600000;TPTabc\r\n"])
def test_the_pos_instruction_file_with_status_columns_added_reads_back(trailer: bytes) -> None:
    data = (
        b"no_urut;id_baris;referensi;id_keluarga;kode_kecamatan;kode_kelurahan;kode_program;tahap;nominal;"
        b"status;tanggal;referensi_pos\r\n"
        b"1;7;TPT-7;hh-1;13.71.01;13.71.01.1001;BLT;2026-I;600000;tersalur;2026-03-05;POS-9\r\n" + trailer
    )
    rows = _read(data)
    assert len(rows) == 1
    assert not isinstance(rows[0], RowError)
    assert rows[0][2:11] == (7, "BLT", None, "hh-1", "paid", 600000, date(2026, 3, 5), "POS-9", None)


def test_uuid_household_ids_give_valid_distinct_creditor_references() -> None:
    # Registry household ids are UUIDs (36 characters); the account id is Max34Text. Cutting them to fit made
    # ...-000000000050 and ...-000000000051 the same reference (and 35 characters still broke the XSD).
    lines = [
        b.Line(1, "a2b52f91-2acd-57e6-a0a2-000000000050", "13.71.01", "13.71.01.1001", 600_000),
        b.Line(2, "a2b52f91-2acd-57e6-a0a2-000000000051", "13.71.01", "13.71.01.1001", 600_000),
        b.Line(3, "x" * 100, "13.71.01", "13.71.01.1001", 600_000),
    ]
    doc = etree.fromstring(pain001(lines))
    schema = _schema("pain.001.001.09.xsd")
    assert schema.validate(doc), schema.error_log
    ns = {"p": b.PAIN001_NS}
    accounts = doc.xpath("//p:CdtrAcct//p:Othr/p:Id/text()", namespaces=ns)
    assert accounts[:2] == ["a2b52f912acd57e6a0a2000000000050", "a2b52f912acd57e6a0a2000000000051"]
    assert len(set(accounts)) == 3
    assert doc.xpath("//p:Cdtr//p:Othr/p:Id/text()", namespaces=ns) == accounts
