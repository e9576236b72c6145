"""FastAPI dependencies for the authenticated principal and permission checks."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.auth.permissions import Permission, allowed
from shared.auth.principal import Principal
from shared.auth.tokens import TokenError, VerifiedTokens
from shared.http.problems import ProblemError

_bearer = HTTPBearer(auto_error=False, description="JWT issued by the Tepat issuer (RS256)")


def _verifier(request: Request) -> VerifiedTokens:
    verifier: VerifiedTokens | None = getattr(request.app.state, "token_verifier", None)
    if verifier is None:
        raise ProblemError(503, "Authentication is not configured on this service.")
    return verifier


async def current_principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    """The verified caller, or a 401 problem."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise ProblemError(401, "A bearer token is required.", headers={"WWW-Authenticate": "Bearer"})
    try:
        principal = _verifier(request).verify(credentials.credentials)
    except TokenError as exc:
        raise ProblemError(
            401, str(exc), code="invalid_token", headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
        ) from exc
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require(permission: Permission) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """A dependency that returns the principal if its role holds `permission`, else 403."""

    async def check(principal: CurrentPrincipal) -> Principal:
        if not allowed(principal.role, permission):
            raise ProblemError(
                403,
                f"Role '{principal.role}' may not {permission.value}.",
                code="forbidden",
                permission=permission,
            )
        return principal

    # Tagged so tests (the authorisation matrix) can read each route's required permission from its dependencies.
    check.__tepat_permission__ = permission  # type: ignore[attr-defined]
    return check
