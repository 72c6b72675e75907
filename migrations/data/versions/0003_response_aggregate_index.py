"""Cover every aggregate read with one index led by survey, month and score

Replaces ix_response_survey_created: the new index also starts with the survey
and serves date-window queries by scanning that survey's entries.

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Spelled out rather than imported: a migration must keep building what it built
# even after the models move on.
COLUMNS = [
    "survey_id",
    "created_month",
    "nps",
    "csat",
    "ces",
    "touchpoint",
    "purpose",
    "expires_at",
    "anonymised_at",
    "created_at",
    "consent_id",
]


def upgrade() -> None:
    op.create_index("ix_response_aggregate", "response", COLUMNS)
    op.drop_index("ix_response_survey_created", table_name="response")


def downgrade() -> None:
    op.create_index("ix_response_survey_created", "response", ["survey_id", "created_at"])
    op.drop_index("ix_response_aggregate", table_name="response")
