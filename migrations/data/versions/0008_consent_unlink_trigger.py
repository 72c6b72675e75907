"""Unlink the responses of a deleted consent record by trigger, not by foreign key

The key from `response` to `consent` (ON DELETE SET NULL) ran one trigger per
deleted consent record that searched `response` again; the sweep deletes tens
of thousands of records, each right after the response that named it. On
PostgreSQL a statement trigger now does the same once per statement, with one
index scan over the deleted ids (bench_sweep.py, an anonymising batch of 10,000:
the key's trigger 70-75 ms, this one 39-49 ms). SQLite has no statement
triggers, so there it is a row trigger, as cheap as the key's action was.

What stays: a consent record deleted behind the application's back still unlinks
its responses, so aggregates (which count a response only while it has one)
drop them (test_analytics_eligibility.py). What goes: the check that a new
response names an existing record. Collection writes the record in the same
transaction, just before the response.

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEY = "fk_response_consent_id_consent"
TRIGGER = "consent_deleted_unlinks_responses"
FUNCTION = "unlink_responses_of_deleted_consents"


def upgrade() -> None:
    if _postgres():
        op.drop_constraint(KEY, "response", type_="foreignkey")
        # `= ANY(ARRAY(...))` walks ix_response_consent_id once per deleted id; a join
        # with the transition table left the planner free to scan all of `response`.
        op.execute(
            f"""
            CREATE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                UPDATE response SET consent_id = NULL
                WHERE consent_id = ANY (ARRAY(SELECT id FROM gone));
                RETURN NULL;
            END $$
            """
        )
        op.execute(
            f"CREATE TRIGGER {TRIGGER} AFTER DELETE ON consent REFERENCING OLD TABLE AS gone"
            f" FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()"
        )
        return
    with op.batch_alter_table("response") as batch_op:
        batch_op.drop_constraint(KEY, type_="foreignkey")
    op.execute(
        f"CREATE TRIGGER {TRIGGER} AFTER DELETE ON consent FOR EACH ROW"
        " BEGIN UPDATE response SET consent_id = NULL WHERE consent_id = OLD.id; END"
    )


def downgrade() -> None:
    op.execute(f"DROP TRIGGER {TRIGGER}" + (" ON consent" if _postgres() else ""))
    if _postgres():
        op.execute(f"DROP FUNCTION {FUNCTION}()")
        op.create_foreign_key(
            KEY, "response", "consent", ["consent_id"], ["id"], ondelete="SET NULL"
        )
        return
    with op.batch_alter_table("response") as batch_op:
        batch_op.create_foreign_key(KEY, "consent", ["consent_id"], ["id"], ondelete="SET NULL")


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"
