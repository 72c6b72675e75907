"""Store subject keys and lookups without rowids; drop the kek_id index

On SQLite a table whose primary key is not an integer is two B-trees: the rows by
rowid and the primary key's own index. WITHOUT ROWID keeps the rows in primary-key
order in one, so a new subject's key and its two index entries write three fewer
pages to the WAL. Both tables' rows are small (a wrapped 32-byte key; a digest),
as WITHOUT ROWID asks. PostgreSQL has no rowid; nothing changes there.

Nothing looks keys up by KEK: rotation and retiring a KEK read every key anyway.

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("subject_key", "subject_lookup")


def _rebuild(with_rowid: bool) -> None:
    """Copy each table into one with(out) rowids (SQLite's table rebuild)."""
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in TABLES:
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_with_rowid": with_rowid}
        ):
            pass


def upgrade() -> None:
    op.drop_index("ix_subject_key_kek_id", table_name="subject_key")
    _rebuild(with_rowid=False)


def downgrade() -> None:
    _rebuild(with_rowid=True)
    op.create_index("ix_subject_key_kek_id", "subject_key", ["kek_id"])
