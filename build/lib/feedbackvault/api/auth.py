"""Check bearer tokens and roles before a view parses anything."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import g, request

from feedbackvault.api.context import services
from feedbackvault.api.problems import problem
from feedbackvault.services.tokens import Caller

F = TypeVar("F", bound=Callable[..., Any])
BEARER_SECURITY: list[dict[str, list[str]]] = [{"bearerAuth": []}]
ROLES_ATTRIBUTE = "feedbackvault_roles"


def bearer_secret() -> str | None:
    """Return the token of an `Authorization: Bearer` header, if well formed."""
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip() or " " in secret.strip():
        return None
    return secret.strip()


def require_role(*roles: str) -> Callable[[F], F]:
    """Allow the view only to a live token holding one of `roles` (401, else 403)."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            secret = bearer_secret()
            caller = services().tokens.authenticate(secret) if secret else None
            if caller is None:
                return problem(401, "Unauthorized", headers={"WWW-Authenticate": "Bearer"})
            if caller.role not in roles:
                return problem(403, "Forbidden")
            g.caller = caller
            return view(*args, **kwargs)

        setattr(guarded, ROLES_ATTRIBUTE, frozenset(roles))
        return cast(F, guarded)

    return decorate


def current_caller() -> Caller:
    """Return the caller that `require_role` let through."""
    caller = g.get("caller")
    assert isinstance(caller, Caller), "view is not behind require_role"
    return caller
