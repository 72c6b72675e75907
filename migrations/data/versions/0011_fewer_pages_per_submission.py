"""Fewer pages per submission: subjects without rowids; two audit indexes fewer

Every B-tree a submission inserts into is one more page written to the WAL and
copied back at the next checkpoint; a submission wrote ~17.

- On SQLite a table whose primary key is not an integer is two B-trees, the rows by
  rowid and the primary key's index. The subject table (an id and a time) is kept
  WITHOUT ROWID: one B-tree, in id order. PostgreSQL has no rowid.
- Nothing looks audit entries up by action: its index goes.
- Most entries (every submission's) name no request: the request index holds only
  those that do. Lookups by request imply the condition, so both databases use it.

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAMES_A_REQUEST = sa.text("request_id IS NOT NULL")


def _rebuild_subject(with_rowid: bool) -> None:
    """Copy the subject table into one with(out) rowids (SQLite's table rebuild)."""
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table(
        "subject", recreate="always", table_kwargs={"sqlite_with_rowid": with_rowid}
    ):
        pass


def upgrade() -> None:
    _rebuild_subject(with_rowid=False)
    op.drop_index("ix_audit_entry_action", table_name="audit_entry")
    op.drop_index("ix_audit_entry_request_id", table_name="audit_entry")
    op.create_index(
        "ix_audit_entry_request_id",
        "audit_entry",
        ["request_id"],
        postgresql_where=NAMES_A_REQUEST,
        sqlite_where=NAMES_A_REQUEST,
    )


def downgrade() -> None:
    op.drop_index("ix_audit_entry_request_id", table_name="audit_entry")
    op.create_index("ix_audit_entry_request_id", "audit_entry", ["request_id"])
    op.create_index("ix_audit_entry_action", "audit_entry", ["action"])
    _rebuild_subject(with_rowid=True)
