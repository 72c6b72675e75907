"""Receive and answer data-subject requests (access, rectification, erasure)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import marshmallow as ma
from flask import Response, request
from flask.views import MethodView
from werkzeug.exceptions import BadRequest, UnsupportedMediaType

from feedbackvault.api.auth import BEARER_SECURITY, current_caller, require_role
from feedbackvault.api.blueprint import Blueprint
from feedbackvault.api.context import services
from feedbackvault.api.privacy.schemas import (
    AuditListSchema,
    AuditQuerySchema,
    CreateRequestSchema,
    ExportQuerySchema,
    ExtendSchema,
    FulfilledSchema,
    FulfilSchema,
    ListQuerySchema,
    RejectSchema,
    RequestListSchema,
    RequestSchema,
    VerifySchema,
)
from feedbackvault.api.problems import flatten_messages
from feedbackvault.domain.audit import AuditRecord
from feedbackvault.domain.clock import isoformat_z
from feedbackvault.domain.errors import ValidationFailed
from feedbackvault.services.privacy_requests import RequestState

blp = Blueprint(
    "privacy",
    __name__,
    url_prefix="/api/v1/privacy",
    description="Privacy officers: data-subject requests (GDPR Art. 12-17)",
)
OFFICER = "privacy_officer"


def _when(moment: Any) -> str | None:
    return isoformat_z(moment) if moment is not None else None


def _state(state: RequestState) -> dict[str, Any]:
    return {
        "id": state.id,
        "kind": state.kind,
        "status": state.status,
        "overdue": state.overdue,
        "received_at": _when(state.received_at),
        "due_at": _when(state.due_at),
        "subject_refs": state.subject_refs,
        "verified_at": _when(state.verified_at),
        "verification_method": state.verification_method,
        "extended_at": _when(state.extended_at),
        "extension_reason": state.extension_reason,
        "completed_at": _when(state.completed_at),
        "rejected_at": _when(state.rejected_at),
        "rejection_reason": state.rejection_reason,
        "result": state.result,
    }


def _entry(record: AuditRecord) -> dict[str, Any]:
    return {
        "seq": record.seq,
        "at": _when(record.at),
        "actor": record.actor,
        "action": record.action,
        "subject_ref": record.subject_ref,
        "request_id": record.request_id,
        "details": json.loads(record.details),
        "prev_hash": record.prev_hash,
        "hash": record.hash,
    }


def _optional_json_body() -> dict[str, Any]:
    """Parse an optional JSON body: empty is `{}`, non-JSON is 415, broken JSON is 400."""
    if not request.get_data(cache=True):
        return {}
    if not request.is_json:
        raise UnsupportedMediaType()
    data = request.get_json(silent=True)
    if data is None:
        raise BadRequest()
    try:
        loaded: dict[str, Any] = FulfilSchema().load(data)
    except ma.ValidationError as error:
        raise ValidationFailed(flatten_messages(error.messages)) from None
    return loaded


@blp.route("/requests")
class Requests(MethodView):
    """Data-subject requests."""

    @require_role(OFFICER)
    @blp.doc(security=BEARER_SECURITY)
    @blp.arguments(CreateRequestSchema)
    @blp.response(201, RequestSchema)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Record a data-subject request; it is due one calendar month later.

        `due_at` follows GDPR Art. 12(3): one calendar month, clamped to the
        month's last day (31 January gives 28 or 29 February). Only keyed
        digests of the identifiers are stored, and only until the request is
        closed; the optional `note` is not stored at all (only its length is
        audited), so put case details in your case system. The subject refs
        are the pseudonymous subject ids the identifiers matched (possibly none:
        a request for an unknown person is still recorded and answered).
        """
        state = services().subject_rights.create(
            body["kind"], body["subject"], body.get("note"), current_caller().actor
        )
        return _state(state)

    @require_role(OFFICER)
    @blp.doc(security=BEARER_SECURITY)
    @blp.arguments(ListQuerySchema, location="query")
    @blp.response(200, RequestListSchema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """List requests, oldest first, optionally by status or `overdue`.

        `overdue` is derived, not stored: a received or verified request whose
        `due_at` has passed. The listing holds no personal field. `limit`
        (1-1000, default 100) caps the number of requests returned.
        """
        listed = services().subject_rights.listing(query.get("status"), query["limit"])
        return {"requests": [_state(state) for state in listed]}


@blp.route("/requests/<string:request_id>")
class OneRequest(MethodView):
    """One data-subject request."""

    @require_role(OFFICER)
    @blp.doc(security=BEARER_SECURITY)
    @blp.response(200, RequestSchema)
    def get(self, request_id: str) -> dict[str, Any]:
        """Return one request with its dates, status and result (counts or certificate)."""
        return _state(services().subject_rights.get(request_id))


@blp.route("/requests/<string:request_id>/verify")
class Verification(MethodView):
    """Identity verification."""

    @require_role(OFFICER)
    @blp.doc(security=BEARER_SECURITY)
    @blp.arguments(VerifySchema)
    @blp.response(200, RequestSchema)
    def post(self, body: dict[str, str], request_id: str) -> dict[str, Any]:
        """Record how the subject's identity was checked; the request becomes `verified`.

        Only a `received` request can be verified (409 otherwise). Describe the
        method (e.g. "reply from the registered address"), not the evidence.
        """
        state = services().subject_rights.verify(request_id, body["method"], current_caller().actor)
        return _state(state)


@blp.route("/requests/<string:request_id>/extend")
class Extension(MethodView):
    """Deadline extension."""

    @require_role(OFFICER)
    @blp.doc(security=BEARER_SECURITY)
    @blp.arguments(ExtendSchema)
    @blp.response(200, RequestSchema)
    def post(self, body: dict[str, Any], request_id: str) -> dict[str, Any]:
        """Extend an open request once by 1 or 2 months, with a reason (GDPR Art. 12(3)).

        The new `due_at` is `received_at` plus 1 + `months` calendar months. A
        second extension, or extending a closed request, is 409. The reason is
        stored in clear: it must not contain personal data.
        """
        state = services().subject_rights.extend(
            request_id, body["months"], body["reason"], current_caller().actor
        )
        return _state(state)


@blp.route("/requests/<string:request_id>/reject")
class Rejection(MethodView):
    """Rejection."""

    @require_role(OFFICER)
    @blp.doc(security=BEARER_SECURITY)
    @blp.arguments(RejectSchema)
    @blp.response(200, RequestSchema)
    def post(self, body: dict[str, str], request_id: str) -> dict[str, Any]:
        """Reject an open request with a reason (stored in clear: no personal data in it)."""
        state = services().subject_rights.reject(request_id, body["reason"], current_caller().actor)
        return _state(state)


@blp.route("/requests/<string:request_id>/fulfil")
class Fulfilment(MethodView):
    """Fulfilment."""

    @require_role(OFFICER)
    @blp.doc(security=BEARER_SECURITY)
    @blp.response(200, FulfilledSchema)
    def post(self, request_id: str) -> Any:
        """Fulfil a verified request (409 unless verified); the answer depends on its kind.

        - access: `export` holds everything held on the subject, decrypted:
          `{"subject_refs", "generated_at", "responses": [{"response_id",
          "survey_id", "purpose", "touchpoint", "locale", "answers": {"nps",
          "csat", "ces", "comment"}, "respondent": {"email", "name",
          "customer_id"}, "created_at", "expires_at"}], "consents":
          [{"receipt_id", "purpose", "notice_version", "given_at",
          "recorded_at", "expires_at", "withdrawn_at", "signature"}],
          "purposes": {id: {"description", "legal_basis", "retention",
          "consent_retention", "on_expiry", "aggregate", "notice_versions"}},
          "processing_history": [audit entries]}`. Expired and anonymised
          responses are not held on the subject and are never included. The
          request stores only counts; download the export again with
          `GET .../export`.
        - erasure: `certificate`. Responses of purposes with `on_expiry:
          anonymise` keep their scores, survey, touchpoint, locale and month and
          lose every link to the subject; all others are deleted, as are the
          subject's consent records, data keys and index entries. Only the
          random subject id remains, as a tombstone that re-applies the
          erasure after a backup is restored. Fulfilling a completed erasure
          again finishes the key-store half after a crash and returns the same
          certificate.
        - rectification: body `{"respondent": {"email"?, "name"?,
          "customer_id"?}}`. Fields a response already holds are replaced;
          every ciphertext of the subject is re-encrypted under a new data-key
          version and the old key is destroyed, so old values cannot be read
          from a backup either. A corrected identifier that already belongs to
          another subject is 409.
        """
        body = _optional_json_body()
        fulfilment = services().subject_rights.fulfil(
            request_id, current_caller().actor, body.get("respondent")
        )
        state = fulfilment.state
        head = {"id": state.id, "kind": state.kind, "status": state.status}
        if fulfilment.export is not None:
            export = fulfilment.export
            prefix = json.dumps(head)[:-1].encode("utf-8") + b',"export":'

            def stream() -> Iterator[bytes]:
                yield prefix
                yield from export
                yield b"}"

            return Response(stream(), mimetype="application/json")
        if fulfilment.certificate is not None:
            return {**head, "certificate": fulfilment.certificate}
        return {**head, "rectified": fulfilment.rectified}


@blp.route("/requests/<string:request_id>/export")
class Export(MethodView):
    """Export download."""

    @require_role(OFFICER)
    @blp.doc(security=BEARER_SECURITY)
    @blp.arguments(ExportQuerySchema, location="query")
    @blp.response(
        200,
        description="The export as application/json, or with format=csv a zip of "
        "responses.csv, consents.csv, purposes.csv and processing_history.csv",
    )
    def get(self, query: dict[str, str], request_id: str) -> Response:
        """Download a completed access request's export (409 for any other request).

        The export is generated at download time from what is held then (an
        erased subject yields an empty export) and streamed page by page. Each
        download is audited.
        """
        fmt = query["format"]
        chunks = services().subject_rights.export(request_id, fmt, current_caller().actor)
        mimetype, suffix = (
            ("application/zip", "zip") if fmt == "csv" else ("application/json", "json")
        )
        response = Response(chunks, mimetype=mimetype)
        response.headers["Content-Disposition"] = (
            f'attachment; filename="access-{request_id}.{suffix}"'
        )
        return response


@blp.route("/audit")
class Audit(MethodView):
    """Audit entries about requests and subjects."""

    @require_role(OFFICER)
    @blp.doc(security=BEARER_SECURITY)
    @blp.arguments(AuditQuerySchema, location="query")
    @blp.response(200, AuditListSchema)
    def get(self, query: dict[str, str]) -> dict[str, Any]:
        """List the audit entries about one request or one pseudonymous subject (max 1000)."""
        records = services().subject_rights.audit(
            request_id=query.get("request_id"), subject_ref=query.get("subject_ref")
        )
        return {"entries": [_entry(record) for record in records]}
