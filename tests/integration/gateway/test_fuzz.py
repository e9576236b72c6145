"""Property-based fuzzing of every operation in the OpenAPI documents (schemathesis, in-process over ASGI).

Whatever the input, the API answers without a server error, and every client error is an RFC 9457 problem
document. Embedded: the whole gateway on SQLite, as a verifikator and as a TKSK. PostgreSQL: each service app on
its own database (the gateway has no database settings), where NUL bytes, huge integers and far dates bite.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings, strategies
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.python.asgi import shutdown_lifespans

from services.disbursement.app import create_app as create_disbursement
from services.disbursement.settings import DisbursementSettings
from services.gateway.app import create_app
from services.gateway.settings import GatewaySettings
from services.registry.app import create_app as create_registry
from services.registry.settings import RegistrySettings
from services.verification.app import create_app as create_verification
from services.verification.settings import VerificationSettings
from shared.auth.principal import Role
from tests.support.api import auth

# Examples per operation and generation mode: ~115 operations x 2 modes x 2 callers stay under two minutes.
# A longer random exploration: TEPAT_FUZZ_EXAMPLES=200 TEPAT_FUZZ_RANDOM=1 pytest tests/integration/gateway/test_fuzz.py
EXAMPLES = int(os.environ.get("TEPAT_FUZZ_EXAMPLES", "12"))
PG_EXAMPLES = int(os.environ.get("TEPAT_FUZZ_EXAMPLES", "20"))
DERANDOMIZE = os.environ.get("TEPAT_FUZZ_RANDOM") != "1"
PROBLEM = "application/problem+json"
DCI_PREFIX = "/dci/social/registry/"


@pytest.fixture
def lifespans() -> Iterator[None]:
    """Schemathesis runs each app's lifespan in its own loop thread: stop them when the test ends."""
    try:
        yield
    finally:
        shutdown_lifespans()


def fuzz(app: FastAPI, headers: dict[str, str], examples: int) -> list[str]:
    """Every operation of the app's document, positive and negative inputs; returns the failures found."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []
    for result in schema.get_all_operations():
        if not isinstance(result, Ok):
            failures.append(f"the document has an invalid operation: {result.err()}")
            continue
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            strategy = operation.as_strategy(generation_mode=mode)
            try:
                _run(strategy, headers, examples)
            except Unsatisfiable:
                continue  # nothing to make invalid: the operation takes no parameters and no body
            except (AssertionError, BaseExceptionGroup) as exc:
                failures.append(f"{operation.label} ({mode.value}): {str(exc)[:600]}")
            except Exception as exc:  # an error raised out of the app is a 500 in production
                failures.append(f"{operation.label} ({mode.value}): {type(exc).__name__}: {str(exc)[:600]}")
    return failures


def _run(strategy: strategies.SearchStrategy[Any], headers: dict[str, str], examples: int) -> None:
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=DERANDOMIZE,
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    @given(case=strategy)
    def check(case: Any) -> None:
        response = case.call(headers=headers)
        case.validate_response(response, checks=[not_a_server_error])
        if 400 <= response.status_code < 500 and case.formatted_path.startswith(DCI_PREFIX):
            # The DCI Social Registry API answers in the spec's HttpErrorResponse, never a problem document.
            assert isinstance(response.json().get("errors"), list), f"{case.formatted_path}: {response.text[:200]}"
        elif 400 <= response.status_code < 500:
            content_type = response.headers.get("content-type", [""])
            content_type = content_type[0] if isinstance(content_type, list) else content_type
            assert content_type.startswith(PROBLEM), (
                f"{case.method} {case.formatted_path} → {response.status_code} with {content_type!r}"
            )

    check()


def _report(failures: list[str]) -> str:
    return f"{len(failures)} operations failed:\n" + "\n\n".join(failures)


@pytest.mark.parametrize(("role", "wilayah"), [(Role.VERIFIKATOR, "13.71"), (Role.TKSK, "13.71.01")])
def test_no_input_makes_the_embedded_gateway_fail(tmp_path: Path, lifespans: None, role: Role, wilayah: str) -> None:
    app = create_app(
        GatewaySettings(
            data_dir=tmp_path,
            rate_limit_per_minute=1_000_000,
            rate_limit_burst=1_000_000,
            write_rate_limit_per_minute=1_000_000,
            address_rate_limit_per_minute=1_000_000,
            address_rate_limit_burst=1_000_000,
            anonymous_rate_limit_per_minute=1_000_000,
            anonymous_rate_limit_burst=1_000_000,
            log_json=False,
            log_level="CRITICAL",
        )
    )
    failures = fuzz(app, auth(tmp_path, role, wilayah, subject=f"fuzz-{role}"), EXAMPLES)
    assert not failures, _report(failures)


SERVICES: list[tuple[type[Any], Callable[..., FastAPI]]] = [
    (RegistrySettings, create_registry),
    (VerificationSettings, create_verification),
    (DisbursementSettings, create_disbursement),
]


@pytest.mark.infra
@pytest.mark.parametrize(("settings_cls", "factory"), SERVICES, ids=[s.service_name for s, _ in SERVICES])
def test_no_input_makes_a_service_fail_on_postgresql(
    pg_settings: Any, lifespans: None, settings_cls: type[Any], factory: Callable[..., FastAPI]
) -> None:
    # The database is under test here, not the broker: the in-process bus keeps /readyz honest without Kafka.
    service_settings = pg_settings(settings_cls, auto_migrate=True, bus="local", log_level="CRITICAL")
    app = factory(service_settings)
    headers = auth(service_settings.data_dir, Role.VERIFIKATOR, "13.71", subject="fuzz-pg")
    failures = fuzz(app, headers, PG_EXAMPLES)
    assert not failures, _report(failures)
