"""Queue what a sweep batch leaves for its second connection: consent records, subjects

A batch used to delete its rows' expired consent records and check and shred the
subjects it emptied itself. Subjects it could not shred yet (held by a submission,
or by another sweeper's uncommitted batch) it forgot: they stayed, with their keys,
until something else emptied them again. Queued in the batch's own transaction,
they outlive an interrupted sweep, and a second connection works the queue off
beside the batches: deleting a consent record runs the response foreign key's
trigger, which was a third of an anonymising batch (bench_sweep.py).

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from feedbackvault.storage.types import UTCDateTime

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sweep_queue",
        sa.Column("subject_id", sa.String(36), nullable=True),
        sa.Column("consent_id", sa.String(36), nullable=True),
        sa.Column("queued_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("sweep_queue")
