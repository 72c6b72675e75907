"""On PostgreSQL the service's own role cannot change or remove audit entries (migration 0012)."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import delete, text, update
from sqlalchemy.exc import DBAPIError

from feedbackvault.app import Services
from feedbackvault.services.audit import verify_chain
from feedbackvault.storage.data_models import AuditEntry
from tests.support import submission

pytestmark = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)


@pytest.fixture
def entries(services: Services, client: FlaskClient, collector: dict[str, str]) -> int:
    """Write a few audited acts; return how many entries the chain holds."""
    for i in range(3):
        body = submission(respondent={"email": f"append{i}@example.nl"})
        assert client.post("/api/v1/responses", json=body, headers=collector).status_code == 201
    return verify_chain(services.stores).entries


@pytest.mark.parametrize(
    "statement",
    [
        update(AuditEntry).where(AuditEntry.seq == 2).values(actor="someone-else"),
        update(AuditEntry).where(AuditEntry.seq == -1).values(actor="no row at all"),
        delete(AuditEntry).where(AuditEntry.seq >= 2),
        text("TRUNCATE audit_entry"),
    ],
    ids=["update", "update-no-row", "delete-tail", "truncate"],
)
def test_the_service_role_cannot_change_or_remove_audit_entries(
    services: Services, entries: int, statement: object
) -> None:
    with pytest.raises(DBAPIError, match="append-only"), services.stores.data() as unit:
        unit.session.execute(statement)  # type: ignore[call-overload]
    check = verify_chain(services.stores)
    assert (check.intact, check.entries) == (True, entries)


def test_appending_still_works(services: Services, entries: int) -> None:
    services.tokens.create("analyst", "after-the-trigger")
    assert verify_chain(services.stores).entries == entries + 1
