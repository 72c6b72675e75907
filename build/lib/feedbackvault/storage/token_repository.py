"""Store API tokens by the hash of their secret."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from feedbackvault.storage.data_models import ApiToken


class TokenRepository:
    """API tokens inside one data transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, token: ApiToken) -> None:
        """Insert a new token row."""
        self.session.add(token)
        self.session.flush()

    def by_hash(self, token_hash: bytes) -> ApiToken | None:
        """Find the token whose secret hashes to `token_hash`."""
        return self.session.scalars(
            select(ApiToken).where(ApiToken.token_hash == token_hash)
        ).first()

    def by_name(self, name: str) -> ApiToken | None:
        """Find a token by its name."""
        return self.session.scalars(select(ApiToken).where(ApiToken.name == name)).first()

    def all(self) -> list[ApiToken]:
        """List every token, oldest first."""
        return list(self.session.scalars(select(ApiToken).order_by(ApiToken.created_at)))
