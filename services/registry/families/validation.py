"""Checks of family and member input with the domain rules (DOMAIN §6), collected as problem-detail errors."""

from __future__ import annotations

from datetime import date
from typing import Any

from services.registry.domain.identifiers import (
    IdentifierError,
    NikInfo,
    kecamatan_of,
    parse_wilayah_code,
    validate_nik,
    validate_no_kk,
    validate_rt_rw,
)
from services.registry.domain.wilayah import default_wilayah
from shared.http.problems import ProblemError


class Errors:
    """Field errors of one request; `raise_if_any` turns them into one 422 problem."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def add(self, field: str, reason: str, message: str) -> None:
        """Record that `field` breaks rule `reason`."""
        self.items.append({"field": field, "reason": reason, "message": message})

    def raise_if_any(self) -> None:
        """Answer 422 naming every failing field."""
        if self.items:
            fields = ", ".join(e["field"] for e in self.items[:5])
            raise ProblemError(422, f"Invalid input in: {fields}", code="validation", errors=self.items)


def check_nik(errors: Errors, field: str, nik: str, today: date) -> NikInfo | None:
    """Validate a NIK; record an error naming `field` and the rule broken."""
    try:
        return validate_nik(nik, today=today)
    except IdentifierError as exc:
        errors.add(field, exc.field_reason, exc.message)
        return None


def check_no_kk(errors: Errors, field: str, no_kk: str, today: date) -> None:
    """Validate a No. KK."""
    try:
        validate_no_kk(no_kk, today=today)
    except IdentifierError as exc:
        errors.add(field, exc.field_reason, exc.message)


def check_rt_rw(errors: Errors, field: str, value: str) -> str | None:
    """Normalise RT/RW to 3 digits ('7' → '007')."""
    try:
        return validate_rt_rw(value, field)
    except IdentifierError as exc:
        errors.add(field, exc.field_reason, exc.message)
        return None


def check_kelurahan(errors: Errors, field: str, code: str) -> str | None:
    """The kecamatan of a known kelurahan code; an error if the code is malformed or not a kelurahan."""
    try:
        parse_wilayah_code(code)
    except IdentifierError as exc:
        errors.add(field, exc.field_reason, exc.message)
        return None
    if not default_wilayah().is_kelurahan(code):
        errors.add(field, "wilayah.unknown_kelurahan", "kelurahan_code must be a known kelurahan or desa code")
        return None
    return kecamatan_of(code)


def check_member_dates(errors: Errors, prefix: str, info: NikInfo | None, birth_date: date | None, today: date) -> None:
    """A birth date must not be in the future (a NIK date differing from it is for a ground check, not here)."""
    if birth_date is not None and birth_date > today:
        errors.add(f"{prefix}birth_date", "birth_date.future", "birth date is in the future")
