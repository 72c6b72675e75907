"""Store the privacy centre's e-mailed links and encrypted contact addresses."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from feedbackvault.storage.data_models import PrivacyContact, PrivacyLink


class PrivacyCentreRepository:
    """Links and contacts inside one data transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, *rows: PrivacyLink | PrivacyContact) -> None:
        """Insert new links and contacts."""
        self.session.add_all(rows)
        self.session.flush()

    def link_for_update(self, token_hash: bytes) -> PrivacyLink | None:
        """Find a link by its token's hash and lock it until the transaction ends."""
        query = select(PrivacyLink).where(PrivacyLink.token_hash == token_hash)
        return self.session.scalars(query.with_for_update()).first()

    def link(self, token_hash: bytes) -> PrivacyLink | None:
        """Find a link by its token's hash."""
        query = select(PrivacyLink).where(PrivacyLink.token_hash == token_hash)
        return self.session.scalars(query).first()

    def contact(self, contact_id: str) -> PrivacyContact | None:
        """Return one contact."""
        return self.session.get(PrivacyContact, contact_id)

    def contacts_of(self, request_id: str) -> list[PrivacyContact]:
        """Return the contacts attached to a request."""
        query = select(PrivacyContact).where(PrivacyContact.request_id == request_id)
        return list(self.session.scalars(query))

    def attach(self, contact_id: str, request_id: str) -> None:
        """Name the request a contact belongs to."""
        self.session.execute(
            update(PrivacyContact)
            .where(PrivacyContact.id == contact_id)
            .values(request_id=request_id)
        )

    def forget_contacts(self, contact_ids: Sequence[str]) -> None:
        """Delete contacts (their keys are shredded in the key store) and unlink their links."""
        if not contact_ids:
            return
        ids = list(contact_ids)
        self.session.execute(delete(PrivacyContact).where(PrivacyContact.id.in_(ids)))
        self.session.execute(
            update(PrivacyLink).where(PrivacyLink.contact_id.in_(ids)).values(contact_id=None)
        )

    def existing_contacts(self, contact_ids: Sequence[str]) -> set[str]:
        """Return those of these ids that name a stored contact."""
        if not contact_ids:
            return set()
        query = select(PrivacyContact.id).where(PrivacyContact.id.in_(list(contact_ids)))
        return {str(contact_id) for contact_id in self.session.scalars(query)}

    def unconfirmed_before(self, cutoff: datetime, limit: int) -> list[str]:
        """Return contacts made before `cutoff` that no request was confirmed for."""
        query = (
            select(PrivacyContact.id)
            .where(PrivacyContact.request_id.is_(None), PrivacyContact.created_at <= cutoff)
            .order_by(PrivacyContact.created_at)
            .limit(limit)
        )
        return [str(contact_id) for contact_id in self.session.scalars(query)]
