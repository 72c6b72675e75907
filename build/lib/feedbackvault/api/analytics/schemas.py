"""Validate analysts' aggregate queries and document the anonymised answers they get."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

import marshmallow as ma
from marshmallow import validate

from feedbackvault.api.collect.schemas import SURVEY_ID
from feedbackvault.scoring import METRIC_SCALES
from feedbackvault.services.reporting import GROUPINGS, ReportQuery

# Whole days only: a time of day would let two queries differ by a second (API.md).
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


class IsoDay(ma.fields.Field[date]):
    """Accept a calendar day written exactly `YYYY-MM-DD`; anything finer or looser is refused."""

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> date:
        if not isinstance(value, str) or not _ISO_DAY.fullmatch(value):
            raise ma.ValidationError("Must be a whole day written YYYY-MM-DD (UTC), no time.")
        try:
            return date.fromisoformat(value)
        except ValueError as exc:
            raise ma.ValidationError("Must be a real calendar day.") from exc

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return value.isoformat() if isinstance(value, date) else None


class ReportQuerySchema(ma.Schema):
    """The parameters of an aggregate or score query."""

    class Meta:
        unknown = ma.RAISE

    survey_id = ma.fields.String(required=True, validate=SURVEY_ID)
    metric = ma.fields.String(required=True, validate=validate.OneOf(sorted(METRIC_SCALES)))
    group_by = ma.fields.String(
        validate=validate.OneOf(GROUPINGS),
        metadata={"description": "Omit for one group over the whole period, key `all`"},
    )
    start = IsoDay(
        data_key="from", metadata={"description": "First day counted, UTC, inclusive (YYYY-MM-DD)"}
    )
    end = IsoDay(
        data_key="to", metadata={"description": "Last day counted, UTC, inclusive (YYYY-MM-DD)"}
    )

    @ma.validates_schema
    def check_range(self, data: dict[str, Any], **_kwargs: Any) -> None:
        """Refuse a range that ends before it starts."""
        if "start" in data and "end" in data and data["start"] > data["end"]:
            raise ma.ValidationError("Must not be after `to`.", field_name="from")

    @ma.post_load
    def to_query(self, data: dict[str, Any], **_kwargs: Any) -> ReportQuery:
        """Build the reporting query."""
        return ReportQuery(**data)


class NoiseSchema(ma.Schema):
    """Differential-privacy noise added to the released counts."""

    mechanism = ma.fields.String(metadata={"description": "Always `geometric`"})
    epsilon = ma.fields.Float(metadata={"description": "Privacy budget spent by this release"})


class GroupHistogramSchema(ma.Schema):
    """One published group's histogram."""

    key = ma.fields.String(
        metadata={
            "description": "Touchpoint label (`(none)` for responses without one), or the ISO "
            "date of the day, of the week's Monday or of the month's first day; `all` ungrouped"
        }
    )
    n = ma.fields.Integer()
    histogram = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Integer(),
        metadata={"description": "Count per score value; every value of the scale, zeros too"},
    )


class AggregatesSchema(ma.Schema):
    """Histograms of the groups that passed disclosure control."""

    metric = ma.fields.String()
    k = ma.fields.Integer(metadata={"description": "Minimum group size"})
    groups = ma.fields.List(ma.fields.Nested(GroupHistogramSchema))
    suppressed_groups = ma.fields.Integer()
    noise = ma.fields.Nested(NoiseSchema, metadata={"description": "Present only when noised"})


class ScoreSchema(ma.Schema):
    """A score with its 95% confidence interval."""

    n = ma.fields.Integer()
    score = ma.fields.Float()
    ci95 = ma.fields.List(ma.fields.Float(), metadata={"description": "[low, high]"})
    ces_agree = ma.fields.Float(metadata={"description": "CES only: % scoring 5-7"})


class GroupScoreSchema(ScoreSchema):
    """One published group's score."""

    key = ma.fields.String(metadata={"description": "As in the aggregates' group keys"})


class ScoresSchema(ma.Schema):
    """Scores of the groups that passed disclosure control, and over all of them."""

    metric = ma.fields.String()
    k = ma.fields.Integer(metadata={"description": "Minimum group size"})
    overall = ma.fields.Nested(
        ScoreSchema, allow_none=True, metadata={"description": "null when suppressed"}
    )
    groups = ma.fields.List(ma.fields.Nested(GroupScoreSchema))
    suppressed_groups = ma.fields.Integer()
    noise = ma.fields.Nested(NoiseSchema, metadata={"description": "Present only when noised"})
