"""Index the audit log by action for the console, leaving out each submission's own act

Revision ID: 0017
Revises: 0016
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHERE = "action <> 'response.recorded'"


def upgrade() -> None:
    op.create_index(
        "ix_audit_entry_action",
        "audit_entry",
        ["action", "seq"],
        postgresql_where=sa.text(WHERE),
        sqlite_where=sa.text(WHERE),
    )


def downgrade() -> None:
    op.drop_index("ix_audit_entry_action", table_name="audit_entry")
