"""Validate follow-up listings and notes, and document the items they answer with."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from feedbackvault.api.collect.schemas import SURVEY_ID
from feedbackvault.services.follow_up import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    MAX_NOTE_LENGTH,
    NEWEST,
    OPEN,
    ORDERS,
    SCALES,
    STATUSES,
)


class QueueQuerySchema(ma.Schema):
    """The filters, order and page of a follow-up listing."""

    class Meta:
        unknown = ma.RAISE

    survey_id = ma.fields.String(validate=SURVEY_ID)
    status = ma.fields.String(load_default=OPEN, validate=validate.OneOf(STATUSES))
    metric = ma.fields.String(validate=validate.OneOf(sorted(SCALES)))
    max_score = ma.fields.Integer(
        strict=False,
        validate=validate.Range(0, 10),
        metadata={"description": "Only responses scoring at most this on `metric` (needs it)"},
    )
    order = ma.fields.String(
        load_default=NEWEST,
        validate=validate.OneOf(ORDERS),
        metadata={
            "description": "`newest` (default) or `detractors`: unhappy responses first "
            "(NPS 0-6, CSAT 1-3, CES 1-4; on `metric` when given), each group newest first"
        },
    )
    cursor = ma.fields.String(
        validate=validate.Length(max=512),
        metadata={"description": "The `next` of the page before, unchanged"},
    )
    limit = ma.fields.Integer(
        load_default=DEFAULT_LIMIT, validate=validate.Range(1, MAX_LIMIT), strict=False
    )


class FollowUpAnswersSchema(ma.Schema):
    """The response's scores and comment."""

    nps = ma.fields.Integer()
    csat = ma.fields.Integer()
    ces = ma.fields.Integer()
    comment = ma.fields.String(allow_none=True)


class FollowUpRespondentSchema(ma.Schema):
    """The respondent's fields, decrypted (only those given)."""

    email = ma.fields.String(allow_none=True)
    name = ma.fields.String(allow_none=True)
    customer_id = ma.fields.String(allow_none=True)


class FollowUpItemSchema(ma.Schema):
    """One response to follow up, with its respondent's fields and comment decrypted."""

    response_id = ma.fields.String()
    survey_id = ma.fields.String()
    purpose = ma.fields.String()
    touchpoint = ma.fields.String(allow_none=True)
    locale = ma.fields.String(allow_none=True)
    created_at = ma.fields.String()
    expires_at = ma.fields.String()
    status = ma.fields.String(metadata={"enum": list(STATUSES)})
    answers = ma.fields.Nested(FollowUpAnswersSchema)
    respondent = ma.fields.Nested(FollowUpRespondentSchema)
    note = ma.fields.String(allow_none=True)
    done_at = ma.fields.String(allow_none=True)
    done_by = ma.fields.String(allow_none=True)


class FollowUpPageSchema(ma.Schema):
    """A page of the queue and the cursor of the next page (null on the last)."""

    follow_ups = ma.fields.List(ma.fields.Nested(FollowUpItemSchema))
    next = ma.fields.String(allow_none=True)


class DoneSchema(ma.Schema):
    """The note of a handled item."""

    class Meta:
        unknown = ma.RAISE

    note = ma.fields.String(
        required=True,
        validate=validate.Length(min=1, max=MAX_NOTE_LENGTH),
        metadata={"description": "What was done; personal data, stored encrypted"},
    )
