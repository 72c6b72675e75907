"""Document the purposes and the receipt public key."""

from __future__ import annotations

import marshmallow as ma


class PurposeSchema(ma.Schema):
    """One purpose of processing, as defined in policies/."""

    id = ma.fields.String()
    description = ma.fields.String()
    legal_basis = ma.fields.String()
    notice_version = ma.fields.String(
        metadata={"description": "The newest accepted notice version"}
    )
    notice_versions = ma.fields.List(ma.fields.String())
    retention = ma.fields.String(metadata={"description": "ISO 8601 duration"})
    consent_retention = ma.fields.String(metadata={"description": "ISO 8601 duration"})
    personal_fields = ma.fields.List(ma.fields.String())
    metrics = ma.fields.List(ma.fields.String())
    aggregate = ma.fields.Boolean()
    on_expiry = ma.fields.String()


class PurposeListSchema(ma.Schema):
    """Every purpose."""

    purposes = ma.fields.List(ma.fields.Nested(PurposeSchema))


class PublicKeySchema(ma.Schema):
    """The key that verifies consent receipts."""

    algorithm = ma.fields.String()
    public_key = ma.fields.String(metadata={"description": "base64 of the 32 raw bytes"})
