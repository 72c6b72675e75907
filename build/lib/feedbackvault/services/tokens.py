"""Create, list, revoke and check the bearer tokens of the API."""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import datetime

from feedbackvault.domain.clock import Clock
from feedbackvault.domain.errors import Conflict, NotFound, ValidationFailed
from feedbackvault.domain.ids import new_id
from feedbackvault.services.collection import hash_secret
from feedbackvault.storage.data_models import ApiToken
from feedbackvault.storage.units import Stores

ROLES = ("collector", "privacy_officer", "analyst")
TOKEN_PREFIX = "fv_"  # noqa: S105 - a label, not a secret
# A checked token is trusted for this long per worker process, sparing a query
# per request; a revocation from another process takes effect within it.
TOKEN_CACHE_SECONDS = 5.0
TOKEN_CACHE_SIZE = 1024
# The name is shown in audit entries and logs, so keep it a plain label.
MAX_NAME_LENGTH = 100


@dataclass(frozen=True)
class Caller:
    """Who is calling: the token's name (for the audit log) and its role."""

    name: str
    role: str

    @property
    def actor(self) -> str:
        """Name the caller in audit entries."""
        return f"token:{self.name}"


@dataclass(frozen=True)
class TokenInfo:
    """A token as listed: never its secret."""

    name: str
    role: str
    created_at: datetime
    revoked_at: datetime | None


class TokenService:
    """Manage API tokens, stored only as hashes."""

    def __init__(self, stores: Stores, clock: Clock) -> None:
        self.stores = stores
        self.clock = clock
        self._cache: dict[bytes, tuple[Caller, float]] = {}

    def create(self, role: str, name: str, actor: str = "cli") -> str:
        """Create a token and return its secret, which is never shown again."""
        if role not in ROLES:
            raise ValidationFailed({"role": [f"Must be one of: {', '.join(ROLES)}."]})
        if not name or len(name) > MAX_NAME_LENGTH or not name.isprintable():
            raise ValidationFailed({"name": ["Must be 1 to 100 printable characters."]})
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = self.clock.now()
        with self.stores.data() as unit:
            if unit.tokens.by_name(name) is not None:
                raise Conflict("A token with that name exists already.")
            unit.tokens.add(
                ApiToken(
                    id=new_id(now),
                    name=name,
                    role=role,
                    token_hash=hash_secret(secret),
                    created_at=now,
                )
            )
            unit.audit.append(
                at=now, actor=actor, action="token.created", details={"name": name, "role": role}
            )
        return secret

    def revoke(self, name: str, actor: str = "cli") -> None:
        """Revoke a token by name; revoking twice is harmless."""
        now = self.clock.now()
        with self.stores.data() as unit:
            token = unit.tokens.by_name(name)
            if token is None:
                raise NotFound("No token with that name.")
            self._cache.clear()
            if token.revoked_at is None:
                token.revoked_at = now
                unit.audit.append(
                    at=now, actor=actor, action="token.revoked", details={"name": name}
                )

    def list(self) -> list[TokenInfo]:
        """List every token without its secret."""
        with self.stores.data() as unit:
            return [
                TokenInfo(t.name, t.role, t.created_at, t.revoked_at) for t in unit.tokens.all()
            ]

    def authenticate(self, secret: str) -> Caller | None:
        """Return the caller a live token belongs to, or None."""
        digest = hash_secret(secret)
        cached = self._cache.get(digest)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        with self.stores.read() as unit:
            token = unit.tokens.by_hash(digest)
            # The lookup is by hash; compare in constant time all the same.
            if token is None or not hmac.compare_digest(token.token_hash, digest):
                return None
            if token.revoked_at is not None:
                return None
            caller = Caller(token.name, token.role)
        if len(self._cache) >= TOKEN_CACHE_SIZE:
            self._cache.clear()
        self._cache[digest] = (caller, time.monotonic() + TOKEN_CACHE_SECONDS)
        return caller
