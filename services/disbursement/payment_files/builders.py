"""Payment instruction files as pure functions over payment lines: ISO 20022 pain.001.001.09 and the Pos CSV.

Both are written in pieces (head, one piece per line, tail) so a caller can stream 250,000 lines; the head holds
the control totals, which the caller knows only after reading every line, hence `FileHead` comes last.
Every byte follows from the tahap and its lines (never the clock), so building the file again gives the same bytes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime
from xml.sax.saxutils import escape

PAIN001 = "pain.001.001.09"
POS_CSV = "pos_csv_v1"
KINDS = (PAIN001, POS_CSV)
PAIN001_NS = f"urn:iso:std:iso:20022:tech:xsd:{PAIN001}"
# The Pos profile (docs/PAYMENT_FILES.md): UTF-8, ';' separated, CRLF, one header row, a control trailer.
POS_HEADER = (
    "no_urut",
    "id_baris",
    "referensi",
    "id_keluarga",
    "kode_kecamatan",
    "kode_kelurahan",
    "kode_program",
    "tahap",
    "nominal",
)
POS_TRAILER = "TOTAL"
END_TO_END_PREFIX = "TPT-"


@dataclass(frozen=True)
class Line:
    """A payment line as the files need it."""

    line_id: int
    household_id: str
    kecamatan_code: str
    kelurahan_code: str
    amount: int


@dataclass(frozen=True)
class Debtor:
    """The paying office's account (from the service settings)."""

    name: str
    account: str
    agent_bic: str


@dataclass(frozen=True)
class FileHead:
    """What the head of a file says: identity, dates and the control totals."""

    message_id: str
    created_at: datetime
    execution_date: date
    count: int
    total: int
    programme_code: str
    tahap_label: str


def end_to_end_id(line_id: int) -> str:
    """The reference a payer echoes back for a line (pain.002 OrgnlEndToEndId, Pos `referensi`)."""
    return f"{END_TO_END_PREFIX}{line_id}"


def line_id_of(end_to_end: str) -> str:
    """The line id inside an end-to-end reference ('' when it is not one of Tepat's)."""
    text = end_to_end.strip()
    return text[len(END_TO_END_PREFIX) :] if text.startswith(END_TO_END_PREFIX) else ""


class LineSetDigest:
    """A running digest of the lines in a file: the message id changes exactly when the set of lines does."""

    def __init__(self, tahap_id: str, kind: str) -> None:
        self._sha = hashlib.sha256(f"{kind}|{tahap_id}".encode())
        self.count = 0
        self.total = 0

    def add(self, line: Line) -> None:
        """Count one line into the digest and the control totals."""
        self._sha.update(f"|{line.line_id}:{line.household_id}:{line.amount}".encode())
        self.count += 1
        self.total += line.amount

    def message_id(self) -> str:
        """At most 35 characters (ISO 20022 Max35Text)."""
        return "TPT" + self._sha.hexdigest()[:32]


def _text(value: str, limit: int) -> str:
    return escape(value[:limit])


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0, tzinfo=None).isoformat() + "Z"


def pain001_head(head: FileHead, debtor: Debtor) -> bytes:
    """Document, group header and the one payment information block, up to its first transaction."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<Document xmlns="{PAIN001_NS}">\n'
        "<CstmrCdtTrfInitn>\n"
        "<GrpHdr>"
        f"<MsgId>{head.message_id}</MsgId>"
        f"<CreDtTm>{_timestamp(head.created_at)}</CreDtTm>"
        f"<NbOfTxs>{head.count}</NbOfTxs>"
        f"<CtrlSum>{head.total}</CtrlSum>"
        f"<InitgPty><Nm>{_text(debtor.name, 140)}</Nm></InitgPty>"
        "</GrpHdr>\n"
        "<PmtInf>"
        f"<PmtInfId>{head.message_id}</PmtInfId>"
        "<PmtMtd>TRF</PmtMtd>"
        f"<NbOfTxs>{head.count}</NbOfTxs>"
        f"<CtrlSum>{head.total}</CtrlSum>"
        f"<ReqdExctnDt><Dt>{head.execution_date.isoformat()}</Dt></ReqdExctnDt>"
        f"<Dbtr><Nm>{_text(debtor.name, 140)}</Nm></Dbtr>"
        f"<DbtrAcct><Id><Othr><Id>{_text(debtor.account, 34)}</Id></Othr></Id><Ccy>IDR</Ccy></DbtrAcct>"
        f"<DbtrAgt><FinInstnId><BICFI>{_text(debtor.agent_bic, 11)}</BICFI></FinInstnId></DbtrAgt>"
        "<ChrgBr>DEBT</ChrgBr>\n"
    ).encode()


def creditor_reference(household_id: str) -> str:
    """The household id as the creditor's reference, within Max34Text (the account id's limit) and never shared by
    two families: a UUID loses its hyphens (32 characters), a longer id becomes 'H' + 33 hex of its SHA-256."""
    if len(household_id) <= 34:
        return household_id
    compact = household_id.replace("-", "")
    if len(compact) <= 34:
        return compact
    return "H" + hashlib.sha256(household_id.encode("utf-8")).hexdigest()[:33]


def pain001_transaction(line: Line, *, programme_code: str, tahap_label: str) -> bytes:
    """One CdtTrfTxInf: the family's account is the payer-side KKS reference (no account numbers in Tepat)."""
    reference = escape(creditor_reference(line.household_id))
    return (
        "<CdtTrfTxInf>"
        f"<PmtId><EndToEndId>{end_to_end_id(line.line_id)}</EndToEndId></PmtId>"
        f'<Amt><InstdAmt Ccy="IDR">{line.amount}</InstdAmt></Amt>'
        f"<Cdtr><Id><PrvtId><Othr><Id>{reference}</Id><SchmeNm><Prtry>TEPAT</Prtry></SchmeNm></Othr>"
        "</PrvtId></Id></Cdtr>"
        f"<CdtrAcct><Id><Othr><Id>{reference}</Id><SchmeNm><Prtry>KKS</Prtry></SchmeNm></Othr></Id></CdtrAcct>"
        f"<RmtInf><Ustrd>{_text(f'{programme_code} {tahap_label} {line.kelurahan_code}', 140)}</Ustrd></RmtInf>"
        "</CdtTrfTxInf>\n"
    ).encode()


def pain001_tail() -> bytes:
    """Closes the payment information block and the document."""
    return b"</PmtInf>\n</CstmrCdtTrfInitn>\n</Document>\n"


def _csv_field(value: str) -> str:
    # Ids and codes never need quoting; a separator or quote inside one would shift columns, so it is quoted.
    if any(c in value for c in ';"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def _csv_row(values: tuple[str, ...]) -> bytes:
    return (";".join(_csv_field(v) for v in values) + "\r\n").encode()


def pos_head() -> bytes:
    """The header row of the Pos CSV."""
    return _csv_row(POS_HEADER)


def pos_row(n: int, line: Line, *, programme_code: str, tahap_label: str) -> bytes:
    """One data row of the Pos CSV (n counts from 1)."""
    return _csv_row(
        (
            str(n),
            str(line.line_id),
            end_to_end_id(line.line_id),
            line.household_id,
            line.kecamatan_code,
            line.kelurahan_code,
            programme_code,
            tahap_label,
            str(line.amount),
        )
    )


def pos_tail(head: FileHead) -> bytes:
    """The control trailer: TOTAL;count;sum;file id."""
    return _csv_row((POS_TRAILER, str(head.count), str(head.total), head.message_id))
