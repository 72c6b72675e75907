"""Index the withdrawn consents that every aggregate read excludes

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHERE = sa.text("withdrawn_at IS NOT NULL")


def upgrade() -> None:
    op.create_index(
        "ix_consent_withdrawn",
        "consent",
        ["withdrawn_at"],
        postgresql_where=WHERE,
        sqlite_where=WHERE,
    )


def downgrade() -> None:
    op.drop_index("ix_consent_withdrawn", table_name="consent")
