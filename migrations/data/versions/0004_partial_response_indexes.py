"""Leave anonymised responses out of the subject, consent and expiry indexes

Anonymising a response clears its subject and consent and takes it out of the
sweep's reach; as partial indexes, these three get no entry for it, which makes
the sweep's anonymising UPDATE (and erasure's) cheaper.

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PARTIAL = {
    "ix_response_subject_id": ("subject_id", "subject_id IS NOT NULL"),
    "ix_response_consent_id": ("consent_id", "consent_id IS NOT NULL"),
    "ix_response_expires_at": ("expires_at", "anonymised_at IS NULL"),
}


def upgrade() -> None:
    for name, (column, condition) in PARTIAL.items():
        op.drop_index(name, table_name="response")
        where = sa.text(condition)
        op.create_index(name, "response", [column], postgresql_where=where, sqlite_where=where)


def downgrade() -> None:
    for name, (column, _condition) in PARTIAL.items():
        op.drop_index(name, table_name="response")
        op.create_index(name, "response", [column])
