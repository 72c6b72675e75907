"""Validate what survey front-ends send and document what they get back."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import marshmallow as ma
from marshmallow import validate

from feedbackvault.api.fields import LiteralTrue, StrictInteger, TrimmedEmail
from feedbackvault.domain.responses import Answers, ConsentClaim, Submission

SURVEY_ID = validate.Regexp(
    r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$", error="Must be 1-100 of A-Z a-z 0-9 . _ -."
)
TOUCHPOINT = validate.Regexp(r"^[a-z0-9-]{1,40}$", error="Must be 1-40 of a-z 0-9 -.")
LOCALE = validate.Regexp(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$", error="Must be a BCP 47 tag.")
# API.md: comments up to 2,000 characters.
MAX_COMMENT_LENGTH = 2000


class ConsentSchema(ma.Schema):
    """The consent the respondent gave."""

    opt_in = LiteralTrue(required=True, metadata={"description": "Must be the JSON literal true"})
    notice_version = ma.fields.String(required=True, validate=validate.Length(1, 64))
    given_at = ma.fields.AwareDateTime(required=True, format="iso")


class RespondentSchema(ma.Schema):
    """Personal fields; each must be allowed by the purpose."""

    email = TrimmedEmail(validate=validate.Length(max=254))
    name = ma.fields.String(validate=validate.Length(1, 200))
    customer_id = ma.fields.String(validate=validate.Length(1, 100))


class AnswersSchema(ma.Schema):
    """Scores (at least one) and an optional comment."""

    nps = StrictInteger(validate=validate.Range(0, 10))
    csat = StrictInteger(validate=validate.Range(1, 5))
    ces = StrictInteger(validate=validate.Range(1, 7))
    comment = ma.fields.String(validate=validate.Length(1, MAX_COMMENT_LENGTH))


def load_fields(
    fields: Mapping[str, ma.fields.Field[Any]], values: object
) -> dict[str, Any] | None:
    """Load a JSON object field by field, as `Schema.load` would; None unless it is clean.

    Each value goes through its own field's `deserialize` (the same conversion and
    validators). Anything `load` would refuse or treat specially (not an object, an
    unknown key, a missing required field, a failing value) gives None.
    """
    if type(values) is not dict or not values.keys() <= fields.keys():
        return None
    loaded: dict[str, Any] = {}
    for name, field in fields.items():
        if name not in values:
            if field.required:
                return None
        elif isinstance(field, ma.fields.Nested):
            nested = load_fields(field.schema.fields, values[name])
            if nested is None:
                return None
            loaded[name] = nested
        else:
            loaded[name] = field.deserialize(values[name], name, values)
    return loaded


class SubmissionSchema(ma.Schema):
    """A consented response."""

    survey_id = ma.fields.String(required=True, validate=SURVEY_ID)
    purpose = ma.fields.String(required=True, validate=validate.Length(1, 64))
    consent = ma.fields.Nested(ConsentSchema, required=True)
    respondent = ma.fields.Nested(RespondentSchema)
    answers = ma.fields.Nested(AnswersSchema, required=True)
    touchpoint = ma.fields.String(validate=TOUCHPOINT)
    locale = ma.fields.String(validate=LOCALE)

    def quick_load(self, body: object) -> Submission | None:
        """Load a well-formed body without the schema's machinery; None: call `load`.

        webargs and `Schema.load` cost ~9% of a submission (py-spy) for what is, on
        nearly every request, a handful of field conversions. Bodies that would be
        refused take the full path, so every 422 document stays exactly as it was.
        """
        try:
            data = load_fields(self.fields, body)
        except ma.ValidationError:
            return None
        return None if data is None else self.to_submission(data)

    @ma.post_load
    def to_submission(self, data: dict[str, Any], **_kwargs: Any) -> Submission:
        """Build the domain submission."""
        return Submission(
            survey_id=data["survey_id"],
            purpose=data["purpose"],
            consent=ConsentClaim(**data["consent"]),
            answers=Answers(**data["answers"]),
            respondent=dict(data.get("respondent") or {}),
            touchpoint=data.get("touchpoint"),
            locale=data.get("locale"),
        )


class ReceiptSchema(ma.Schema):
    """The respondent's signed proof of consent."""

    receipt_id = ma.fields.String()
    purpose = ma.fields.String()
    notice_version = ma.fields.String()
    given_at = ma.fields.String()
    recorded_at = ma.fields.String()
    withdraw_token = ma.fields.String(metadata={"description": "Shown once; stored only as a hash"})
    signature = ma.fields.String(
        metadata={
            "description": "Ed25519, base64, over the canonical JSON of the other fields "
            "without signature and withdraw_token"
        }
    )


def dump_strings(
    fields: Mapping[str, ma.fields.Field[Any]], values: object
) -> dict[str, Any] | None:
    """Dump a dict of strings as `Schema.dump` would; None when it holds anything else.

    A String field dumps a str as itself and a key the dict lacks is left out, in the
    fields' order; a Nested field's dict goes the same way through its schema's fields.
    Only plain fields (no defaults, keys or attributes of their own) take this path.
    """
    if type(values) is not dict:
        return None
    dumped: dict[str, Any] = {}
    for name, field in fields.items():
        if field.data_key is not None or field.attribute is not None:
            return None
        if name not in values:
            if field.dump_default is not ma.missing:
                return None
            continue
        value = values[name]
        if type(field) is ma.fields.String and type(value) is str:
            dumped[name] = value
        elif type(field) is ma.fields.Nested and not field.many:
            nested = dump_strings(field.schema.dump_fields, value)
            if nested is None:
                return None
            dumped[name] = nested
        else:
            return None
    return dumped


class RecordedSchema(ma.Schema):
    """A stored response."""

    response_id = ma.fields.String()
    expires_at = ma.fields.String()
    receipt = ma.fields.Nested(ReceiptSchema)

    def dump(self, obj: Any, *, many: bool | None = None) -> Any:
        """Dump the answer, quickly when it is the usual dict of strings.

        `Schema.dump` cost ~8.5 us an answer for copying ten strings; neither this
        schema nor the receipt's has dump hooks, so the copy is the whole of it.
        """
        quick = None if many or self.many else dump_strings(self.dump_fields, obj)
        return super().dump(obj, many=many) if quick is None else quick


class WithdrawSchema(ma.Schema):
    """A request to withdraw one consent."""

    receipt_id = ma.fields.String(required=True, validate=validate.Length(1, 64))
    withdraw_token = ma.fields.String(required=True, validate=validate.Length(1, 200))


class WithdrawalSchema(ma.Schema):
    """The result of a withdrawal."""

    receipt_id = ma.fields.String()
    withdrawn_at = ma.fields.String()
    responses_erased = ma.fields.Integer()
