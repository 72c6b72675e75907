"""initial schema

Revision ID: 0001
Revises: 
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from feedbackvault.storage.types import UTCDateTime

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('key_tombstone',
    sa.Column('subject_id', sa.String(length=36), nullable=False),
    sa.Column('erased_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('subject_id', name=op.f('pk_key_tombstone'))
    )
    op.create_table('subject_key',
    sa.Column('subject_id', sa.String(length=36), nullable=False),
    sa.Column('dek_version', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('kek_id', sa.String(length=64), nullable=False),
    sa.Column('wrapped_dek', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('subject_id', 'dek_version', name=op.f('pk_subject_key'))
    )
    with op.batch_alter_table('subject_key', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_subject_key_kek_id'), ['kek_id'], unique=False)

    op.create_table('subject_lookup',
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('version', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('digest', sa.LargeBinary(length=32), nullable=False),
    sa.Column('subject_id', sa.String(length=36), nullable=False),
    sa.PrimaryKeyConstraint('kind', 'version', 'digest', name=op.f('pk_subject_lookup'))
    )
    with op.batch_alter_table('subject_lookup', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_subject_lookup_subject_id'), ['subject_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('subject_lookup', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subject_lookup_subject_id'))

    op.drop_table('subject_lookup')
    with op.batch_alter_table('subject_key', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subject_key_kek_id'))

    op.drop_table('subject_key')
    op.drop_table('key_tombstone')
