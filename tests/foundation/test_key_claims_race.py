"""On PostgreSQL, a claim that loses a race for an identifier stores no key and leaves no entry.

SQLite runs one writer at a time, so there two claims cannot overlap.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text

from feedbackvault.app import Services
from feedbackvault.services.subject_keys import IdentifierRace
from tests.foundation.test_key_claims import RESPONDENT, key_store


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_claim_that_loses_a_race_stores_no_key_and_resolve_takes_its_entries_back(
    services: Services,
) -> None:
    """Another transaction indexes the email first; the claim waits for it, then loses."""
    digests = services.subject_keys.digests(RESPONDENT)
    outcome: list[object] = []

    def resolve() -> None:
        try:
            outcome.append(services.subject_keys.resolve(services.stores, RESPONDENT))
        except IdentifierRace as race:
            outcome.append(race)

    with services.databases.keys_engine.begin() as rival:
        rival.execute(
            text(
                "INSERT INTO subject_lookup (kind, version, digest, subject_id)"
                " VALUES ('email', :version, :digest, 'rival')"
            ),
            {"version": services.subject_keys.index.version, "digest": digests["email"]},
        )
        loser = threading.Thread(target=resolve)
        loser.start()
        loser.join(timeout=1)
        assert loser.is_alive(), "the claim waits on the rival's uncommitted entry"
    loser.join(timeout=30)
    assert len(outcome) == 1 and isinstance(outcome[0], IdentifierRace)
    # The loser indexed the customer id before the email stopped it; that entry is gone.
    assert key_store(services) == ([("email", "rival")], [])
