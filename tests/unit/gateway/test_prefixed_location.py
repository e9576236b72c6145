"""Location headers as clients see them through the gateway."""

from __future__ import annotations

import pytest

from services.gateway.proxy import prefixed_location


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ("/families/0b1c", "/api/registry/families/0b1c"),
        ("/imports/42?view=errors", "/api/registry/imports/42?view=errors"),
        # Already through the gateway, absolute URLs and scheme-relative URLs are left alone.
        ("/api/registry/families/0b1c", "/api/registry/families/0b1c"),
        ("https://tepat.padang.go.id/families/1", "https://tepat.padang.go.id/families/1"),
        ("//elsewhere.example/families/1", "//elsewhere.example/families/1"),
        ("families/1", "families/1"),
        # A path that merely starts with the same letters is still prefixed.
        ("/api/registryx", "/api/registry/api/registryx"),
    ],
)
def test_prefixed_location(location: str, expected: str) -> None:
    assert prefixed_location(location, "/api/registry") == expected
