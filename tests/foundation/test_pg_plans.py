"""A request's lookups, export pages and erasure probe indexes on PostgreSQL, whatever the size."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text

from feedbackvault.storage.anonymised import anonymised_parameters
from feedbackvault.storage.audit_repository import find_query
from feedbackvault.storage.bulk import array_literal
from feedbackvault.storage.database import Databases
from feedbackvault.storage.driver_statements import DriverCursor
from feedbackvault.storage.key_statements import submission_statements
from feedbackvault.storage.subject_data_repository import ErasureRows, ExportRows


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


def data_plan(databases: Databases, sql: str, parameters: tuple[Any, ...]) -> str:
    """EXPLAIN a data-store statement with sequential scans priced out (never run)."""
    with databases.data_connection() as lent:
        lent.connection.execute("SET LOCAL enable_seqscan = off")
        rows = lent.connection.execute("EXPLAIN " + sql, parameters).fetchall()
    return "\n".join(str(row[0]) for row in rows)


@pytest.mark.parametrize("subjects", [1, 3])
def test_export_and_erasure_statements_probe_the_subject_indexes(
    pg_urls: tuple[str, str], subjects: int
) -> None:
    databases = Databases.from_urls(*pg_urls)
    ids = [f"s-{i}" for i in range(subjects)]
    now = datetime(2027, 1, 1, tzinfo=UTC)
    try:
        plans = []
        with databases.data_connection() as lent:
            cursor = DriverCursor(lent.connection, lent.dialect)
            statements, erasure = ExportRows(cursor).statements, ErasureRows(cursor).statements
        for section in ("responses", "consents", "history"):
            statement = statements.page(section, subjects)
            values = {"now": now, "after": "", "limit": 500} | {
                f"subject_{i}": sid for i, sid in enumerate(ids)
            }
            if section == "history":
                values["after"] = 0
            plans.append(data_plan(databases, statement.sql, statement.parameters(values)))
        values = {"ids": array_literal(ids), "purposes": array_literal(["p"]), "now": now,
                  "reason": "erasure"} | anonymised_parameters(now)  # fmt: skip
        for statement in (
            erasure.anonymise,
            erasure.delete_responses,
            erasure.delete_consents,
            erasure.delete_follow_ups,
        ):
            plans.append(data_plan(databases, statement.sql, statement.parameters(values)))
    finally:
        databases.dispose()
    # Pages: which index serves depends on the statistics of an empty test table;
    # none may need the whole table. Erasures: only the subject index can serve.
    pages, erasures = plans[:3], plans[3:]
    assert all("Seq Scan" not in plan for plan in pages), pages
    for plan, index in zip(
        erasures,
        [
            "ix_response_subject_id",
            "ix_response_subject_id",
            "ix_consent_subject_id",
            "ix_follow_up_subject_id",
        ],
        strict=True,
    ):
        assert "Seq Scan" not in plan, plan
        assert index in plan, plan


@pytest.mark.parametrize(
    ("filters", "index"),
    [
        ({}, "pk_audit_entry"),
        ({"request_id": "r-7"}, "ix_audit_entry_request_id"),
        ({"subject_ref": "s-7"}, "ix_audit_entry_subject_ref"),
    ],
)
def test_an_audit_page_reads_an_index_not_the_log(
    pg_urls: tuple[str, str], filters: dict[str, str], index: str
) -> None:
    """Browsing deep into a 50,000-entry log, a page costs an index range, not a scan."""
    databases = Databases.from_urls(*pg_urls)
    try:
        with databases.data_engine.begin() as connection:
            # The app's role cannot change the audit log (0012); the superuser's replica
            # role fires no trigger, as a restore with --disable-triggers would.
            connection.execute(text("SET LOCAL session_replication_role = replica"))
            connection.execute(text("TRUNCATE audit_entry"))
            connection.execute(
                text(
                    "INSERT INTO audit_entry (seq, at, actor, action, subject_ref, request_id,"
                    " details, prev_hash, hash) SELECT g, now(), 'a', 'x', 's-' || (g % 500),"
                    " CASE WHEN g % 10 = 0 THEN 'r-' || (g % 700) END, '{}', '', ''"
                    " FROM generate_series(1, 50000) g"
                )
            )
            connection.execute(text("ANALYZE audit_entry"))
            query = find_query(
                subject_ref=filters.get("subject_ref"),
                request_id=filters.get("request_id"),
                after=40_000,
                limit=101,
            )
            compiled = query.compile(
                dialect=databases.data_engine.dialect, compile_kwargs={"literal_binds": True}
            )
            plan = "\n".join(str(row[0]) for row in connection.execute(text(f"EXPLAIN {compiled}")))
            connection.execute(text("TRUNCATE audit_entry"))
    finally:
        databases.dispose()
    assert "Seq Scan" not in plan, plan
    assert index in plan, plan
