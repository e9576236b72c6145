"""Notification rules as plain functions: which event says what, templates in Bahasa Indonesia, quiet hours,
retry backoff, and the guard that keeps a NIK (or any 16-digit run) out of every message."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from string import Template

from shared.events.payment import PaymentFailureReason, PaymentLineStatusCode

WIB = timedelta(hours=7)  # Padang's clock: quiet hours are local hours
_SIXTEEN_DIGITS = re.compile(r"\d[\d .-]{14,}\d")


class NotificationTemplate(StrEnum):
    """What a notification is about (one template each)."""

    PAYMENT_SCHEDULED = "payment_scheduled"
    PAYMENT_FAILED = "payment_failed"
    VISIT_PLANNED = "visit_planned"
    COMPLAINT_RECEIVED = "complaint_received"
    COMPLAINT_RESOLVED = "complaint_resolved"
    DATA_CORRECTION = "data_correction"


@dataclass(frozen=True)
class Rendered:
    """A message ready for any channel: a short subject (e-mail) and the body (SMS/WhatsApp and e-mail)."""

    subject: str
    body: str


_SIGN = "Dinas Sosial Kota Padang"
TEMPLATES: dict[NotificationTemplate, tuple[str, str]] = {
    NotificationTemplate.PAYMENT_SCHEDULED: (
        "Bantuan $programme tahap $tahap siap diambil",
        "$sign: bantuan $programme tahap $tahap untuk keluarga Anda sudah tersedia di $payer. Bawa KTP dan KK asli "
        "saat mengambil. Pengambilan tidak dipungut biaya.",
    ),
    NotificationTemplate.PAYMENT_FAILED: (
        "Bantuan $programme tahap $tahap belum tersalurkan",
        "$sign: bantuan $programme tahap $tahap untuk keluarga Anda belum dapat disalurkan karena $reason. $action",
    ),
    NotificationTemplate.VISIT_PLANNED: (
        "Kunjungan verifikasi lapangan",
        "$sign: petugas $officer akan mengunjungi rumah Anda untuk verifikasi data paling lambat $due. Petugas "
        "resmi membawa surat tugas dan tidak memungut biaya.",
    ),
    NotificationTemplate.COMPLAINT_RECEIVED: (
        "Pengaduan $reference diterima",
        "$sign: pengaduan Anda nomor $reference ($category) sudah kami terima dan akan ditindaklanjuti. Simpan "
        "nomor ini untuk menanyakan perkembangannya.",
    ),
    NotificationTemplate.COMPLAINT_RESOLVED: (
        "Pengaduan $reference selesai",
        "$sign: pengaduan Anda nomor $reference ($category) sudah selesai ditangani. Bila belum puas, datang ke "
        "kantor kelurahan dengan menyebut nomor pengaduan ini.",
    ),
    NotificationTemplate.DATA_CORRECTION: (
        "Data keluarga perlu diperbaiki",
        "$sign: ada data anggota keluarga Anda yang perlu diperbaiki agar bantuan tidak tertunda. Silakan datang ke "
        "kantor kelurahan dengan membawa KK dan KTP asli.",
    ),
}

FAILURE_TEXT: dict[str, tuple[str, str]] = {
    PaymentFailureReason.ACCOUNT_PROBLEM: (
        "ada masalah pada rekening penerima",
        "Silakan datang ke bank penyalur dengan membawa KTP, KK dan buku tabungan atau kartu KKS.",
    ),
    PaymentFailureReason.NOT_FOUND: (
        "penerima tidak ditemui di alamat yang tercatat",
        "Silakan lapor ke kantor kelurahan dengan membawa KTP dan KK agar alamat diperbarui.",
    ),
    PaymentFailureReason.DECEASED_WITHOUT_HEIR: (
        "penerima tercatat meninggal dunia dan ahli waris belum ditetapkan",
        "Anggota keluarga dapat mengajukan pengganti penerima di kantor kelurahan dengan membawa akta kematian dan KK.",
    ),
    PaymentFailureReason.NOT_COLLECTED: (
        "bantuan belum diambil sampai batas waktu",
        "Silakan hubungi kantor kelurahan untuk jadwal pengambilan berikutnya.",
    ),
}
_FAILURE_FALLBACK = ("ada kendala penyaluran", "Silakan hubungi kantor kelurahan dengan membawa KTP dan KK.")

OFFICER_TEXT = {"tksk": "TKSK", "psm": "PSM", "pendamping_pkh": "pendamping PKH"}


class NikInMessage(ValueError):
    """A rendered message holds a 16-digit run: it is never sent."""


def has_nik_like(text: str) -> bool:
    """True when the text holds 16 or more digits in a row (spaces, dots and dashes between them count too)."""
    return any(sum(ch.isdigit() for ch in m.group()) >= 16 for m in _SIXTEEN_DIGITS.finditer(text))


def render(template: NotificationTemplate, values: dict[str, str]) -> Rendered:
    """Fill a template; raises NikInMessage if the result could carry a NIK, KeyError on a missing value."""
    subject, body = TEMPLATES[template]
    filled = {"sign": _SIGN, **values}
    out = Rendered(Template(subject).substitute(filled), Template(body).substitute(filled))
    if has_nik_like(out.subject) or has_nik_like(out.body):
        raise NikInMessage(f"template {template} rendered a 16-digit run")
    return out


def payment_template(status: str) -> NotificationTemplate | None:
    """The template a payment line status calls for (None: the family is not told)."""
    if status == PaymentLineStatusCode.AT_PAYER:
        return NotificationTemplate.PAYMENT_SCHEDULED
    if status == PaymentLineStatusCode.FAILED:
        return NotificationTemplate.PAYMENT_FAILED
    return None


def failure_values(reason: str | None) -> dict[str, str]:
    """The reason and what to do for a failed payment, in words."""
    why, action = FAILURE_TEXT.get(reason or "", _FAILURE_FALLBACK)
    return {"reason": why, "action": action}


def in_quiet_hours(now: datetime, start_hour: int, end_hour: int) -> bool:
    """True when `now` (naive: UTC) is in the quiet hours [start, end) of Padang's clock; start == end: never."""
    utc = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
    hour = (utc + WIB).hour
    if start_hour == end_hour:
        return False
    if start_hour < end_hour:
        return start_hour <= hour < end_hour
    return hour >= start_hour or hour < end_hour


def retry_delay(attempts: int, *, first_s: float, cap_s: float) -> timedelta:
    """How long to wait after the n-th failed attempt: doubling from `first_s`, capped."""
    return timedelta(seconds=min(cap_s, first_s * 2 ** max(0, attempts - 1)))
