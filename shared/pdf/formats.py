"""Numbers, money and dates as an Indonesian reader writes them (1.234.567; Rp 600.000; 20 Juni 2026)."""

from __future__ import annotations

from datetime import date

MONTHS = (
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
)


def number(value: int) -> str:
    """An integer with dots between thousands."""
    return f"{value:,}".replace(",", ".")


def rupiah(value: int) -> str:
    """An amount in rupiah."""
    return f"Rp {number(value)}"


def percent(value: float) -> str:
    """A percentage with one decimal and a decimal comma."""
    return f"{value:.1f}".replace(".", ",") + "%"


def tanggal(day: date) -> str:
    """A date written out: 20 Juni 2026."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"
