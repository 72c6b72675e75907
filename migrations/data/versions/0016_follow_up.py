"""Follow-up: handled responses with their encrypted notes, and the queue's index

`follow_up` holds a row per response that follow-up staff marked done: who, when,
and the note, encrypted under the subject's data key. It names the subject so an
erasure deletes the row with the subject's responses, and carries the earlier of
the response's and its consent's expiry so the sweep deletes it then.

`ix_response_follow_up` lists a purpose's responses newest first, a page at a time
(keyset on created_at and id), over the responses that hold a contact field (only
those are listed; an erasure's lookup by subject cannot take it).

Revision ID: 0016
Revises: 0014
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from feedbackvault.storage.types import UTCDateTime

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As data_models.FOLLOW_UP_INDEX_WHERE (a migration keeps its own copy).
HAS_CONTACT = sa.text(
    "subject_id IS NOT NULL AND (email_ct IS NOT NULL OR customer_id_ct IS NOT NULL)"
)


def upgrade() -> None:
    op.create_table(
        "follow_up",
        sa.Column("response_id", sa.String(36), nullable=False),
        sa.Column("subject_id", sa.String(36), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("note_ct", sa.LargeBinary(), nullable=True),
        sa.Column("done_at", UTCDateTime(), nullable=True),
        sa.Column("done_by", sa.String(100), nullable=True),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("response_id", name="pk_follow_up"),
    )
    op.create_index("ix_follow_up_subject_id", "follow_up", ["subject_id"])
    op.create_index("ix_follow_up_expires_at", "follow_up", ["expires_at"])
    op.create_index(
        "ix_response_follow_up",
        "response",
        ["purpose", "created_at", "id"],
        postgresql_where=HAS_CONTACT,
        sqlite_where=HAS_CONTACT,
    )


def downgrade() -> None:
    op.drop_index("ix_response_follow_up", table_name="response")
    op.drop_index("ix_follow_up_expires_at", table_name="follow_up")
    op.drop_index("ix_follow_up_subject_id", table_name="follow_up")
    op.drop_table("follow_up")
