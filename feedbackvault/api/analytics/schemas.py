"""Validate analysts' aggregate queries and document the anonymised answers they get."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import validate

from feedbackvault.api.collect.schemas import SURVEY_ID
from feedbackvault.api.fields import IsoDay
from feedbackvault.scoring import METRIC_SCALES
from feedbackvault.services.reporting import GROUPINGS, ReportQuery


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


class GroupHistogramSchema(ma.Schema):
    """One published group's released histogram."""

    key = ma.fields.String(
        metadata={
            "description": "Touchpoint label (`none` for responses without one), or the ISO "
            "date of the day, of the week's Monday or of the month's first day; `all` ungrouped"
        }
    )
    n = ma.fields.Integer(metadata={"description": "Sum of the released counts"})
    histogram = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Integer(),
        metadata={
            "description": "Released count per score value; every value of the scale, zeros "
            "too; non-negative integers"
        },
    )


class _ReleaseSchema(ma.Schema):
    """What every answer says about the releases it was computed from."""

    metric = ma.fields.String()
    k = ma.fields.Integer(metadata={"description": "Minimum released group size shown"})
    epsilon = ma.fields.Float(
        metadata={"description": "The policy's privacy budget per response and metric"}
    )
    released_through = ma.fields.String(
        metadata={"description": "The last day included (YYYY-MM-DD); never today (UTC)"}
    )
    suppressed_groups = ma.fields.Integer(
        metadata={"description": "Groups left out because their released n is below k"}
    )


class AggregatesSchema(_ReleaseSchema):
    """Released histograms of the groups whose released size reaches k."""

    groups = ma.fields.List(ma.fields.Nested(GroupHistogramSchema))


class ScoreSchema(ma.Schema):
    """A score with its 95% confidence interval."""

    n = ma.fields.Integer()
    score = ma.fields.Float()
    ci95 = ma.fields.List(
        ma.fields.Float(),
        metadata={"description": "[low, high]; covers the sampling error and the noise"},
    )
    ces_agree = ma.fields.Float(metadata={"description": "CES only: % scoring 5-7"})


class GroupScoreSchema(ScoreSchema):
    """One published group's score."""

    key = ma.fields.String(metadata={"description": "As in the aggregates' group keys"})


class ScoresSchema(_ReleaseSchema):
    """Scores of the groups that reach k, and over all of them."""

    overall = ma.fields.Nested(
        ScoreSchema, allow_none=True, metadata={"description": "null when suppressed"}
    )
    groups = ma.fields.List(ma.fields.Nested(GroupScoreSchema))


class SurveySchema(ma.Schema):
    """A survey with released cells."""

    survey_id = ma.fields.String()
    touchpoints = ma.fields.List(
        ma.fields.String(), metadata={"description": "Labels selected or listed, only"}
    )
    metrics = ma.fields.List(
        ma.fields.String(), metadata={"description": "Metrics with a released cell of n >= k"}
    )
    first_day = ma.fields.String(metadata={"description": "First released day (YYYY-MM-DD)"})
    released_through = ma.fields.String(metadata={"description": "Last released day (YYYY-MM-DD)"})


class SurveysSchema(ma.Schema):
    """The surveys analysts can query."""

    surveys = ma.fields.List(ma.fields.Nested(SurveySchema))
