"""The audit chain detects any altered or deleted entry and names it."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import delete, update

from feedbackvault.app import Services
from feedbackvault.services.audit import verify_chain
from feedbackvault.storage.data_models import AuditEntry
from tests.support import behind_the_app, submission


@pytest.fixture
def chain(client: FlaskClient, collector: dict[str, str], services: Services) -> int:
    """Write a few audited acts and return how many entries the chain has."""
    for i in range(4):
        body = submission(respondent={"email": f"chain{i}@example.nl"})
        assert client.post("/api/v1/responses", json=body, headers=collector).status_code == 201
    check = verify_chain(services.stores)
    assert check.intact
    return check.entries


def tamper(services: Services, statement: object) -> None:
    """Change the audit table behind the application's back."""
    behind_the_app(services, statement)


def test_intact_chain_verifies(chain: int) -> None:
    # One token creation and four recorded responses.
    assert chain == 5


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("actor", "token:someone-else"),
        ("action", "response.deleted"),
        ("details", '{"purpose":"other"}'),
        ("subject_ref", "00000000-0000-0000-0000-000000000000"),
    ],
)
def test_altered_entry_is_named(column: str, value: str, chain: int, services: Services) -> None:
    tamper(services, update(AuditEntry).where(AuditEntry.seq == 3).values({column: value}))
    check = verify_chain(services.stores)
    assert (check.intact, check.broken_seq) == (False, 3)


def test_rehashed_entry_breaks_the_next_link(chain: int, services: Services) -> None:
    tamper(services, update(AuditEntry).where(AuditEntry.seq == 2).values(hash="f" * 64))
    check = verify_chain(services.stores)
    assert check.broken_seq == 2


@pytest.mark.parametrize("seq", [1, 3])
def test_deleted_entry_is_named(seq: int, chain: int, services: Services) -> None:
    tamper(services, delete(AuditEntry).where(AuditEntry.seq == seq))
    check = verify_chain(services.stores)
    assert (check.intact, check.broken_seq) == (False, seq)


def test_deleted_last_entry_is_named(chain: int, services: Services) -> None:
    tamper(services, delete(AuditEntry).where(AuditEntry.seq == chain))
    check = verify_chain(services.stores)
    assert (check.intact, check.broken_seq) == (False, chain)
