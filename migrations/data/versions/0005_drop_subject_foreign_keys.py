"""Drop the ON DELETE SET NULL foreign keys from responses and consents to subjects

Nothing relies on them: collection writes a subject row before anything that
names it; erasure deletes a subject's responses and consent records with the
subject row; the retention sweep deletes a subject only once no response and no
consent names it. But deleting a subject made PostgreSQL run one trigger per
foreign key and row that searched `response` and `consent` for it again, which
the sweep had just done (bench_sweep.py: 0.35-0.7 s per 100,000 swept responses,
as long again as deleting the 25,000 subjects took without them).

The key from `response` to `consent` stays: an aggregate counts a response only
while it has a consent record, and with the key a record deleted behind the
application's back still unlinks its responses (test_analytics_eligibility.py).
Checking in the score query that the record exists made it two to three times
slower (1,000,000 responses on PostgreSQL: 0.63 s to 1.3-1.7 s).

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# name, table, column, referred table (its key is `id`)
ForeignKey = tuple[str, str, str, str]
RESPONSE_SUBJECT: ForeignKey = (
    "fk_response_subject_id_subject", "response", "subject_id", "subject"
)
CONSENT_SUBJECT: ForeignKey = ("fk_consent_subject_id_subject", "consent", "subject_id", "subject")
RESPONSE_CONSENT: ForeignKey = (
    "fk_response_consent_id_consent", "response", "consent_id", "consent"
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        for name, table, _column, _referred in (RESPONSE_SUBJECT, CONSENT_SUBJECT):
            op.drop_constraint(name, table, type_="foreignkey")
        return
    # SQLite drops a constraint by rebuilding the table, and drops the old `consent`
    # with an implicit DELETE that, foreign keys being enforced on every connection,
    # would set the consent_id of every response to NULL. So `response` goes without
    # that key while `consent` is rebuilt, and gets it back after.
    _rebuild("response", drop=[RESPONSE_SUBJECT, RESPONSE_CONSENT])
    _rebuild("consent", drop=[CONSENT_SUBJECT])
    _rebuild("response", add=[RESPONSE_CONSENT])


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        for name, table, column, referred in (RESPONSE_SUBJECT, CONSENT_SUBJECT):
            op.create_foreign_key(name, table, referred, [column], ["id"], ondelete="SET NULL")
        return
    _rebuild("response", drop=[RESPONSE_CONSENT])
    _rebuild("consent", add=[CONSENT_SUBJECT])
    _rebuild("response", add=[RESPONSE_SUBJECT, RESPONSE_CONSENT])


def _rebuild(table: str, drop: Sequence[ForeignKey] = (), add: Sequence[ForeignKey] = ()) -> None:
    """Rebuild a SQLite table without the keys in `drop` and with those in `add`."""
    with op.batch_alter_table(table) as batch_op:
        for name, _table, _column, _referred in drop:
            batch_op.drop_constraint(name, type_="foreignkey")
        for name, _table, column, referred in add:
            batch_op.create_foreign_key(name, referred, [column], ["id"], ondelete="SET NULL")
