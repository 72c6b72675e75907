"""Validate data-subject requests and document what privacy officers get back."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import validate

from feedbackvault.api.fields import StrictInteger, TrimmedEmail
from feedbackvault.services.privacy_requests import KINDS, STATUSES

# Reasons and methods are officers' words, kept in clear: short, and never the subject's data.
MAX_REASON_LENGTH = 500
MAX_NOTE_LENGTH = 2000


class SubjectSchema(ma.Schema):
    """Identifiers the subject is found by; at least one."""

    email = ma.fields.String(
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


class RequestListSchema(ma.Schema):
    """Requests, oldest first."""

    requests = ma.fields.List(ma.fields.Nested(RequestSchema))


class ListQuerySchema(ma.Schema):
    """Filters of the request listing."""

    status = ma.fields.String(validate=validate.OneOf((*STATUSES, "overdue")))
    limit = ma.fields.Integer(load_default=100, validate=validate.Range(1, 1000))


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


class FulfilledSchema(ma.Schema):
    """A fulfilled request; `export`, `certificate` or `rectified` by kind."""

    id = ma.fields.String()
    kind = ma.fields.String()
    status = ma.fields.String()
    export = ma.fields.Dict(metadata={"description": "access: everything held, decrypted"})
    certificate = ma.fields.Nested(CertificateSchema)
    rectified = ma.fields.Dict(metadata={"description": "rectification: counts and fields"})


class ExportQuerySchema(ma.Schema):
    """Format of an export download."""

    format = ma.fields.String(load_default="json", validate=validate.OneOf(["json", "csv"]))


class AuditQuerySchema(ma.Schema):
    """Exactly one of a request id or a subject ref."""

    request_id = ma.fields.String(validate=validate.Length(1, 36))
    subject_ref = ma.fields.String(validate=validate.Length(1, 64))

    @ma.validates_schema
    def exactly_one(self, data: dict[str, Any], **_kwargs: Any) -> None:
        """Require exactly one filter."""
        if len(data) != 1:
            raise ma.ValidationError("Give exactly one of request_id, subject_ref.", "_schema")


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
    """Audit entries, in chain order."""

    entries = ma.fields.List(ma.fields.Nested(AuditEntrySchema))
