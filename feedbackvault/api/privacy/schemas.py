"""Validate data-subject requests and document what privacy officers get back."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import validate

from feedbackvault.api.fields import StrictInteger, TrimmedEmail
from feedbackvault.api.paging import AuditCursor, RequestCursor, page_size
from feedbackvault.services.privacy_requests import KINDS, STATUSES

# Reasons and methods are officers' words, kept in clear: short, and never the subject's data.
MAX_REASON_LENGTH = 500
MAX_NOTE_LENGTH = 2000


class SubjectSchema(ma.Schema):
    """Identifiers the subject is found by; at least one."""

    email = TrimmedEmail(
        validate=validate.Length(1, 254),
        metadata={"description": "Trimmed, case-insensitive, Unicode-normalised"},
    )
    customer_id = ma.fields.String(validate=validate.Length(1, 100))

    @ma.validates_schema
    def needs_identifier(self, data: dict[str, Any], **_kwargs: Any) -> None:
        """Require at least one non-blank identifier."""
        if not any(str(v).strip() for v in data.values()):
            raise ma.ValidationError("Give an email or a customer_id.", "_schema")


class CreateRequestSchema(ma.Schema):
    """A new data-subject request."""

    kind = ma.fields.String(required=True, validate=validate.OneOf(KINDS))
    subject = ma.fields.Nested(SubjectSchema, required=True)
    note = ma.fields.String(
        validate=validate.Length(1, MAX_NOTE_LENGTH),
        metadata={"description": "Not stored; only its length is audited"},
    )


class RequestSchema(ma.Schema):
    """A data-subject request: dates, status and pseudonymous subject refs, nothing personal."""

    id = ma.fields.String()
    kind = ma.fields.String()
    status = ma.fields.String()
    overdue = ma.fields.Boolean(metadata={"description": "Open and past due_at"})
    received_at = ma.fields.String()
    due_at = ma.fields.String()
    subject_refs = ma.fields.List(ma.fields.String())
    verified_at = ma.fields.String(allow_none=True)
    verification_method = ma.fields.String(allow_none=True)
    extended_at = ma.fields.String(allow_none=True)
    extension_reason = ma.fields.String(allow_none=True)
    completed_at = ma.fields.String(allow_none=True)
    rejected_at = ma.fields.String(allow_none=True)
    rejection_reason = ma.fields.String(allow_none=True)
    result = ma.fields.Dict(allow_none=True, metadata={"description": "Counts or certificate"})


NEXT = ma.fields.String(
    allow_none=True, metadata={"description": "Address of the next page; null on the last"}
)


class RequestListSchema(ma.Schema):
    """One page of requests, oldest first (by `received_at`, then `id`)."""

    requests = ma.fields.List(ma.fields.Nested(RequestSchema))
    next = NEXT


class ListQuerySchema(ma.Schema):
    """Filters and page of the request listing."""

    status = ma.fields.String(validate=validate.OneOf((*STATUSES, "overdue")))
    limit = page_size()
    cursor = RequestCursor()


class VerifySchema(ma.Schema):
    """How the subject's identity was checked."""

    method = ma.fields.String(required=True, validate=validate.Length(1, 200))


class ExtendSchema(ma.Schema):
    """An extension by one or two further months (GDPR Art. 12(3))."""

    months = StrictInteger(required=True, validate=validate.OneOf([1, 2]))
    reason = ma.fields.String(required=True, validate=validate.Length(1, MAX_REASON_LENGTH))


class RejectSchema(ma.Schema):
    """Why the request is refused."""

    reason = ma.fields.String(required=True, validate=validate.Length(1, MAX_REASON_LENGTH))


class CorrectedRespondentSchema(ma.Schema):
    """Corrected respondent fields; at least one."""

    email = TrimmedEmail(validate=validate.Length(max=254))
    name = ma.fields.String(validate=validate.Length(1, 200))
    customer_id = ma.fields.String(validate=validate.Length(1, 100))


class FulfilSchema(ma.Schema):
    """Body of a fulfilment: only a rectification has one."""

    respondent = ma.fields.Nested(CorrectedRespondentSchema)


class CertificateSchema(ma.Schema):
    """Proof of an erasure."""

    request_id = ma.fields.String()
    subject_ref = ma.fields.String(allow_none=True)
    responses_erased = ma.fields.Integer()
    consents_erased = ma.fields.Integer()
    keys_destroyed = ma.fields.Integer()
    completed_at = ma.fields.String()
    audit_hash = ma.fields.String(
        metadata={"description": "hash of the audit entry of the erasure"}
    )
    final_by = ma.fields.String(
        metadata={
            "description": "when no copy of the destroyed keys is readable anywhere the "
            "service controls: the active KEK's scheduled rotation plus its grace period"
        }
    )


class ExportAnswersSchema(ma.Schema):
    """Scores and the decrypted comment of one response."""

    nps = ma.fields.Integer()
    csat = ma.fields.Integer()
    ces = ma.fields.Integer()
    comment = ma.fields.String(allow_none=True, metadata={"description": "null if unreadable"})


class ExportRespondentSchema(ma.Schema):
    """The decrypted respondent fields a response holds."""

    email = ma.fields.String(allow_none=True)
    name = ma.fields.String(allow_none=True)
    customer_id = ma.fields.String(allow_none=True)


class ExportResponseSchema(ma.Schema):
    """One response held on the subject."""

    response_id = ma.fields.String()
    survey_id = ma.fields.String()
    purpose = ma.fields.String()
    touchpoint = ma.fields.String(allow_none=True)
    locale = ma.fields.String(allow_none=True)
    answers = ma.fields.Nested(ExportAnswersSchema)
    respondent = ma.fields.Nested(ExportRespondentSchema)
    created_at = ma.fields.String()
    expires_at = ma.fields.String(allow_none=True)


class ExportConsentSchema(ma.Schema):
    """One consent record of the subject, with its receipt's signature."""

    receipt_id = ma.fields.String()
    purpose = ma.fields.String()
    notice_version = ma.fields.String()
    given_at = ma.fields.String()
    recorded_at = ma.fields.String()
    expires_at = ma.fields.String(allow_none=True)
    withdrawn_at = ma.fields.String(allow_none=True)
    signature = ma.fields.String()


class ExportPurposeSchema(ma.Schema):
    """A purpose the subject's data is held for."""

    description = ma.fields.String()
    legal_basis = ma.fields.String()
    retention = ma.fields.String()
    consent_retention = ma.fields.String()
    on_expiry = ma.fields.String()
    aggregate = ma.fields.Boolean()
    notice_versions = ma.fields.List(ma.fields.String())


class ExportHistorySchema(ma.Schema):
    """One audit entry about the subject (processing history)."""

    seq = ma.fields.Integer()
    at = ma.fields.String()
    actor = ma.fields.String()
    action = ma.fields.String()
    subject_ref = ma.fields.String(allow_none=True)
    request_id = ma.fields.String(allow_none=True)
    details = ma.fields.Dict()
    hash = ma.fields.String()


class ExportSchema(ma.Schema):
    """Everything held on the subject, decrypted (GDPR Art. 15 and 20)."""

    subject_refs = ma.fields.List(ma.fields.String())
    generated_at = ma.fields.String()
    responses = ma.fields.List(ma.fields.Nested(ExportResponseSchema))
    consents = ma.fields.List(ma.fields.Nested(ExportConsentSchema))
    purposes = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Nested(ExportPurposeSchema),
        metadata={"description": "By purpose id"},
    )
    processing_history = ma.fields.List(ma.fields.Nested(ExportHistorySchema))


class RectifiedSchema(ma.Schema):
    """What a rectification changed (the corrected values are not echoed)."""

    responses_rectified = ma.fields.Integer()
    # `fields` is a Schema attribute of its own, so the field is named apart from its key.
    field_names = ma.fields.List(
        ma.fields.String(),
        attribute="fields",
        data_key="fields",
        metadata={"description": "Names of the corrected fields"},
    )


class FulfilledSchema(ma.Schema):
    """A fulfilled request; `export`, `certificate` or `rectified` by kind."""

    id = ma.fields.String()
    kind = ma.fields.String()
    status = ma.fields.String()
    export = ma.fields.Nested(ExportSchema, metadata={"description": "access"})
    certificate = ma.fields.Nested(CertificateSchema, metadata={"description": "erasure"})
    rectified = ma.fields.Nested(RectifiedSchema, metadata={"description": "rectification"})


class ExportQuerySchema(ma.Schema):
    """Format of an export download."""

    format = ma.fields.String(load_default="json", validate=validate.OneOf(["json", "csv"]))


class AuditQuerySchema(ma.Schema):
    """At most one of a request id or a subject ref (none: the whole log), and a page."""

    request_id = ma.fields.String(validate=validate.Length(1, 36))
    subject_ref = ma.fields.String(validate=validate.Length(1, 64))
    limit = page_size()
    cursor = AuditCursor()

    @ma.validates_schema
    def at_most_one(self, data: dict[str, Any], **_kwargs: Any) -> None:
        """Refuse both filters at once."""
        if "request_id" in data and "subject_ref" in data:
            raise ma.ValidationError("Give at most one of request_id, subject_ref.", "_schema")


class AuditEntrySchema(ma.Schema):
    """One audit entry; subjects appear only as pseudonymous refs."""

    seq = ma.fields.Integer()
    at = ma.fields.String()
    actor = ma.fields.String()
    action = ma.fields.String()
    subject_ref = ma.fields.String(allow_none=True)
    request_id = ma.fields.String(allow_none=True)
    details = ma.fields.Dict()
    prev_hash = ma.fields.String()
    hash = ma.fields.String()


class AuditListSchema(ma.Schema):
    """One page of audit entries, in chain order."""

    entries = ma.fields.List(ma.fields.Nested(AuditEntrySchema))
    next = NEXT
