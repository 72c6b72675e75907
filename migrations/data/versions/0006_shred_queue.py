"""Queue the subjects a sweep batch may have emptied, to be shredded apart from the batch

The sweep used to check and shred such subjects inside the batch that emptied
them, and dropped them from its mind when they could not be shredded yet (held
by a submission, or by another sweeper's uncommitted batch): they stayed, with
their keys, until something else emptied them again. Queued in the batch's own
transaction, they outlive an interrupted sweep too, and a shredder working from
the queue can run beside the batches on its own connection.

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
        "shred_queue",
        sa.Column("subject_id", sa.String(36), nullable=False),
        sa.Column("queued_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("shred_queue")
