"""Store data-subject requests (access, rectification, erasure) in the data database."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from feedbackvault.storage.data_models import PrivacyRequest

# Statuses in which a request still has to be answered (and can become overdue).
OPEN_STATUSES = ("received", "verified")


class PrivacyRequestRepository:
    """Data-subject requests inside one data transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, request: PrivacyRequest) -> None:
        """Insert a new request."""
        self.session.add(request)
        self.session.flush()

    def get(self, request_id: str) -> PrivacyRequest | None:
        """Load a request by id."""
        return self.session.get(PrivacyRequest, request_id)

    def get_for_update(self, request_id: str) -> PrivacyRequest | None:
        """Load a request and lock it until the transaction ends."""
        return self.session.scalars(
            select(PrivacyRequest).where(PrivacyRequest.id == request_id).with_for_update()
        ).first()

    def listing(self, status: str | None, now: datetime, limit: int) -> list[PrivacyRequest]:
        """List requests, oldest first; `overdue` means open and past its due date."""
        query: Select[tuple[PrivacyRequest]] = select(PrivacyRequest)
        if status == "overdue":
            query = query.where(
                PrivacyRequest.status.in_(OPEN_STATUSES), PrivacyRequest.due_at < now
            )
        elif status is not None:
            query = query.where(PrivacyRequest.status == status)
        query = query.order_by(PrivacyRequest.received_at, PrivacyRequest.id).limit(limit)
        return list(self.session.scalars(query))
