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
    op.create_table('api_token',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('token_hash', sa.LargeBinary(length=32), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('revoked_at', UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_token')),
    sa.UniqueConstraint('name', name=op.f('uq_api_token_name')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_token_token_hash'))
    )
    op.create_table('audit_entry',
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('at', UTCDateTime(), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('subject_ref', sa.String(length=64), nullable=True),
    sa.Column('request_id', sa.String(length=36), nullable=True),
    sa.Column('details', sa.Text(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_audit_entry'))
    )
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_entry_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entry_request_id'), ['request_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entry_subject_ref'), ['subject_ref'], unique=False)

    audit_head = op.create_table('audit_head',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_head'))
    )
    # The chain starts from a fixed genesis hash; appends lock this one row.
    op.bulk_insert(audit_head, [{'id': 1, 'seq': 0, 'hash': '0' * 64}])
    op.create_table('erasure_tombstone',
    sa.Column('subject_id', sa.String(length=36), nullable=False),
    sa.Column('erased_at', UTCDateTime(), nullable=False),
    sa.Column('reason', sa.String(length=20), nullable=False),
    sa.PrimaryKeyConstraint('subject_id', name=op.f('pk_erasure_tombstone'))
    )
    op.create_table('privacy_request',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('email_digest', sa.LargeBinary(length=32), nullable=True),
    sa.Column('customer_id_digest', sa.LargeBinary(length=32), nullable=True),
    sa.Column('subject_refs', sa.Text(), nullable=True),
    sa.Column('note_ct', sa.LargeBinary(), nullable=True),
    sa.Column('received_at', UTCDateTime(), nullable=False),
    sa.Column('due_at', UTCDateTime(), nullable=False),
    sa.Column('extended_at', UTCDateTime(), nullable=True),
    sa.Column('extension_reason', sa.Text(), nullable=True),
    sa.Column('verified_at', UTCDateTime(), nullable=True),
    sa.Column('verification_method', sa.String(length=200), nullable=True),
    sa.Column('completed_at', UTCDateTime(), nullable=True),
    sa.Column('rejected_at', UTCDateTime(), nullable=True),
    sa.Column('rejection_reason', sa.Text(), nullable=True),
    sa.Column('result', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_privacy_request'))
    )
    with op.batch_alter_table('privacy_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_privacy_request_due_at'), ['due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_privacy_request_status'), ['status'], unique=False)

    op.create_table('subject',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subject'))
    )
    op.create_table('consent',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('subject_id', sa.String(length=36), nullable=True),
    sa.Column('purpose', sa.String(length=64), nullable=False),
    sa.Column('notice_version', sa.String(length=64), nullable=False),
    sa.Column('given_at', UTCDateTime(), nullable=False),
    sa.Column('recorded_at', UTCDateTime(), nullable=False),
    sa.Column('expires_at', UTCDateTime(), nullable=False),
    sa.Column('withdrawn_at', UTCDateTime(), nullable=True),
    sa.Column('withdraw_token_hash', sa.LargeBinary(length=32), nullable=False),
    sa.Column('receipt_signature', sa.String(length=128), nullable=False),
    sa.Column('responses_erased', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['subject_id'], ['subject.id'], name=op.f('fk_consent_subject_id_subject'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent'))
    )
    with op.batch_alter_table('consent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consent_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_consent_subject_id'), ['subject_id'], unique=False)

    op.create_table('response',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('subject_id', sa.String(length=36), nullable=True),
    sa.Column('consent_id', sa.String(length=36), nullable=True),
    sa.Column('survey_id', sa.String(length=100), nullable=False),
    sa.Column('purpose', sa.String(length=64), nullable=False),
    sa.Column('touchpoint', sa.String(length=40), nullable=True),
    sa.Column('locale', sa.String(length=35), nullable=True),
    sa.Column('nps', sa.SmallInteger(), nullable=True),
    sa.Column('csat', sa.SmallInteger(), nullable=True),
    sa.Column('ces', sa.SmallInteger(), nullable=True),
    sa.Column('email_ct', sa.LargeBinary(), nullable=True),
    sa.Column('name_ct', sa.LargeBinary(), nullable=True),
    sa.Column('customer_id_ct', sa.LargeBinary(), nullable=True),
    sa.Column('comment_ct', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=True),
    sa.Column('created_month', sa.Date(), nullable=False),
    sa.Column('expires_at', UTCDateTime(), nullable=False),
    sa.Column('anonymised_at', UTCDateTime(), nullable=True),
    sa.CheckConstraint('ces IS NULL OR (ces BETWEEN 1 AND 7)', name=op.f('ck_response_ces_range')),
    sa.CheckConstraint('csat IS NULL OR (csat BETWEEN 1 AND 5)', name=op.f('ck_response_csat_range')),
    sa.CheckConstraint('nps IS NULL OR (nps BETWEEN 0 AND 10)', name=op.f('ck_response_nps_range')),
    sa.ForeignKeyConstraint(['consent_id'], ['consent.id'], name=op.f('fk_response_consent_id_consent'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['subject_id'], ['subject.id'], name=op.f('fk_response_subject_id_subject'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_response'))
    )
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_response_consent_id'), ['consent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_response_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_response_subject_id'), ['subject_id'], unique=False)
        batch_op.create_index('ix_response_survey_created', ['survey_id', 'created_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.drop_index('ix_response_survey_created')
        batch_op.drop_index(batch_op.f('ix_response_subject_id'))
        batch_op.drop_index(batch_op.f('ix_response_expires_at'))
        batch_op.drop_index(batch_op.f('ix_response_consent_id'))

    op.drop_table('response')
    with op.batch_alter_table('consent', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consent_subject_id'))
        batch_op.drop_index(batch_op.f('ix_consent_expires_at'))

    op.drop_table('consent')
    op.drop_table('subject')
    with op.batch_alter_table('privacy_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_privacy_request_status'))
        batch_op.drop_index(batch_op.f('ix_privacy_request_due_at'))

    op.drop_table('privacy_request')
    op.drop_table('erasure_tombstone')
    op.drop_table('audit_head')
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_entry_subject_ref'))
        batch_op.drop_index(batch_op.f('ix_audit_entry_request_id'))
        batch_op.drop_index(batch_op.f('ix_audit_entry_action'))

    op.drop_table('audit_entry')
    op.drop_table('api_token')
