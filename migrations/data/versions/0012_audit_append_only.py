"""Audit entries are append-only on PostgreSQL: a trigger refuses UPDATE, DELETE and TRUNCATE

The audit log is hash-chained, so an altered entry is found by `audit verify`;
a deleted tail and a moved head are found only against an anchor kept outside
the service (`audit anchor`). Refusing the changes in the database stops the
service's own role (a bug, an injected statement) from making them at all. The
triggers are statement triggers: nothing runs per inserted row, and an UPDATE or
DELETE is refused even when it would touch no row. No path of the service
updates or deletes an audit entry. A superuser can still disable triggers (as
`session_replication_role = replica` does); anchors are the defence there.

SQLite has no roles: whoever can write the file can drop a trigger, so none is added.

Revision ID: 0012
Revises: 0011
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FUNCTION = "refuse_audit_entry_change"
TRIGGERS = {
    "audit_entry_no_update_or_delete": "BEFORE UPDATE OR DELETE",
    "audit_entry_no_truncate": "BEFORE TRUNCATE",
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"""
        CREATE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'audit entries are append-only: % refused', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END $$
        """
    )
    for trigger, when in TRIGGERS.items():
        op.execute(
            f"CREATE TRIGGER {trigger} {when} ON audit_entry"
            f" FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for trigger in TRIGGERS:
        op.execute(f"DROP TRIGGER {trigger} ON audit_entry")
    op.execute(f"DROP FUNCTION {FUNCTION}()")
