"""Copy each consent record's expiry onto its responses

The sweep has to know, for every expired response it removes, whether the
response's consent record still stands: a standing record is kept and keeps
the subject, an expired one goes with the response. It used to look the record
up through its primary key, one random index probe per swept row: in a
PostgreSQL batch of 10,000 that was about half of the batch (EXPLAIN ANALYZE on
bench_sweep.py's seed: 107 of 210 ms for responses whose consent outlives
them). A record's expiry is fixed when it is stored, with the response, so the
response now carries a copy and the sweep reads the record only to delete it.

Existing rows are backfilled here. A copy that is missing (NULL) only costs the
lookup again: the sweep takes NULL for "not known to stand" and checks the
record itself before it deletes anything.

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("response", sa.Column("consent_expires_at", sa.DateTime(), nullable=True))
    # Anonymised rows have no consent left (consent_id is NULL), so they stay NULL.
    op.execute(
        "UPDATE response SET consent_expires_at ="
        " (SELECT consent.expires_at FROM consent WHERE consent.id = response.consent_id)"
        " WHERE consent_id IS NOT NULL"
    )


def downgrade() -> None:
    # A plain DROP COLUMN on SQLite too (3.35+): a batch copy of `response` would trip
    # over the trigger of 0008 that names the table.
    op.execute("ALTER TABLE response DROP COLUMN consent_expires_at")
