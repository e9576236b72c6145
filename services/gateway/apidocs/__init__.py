"""Swagger UI and ReDoc served from the project itself, so /docs and /redoc work with no network."""
