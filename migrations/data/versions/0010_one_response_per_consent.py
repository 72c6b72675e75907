"""One response per consent record; the sweep's own deletions skip the unlink trigger

Every submission records its own consent and gets its own receipt (API.md), so
no two responses name one consent record; `ix_response_consent_id` now says so
(unique over the rows that name one).

That lets the sweep spare the statement trigger of 0008 its search. When a
sweep batch deletes a consent record, it deletes or anonymises the record's
response in the same statement, and there is no other response to unlink: yet
the trigger walked `ix_response_consent_id` for every deleted record, through
the entries of the rows just removed (bench_sweep.py, an anonymising batch of
10,000: 32 ms of its statement, about a sixth of the sweep). The batch now
marks its transaction (`feedbackvault.responses_handled`) for that one
statement, and the trigger returns at once while the mark is on. Any other
deletion of a consent record, the application's or anyone's, still unlinks.

SQLite keeps its row trigger: one index probe per deleted record, and no
transaction-local settings to mark with.

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_response_consent_id"
NAMES_ONE = sa.text("consent_id IS NOT NULL")
FUNCTION = "unlink_responses_of_deleted_consents"
UNLINK = "UPDATE response SET consent_id = NULL WHERE consent_id = ANY (ARRAY(SELECT id FROM gone));"


def upgrade() -> None:
    shared = op.get_bind().execute(
        sa.text(
            "SELECT count(*) FROM (SELECT consent_id FROM response WHERE consent_id IS NOT NULL"
            " GROUP BY consent_id HAVING count(*) > 1) AS shared"
        )
    ).scalar_one()
    if shared:
        raise RuntimeError(
            f"{shared} consent records are named by more than one response; the service never"
            " stores such rows, so they were written outside it. Resolve them, then migrate."
        )
    _replace_index(unique=True)
    if _postgres():
        _replace_function(
            "IF current_setting('feedbackvault.responses_handled', true) = 'on' THEN"
            " RETURN NULL; END IF; " + UNLINK
        )


def downgrade() -> None:
    if _postgres():
        _replace_function(UNLINK)
    _replace_index(unique=False)


def _replace_index(*, unique: bool) -> None:
    op.drop_index(INDEX, table_name="response")
    op.create_index(
        INDEX,
        "response",
        ["consent_id"],
        unique=unique,
        postgresql_where=NAMES_ONE,
        sqlite_where=NAMES_ONE,
    )


def _replace_function(body: str) -> None:
    op.execute(
        f"CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$"
        f" BEGIN {body} RETURN NULL; END $$"
    )


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"
