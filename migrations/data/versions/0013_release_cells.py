"""Release cells: frozen, differentially private histograms that analysts read

Analysts no longer see live counts (issue 19): every answer is computed from
noisy histograms per survey, metric, touchpoint and closed UTC day (and month),
made once and never recomputed. release_survey says how far a survey has been
released; release_label holds the privately selected touchpoint labels. Nothing
links a cell to a response or a subject. Existing responses need no backfill:
their closed days are released by the first query or `feedbackvault releases
publish`.

Revision ID: 0013
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from feedbackvault.storage.types import UTCDateTime

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "release_cell",
        sa.Column("survey_id", sa.String(100), nullable=False),
        sa.Column("metric", sa.String(8), nullable=False),
        sa.Column("level", sa.String(8), nullable=False),
        sa.Column("period", sa.Date(), nullable=False),
        sa.Column("touchpoint", sa.String(40), nullable=False),
        sa.Column("counts", sa.String(200), nullable=False),
        sa.Column("epsilon", sa.Float(), nullable=False),
        sa.Column("released_at", UTCDateTime(), nullable=False),
        sa.Column("cells", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint(
            "survey_id", "metric", "level", "period", "touchpoint", name="pk_release_cell"
        ),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "release_survey",
        sa.Column("survey_id", sa.String(100), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("released_through", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("survey_id", name="pk_release_survey"),
    )
    op.create_table(
        "release_label",
        sa.Column("survey_id", sa.String(100), nullable=False),
        sa.Column("touchpoint", sa.String(40), nullable=False),
        sa.Column("selected_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("survey_id", "touchpoint", name="pk_release_label"),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("release_label")
    op.drop_table("release_survey")
    op.drop_table("release_cell")
