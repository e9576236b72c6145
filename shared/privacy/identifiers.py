"""Masking of population identifiers (NIK, No. KK) for display: one form wherever a service shows one."""

from __future__ import annotations

MASK_CHAR = "•"


def mask_identifier(value: str) -> str:
    """Hide the middle of a NIK or No. KK for display: '1371••••••••0012'."""
    if len(value) <= 8:
        # Keeping 4 + 4 characters of a short value would reveal all of it.
        return MASK_CHAR * len(value)
    return value[:4] + MASK_CHAR * (len(value) - 8) + value[-4:]
