"""Store people's console accounts in the data database."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from feedbackvault.storage.data_models import Account


class AccountRepository:
    """Console accounts inside one data transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, account: Account) -> None:
        """Insert a new account."""
        self.session.add(account)
        self.session.flush()

    def by_email(self, email: str, *, for_update: bool = False) -> Account | None:
        """Find an account by its (lower-cased) e-mail address, locking it if asked."""
        query = select(Account).where(Account.email == email)
        if for_update:
            query = query.with_for_update()
        return self.session.scalars(query).first()

    def by_id(self, account_id: str) -> Account | None:
        """Find an account by its id."""
        return self.session.get(Account, account_id)

    def all(self) -> list[Account]:
        """List every account, oldest first."""
        return list(self.session.scalars(select(Account).order_by(Account.created_at, Account.id)))
