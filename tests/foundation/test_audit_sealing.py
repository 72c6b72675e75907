"""The audit chain links the same whoever computes the hash: Python, or PostgreSQL's SQL.

On PostgreSQL an append is one statement in which the server hashes the entry onto
the head; `audit verify` recomputes every hash in Python. Hostile values (quotes,
backslashes, control characters, line separators, non-ASCII, missing refs, a
timestamp with microseconds) must hash alike on both sides.
"""

from __future__ import annotations

from datetime import UTC, datetime

from feedbackvault.app import Services
from feedbackvault.domain.audit import record_hash
from feedbackvault.services.audit import verify_chain

HOSTILE = 'quote " backslash \\ newline \n tab \t nul-ish \x01 \x1f sep \u2028 é 漢 😀'
AT = datetime(2026, 11, 25, 4, 19, 35, 123456, tzinfo=UTC)


def test_appended_entries_hash_as_python_hashes_them_and_the_chain_verifies(
    services: Services,
) -> None:
    records = []
    with services.stores.pipelined_data() as unit:
        records.append(
            unit.audit.send(
                at=AT,
                actor=f"token:{HOSTILE}",
                action="test.hostile",
                subject_ref=HOSTILE,
                request_id="req-1",
                details={"note": HOSTILE, "n": 1, "nested": {"b": [1, None, True]}},
            )()
        )
        records.append(unit.audit.send(at=AT.replace(microsecond=0), actor="a", action="b")())
    with services.stores.pipelined_data() as unit:
        unit.audit.send(
            at=AT, actor="collector", action="response.recorded", details={"x": HOSTILE}
        )
    with services.stores.read() as unit:
        stored = unit.audit.find(limit=10)
    assert [r.seq for r in records] == [1, 2]
    assert records[1].prev_hash == records[0].hash
    assert stored[:2] == records
    assert [record_hash(entry) for entry in stored] == [entry.hash for entry in stored]
    assert stored[2].prev_hash == records[1].hash
    check = verify_chain(services.stores)
    assert check.intact and check.entries == 3
