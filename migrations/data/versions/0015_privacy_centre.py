"""Privacy centre: the notice hash on consents, e-mailed links and encrypted contact addresses

Revision ID: 0015
Revises: 0014
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from feedbackvault.storage.types import UTCDateTime

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("consent") as batch:
        batch.add_column(sa.Column("notice_sha256", sa.String(64), nullable=True))
    op.create_table(
        "privacy_link",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("request_kind", sa.String(20), nullable=True),
        sa.Column("contact_id", sa.String(36), nullable=True),
        sa.Column("request_id", sa.String(36), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_privacy_link"),
        sa.UniqueConstraint("token_hash", name="uq_privacy_link_token_hash"),
    )
    op.create_index("ix_privacy_link_request_id", "privacy_link", ["request_id"])
    op.create_index("ix_privacy_link_expires_at", "privacy_link", ["expires_at"])
    op.create_table(
        "privacy_contact",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("request_id", sa.String(36), nullable=True),
        sa.Column("address_ct", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_privacy_contact"),
    )
    op.create_index("ix_privacy_contact_request_id", "privacy_contact", ["request_id"])


def downgrade() -> None:
    op.drop_table("privacy_contact")
    op.drop_table("privacy_link")
    with op.batch_alter_table("consent") as batch:
        batch.drop_column("notice_sha256")
