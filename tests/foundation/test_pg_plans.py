"""The key-store lookups of a request probe indexes on PostgreSQL, whatever the table's size."""

from __future__ import annotations

from typing import Any

import pytest

from feedbackvault.storage.database import Databases
from feedbackvault.storage.key_statements import submission_statements


def plan_of(databases: Databases, kinds: tuple[str, ...], also: int) -> str:
    """EXPLAIN the lookup with sequential scans priced out, so only an unindexable one stays."""
    statement = submission_statements(databases.keys_engine.dialect).owners_and_keys(kinds, also)
    values: dict[str, Any] = {"version": 1}
    for kind in kinds:
        values[f"kind_{kind}"], values[f"digest_{kind}"] = kind, b"\x01" * 32
    values.update({f"also_{i}": f"s-{i}" for i in range(also)})
    with databases.keys_connection() as lent:
        lent.connection.execute("SET LOCAL enable_seqscan = off")
        rows = lent.connection.execute(
            "EXPLAIN " + statement.sql, statement.parameters(values)
        ).fetchall()
    return "\n".join(str(row[0]) for row in rows)


@pytest.mark.parametrize(
    ("kinds", "also"), [(("email",), 0), (("email", "customer_id"), 1), ((), 3)]
)
def test_owners_and_keys_never_scans_the_key_table(
    pg_urls: tuple[str, str], kinds: tuple[str, ...], also: int
) -> None:
    databases = Databases.from_urls(*pg_urls)
    try:
        plan = plan_of(databases, kinds, also)
    finally:
        databases.dispose()
    assert "Seq Scan" not in plan, plan
    assert "pk_subject_key" in plan, plan
