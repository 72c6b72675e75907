"""The request queue and one request: verify, extend, reject, fulfil, downloads."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from feedbackvault.domain.deadlines import deadline
from feedbackvault.domain.errors import Conflict, NotFound, ValidationFailed
from feedbackvault.services.privacy_requests import KINDS, OPEN_STATUSES, STATUSES, RequestState
from feedbackvault.web.console.blueprint import OFFICER, REQUEST_READERS, bp
from feedbackvault.web.context import services
from feedbackvault.web.forms import (
    ActForm,
    ErasureForm,
    NewRequestForm,
    ReasonForm,
    RectifyForm,
    VerifyForm,
)
from feedbackvault.web.sessions import current_account, require_roles

PAGE_SIZE = 50
MAX_PAGE = 10_000
# API.md: one extension, by two months (GDPR Art. 12(3)).
EXTENSION_MONTHS = 2
FILTER_STATUSES = (*STATUSES, "overdue")


def _channel(actor: str | None) -> str:
    """Name how a request arrived from the actor that recorded it."""
    if actor is None:
        return "unknown"
    if actor.startswith("token:"):
        return "api"
    if actor.startswith("account:"):
        return "console"
    return "privacy_centre"


def _row(state: RequestState, creators: dict[str, str]) -> dict[str, Any]:
    open_ = state.status in OPEN_STATUSES
    return {
        "state": state,
        "deadline": deadline(state.due_at, services().clock.now()) if open_ else None,
        "channel": _channel(creators.get(state.id)),
    }


def _choice(name: str, allowed: tuple[str, ...]) -> str | None:
    value = request.args.get(name) or None
    if value is not None and value not in allowed:
        abort(400)
    return value


@bp.route("/requests")
@require_roles(*REQUEST_READERS)
def requests() -> str:
    """Show the queue: overdue first, then by days left; filters and counts per status."""
    status, kind = _choice("status", FILTER_STATUSES), _choice("kind", KINDS)
    try:
        page = min(max(int(request.args.get("page", "1")), 1), MAX_PAGE)
    except ValueError:
        abort(400)
    rights = services().subject_rights
    listed = rights.queue(status, kind, PAGE_SIZE + 1, (page - 1) * PAGE_SIZE)
    shown = listed[:PAGE_SIZE]
    creators = rights.creators([state.id for state in shown])
    return render_template(
        "console/requests.html",
        rows=[_row(state, creators) for state in shown],
        counts=rights.counts(),
        status=status,
        kind=kind,
        page=page,
        more=len(listed) > PAGE_SIZE,
        form=NewRequestForm(formdata=None),
    )


@bp.route("/requests", methods=["POST"])
@require_roles(OFFICER)
def create_request() -> BaseResponse | tuple[str, int]:
    """Record a request that arrived outside the API (letter, e-mail, phone)."""
    form = NewRequestForm()
    if form.validate_on_submit():
        identifiers = {
            name: value.strip()
            for name, value in (("email", form.email.data), ("customer_id", form.customer_id.data))
            if value and value.strip()
        }
        state = services().subject_rights.create(
            form.kind.data or "", identifiers, form.note.data or None, current_account().actor
        )
        flash(_("Request recorded."), "ok")
        return redirect(url_for("console.request_detail", request_id=state.id))
    rights = services().subject_rights
    shown = rights.queue(None, None, PAGE_SIZE, 0)
    creators = rights.creators([state.id for state in shown])
    page = render_template(
        "console/requests.html",
        rows=[_row(state, creators) for state in shown],
        counts=rights.counts(),
        status=None,
        kind=None,
        page=1,
        more=False,
        form=form,
        form_open=True,
    )
    return page, 400


def _detail(state: RequestState, status: int = 200, **forms: Any) -> tuple[str, int]:
    rights = services().subject_rights
    timeline = rights.audit(request_id=state.id, subject_ref=None)
    open_ = state.status in OPEN_STATUSES
    page = render_template(
        "console/request.html",
        state=state,
        deadline=deadline(state.due_at, services().clock.now()) if open_ else None,
        timeline=[(entry, json.loads(entry.details)) for entry in timeline],
        verify_form=forms.get("verify_form") or VerifyForm(formdata=None),
        extend_form=forms.get("extend_form") or ReasonForm(formdata=None, prefix="extend"),
        reject_form=forms.get("reject_form") or ReasonForm(formdata=None, prefix="reject"),
        rectify_form=forms.get("rectify_form") or RectifyForm(formdata=None),
        act_form=ActForm(formdata=None),
        extension_months=EXTENSION_MONTHS,
    )
    return page, status


@bp.route("/requests/<string:request_id>")
@require_roles(*REQUEST_READERS)
def request_detail(request_id: str) -> tuple[str, int]:
    """Show one request: its deadline, timeline, acts and downloads."""
    return _detail(_get(request_id))


def _get(request_id: str) -> RequestState:
    try:
        return services().subject_rights.get(request_id)
    except NotFound:
        abort(404)


def _back(request_id: str) -> BaseResponse:
    return redirect(url_for("console.request_detail", request_id=request_id))


def _conflict(request_id: str, exc: Conflict) -> BaseResponse:
    """Say why the act is not possible in this state, on the request's page."""
    del exc  # the service's English text; the page says it in its own language
    flash(_("This is not possible in the request's current state."), "error")
    return _back(request_id)


@bp.route("/requests/<string:request_id>/verify", methods=["POST"])
@require_roles(OFFICER)
def verify(request_id: str) -> BaseResponse | tuple[str, int]:
    """Record how the subject's identity was checked."""
    state = _get(request_id)
    form = VerifyForm()
    if not form.validate_on_submit():
        return _detail(state, 400, verify_form=form)
    try:
        services().subject_rights.verify(
            request_id, form.method.data or "", current_account().actor
        )
    except Conflict as exc:
        return _conflict(request_id, exc)
    flash(_("Request verified."), "ok")
    return _back(request_id)


@bp.route("/requests/<string:request_id>/extend", methods=["POST"])
@require_roles(OFFICER)
def extend(request_id: str) -> BaseResponse | tuple[str, int]:
    """Extend the deadline once, by two months, with a reason."""
    state = _get(request_id)
    form = ReasonForm(prefix="extend")
    if not form.validate_on_submit():
        return _detail(state, 400, extend_form=form)
    try:
        services().subject_rights.extend(
            request_id, EXTENSION_MONTHS, form.reason.data or "", current_account().actor
        )
    except Conflict as exc:
        return _conflict(request_id, exc)
    flash(_("Deadline extended by two months."), "ok")
    return _back(request_id)


@bp.route("/requests/<string:request_id>/reject", methods=["POST"])
@require_roles(OFFICER)
def reject(request_id: str) -> BaseResponse | tuple[str, int]:
    """Reject the request with a reason the requester will see."""
    state = _get(request_id)
    form = ReasonForm(prefix="reject")
    if not form.validate_on_submit():
        return _detail(state, 400, reject_form=form)
    try:
        services().subject_rights.reject(
            request_id, form.reason.data or "", current_account().actor
        )
    except Conflict as exc:
        return _conflict(request_id, exc)
    flash(_("Request rejected."), "ok")
    return _back(request_id)


@bp.route("/requests/<string:request_id>/erase")
@require_roles(OFFICER)
def erase_preview(request_id: str) -> BaseResponse | tuple[str, int]:
    """Show what an erasure will destroy, and ask once more."""
    state = _get(request_id)
    try:
        counts = services().subject_rights.erasure_preview(request_id)
    except Conflict as exc:
        return _conflict(request_id, exc)
    page = render_template("console/erase.html", state=state, counts=counts, form=ErasureForm())
    return page, 200


@bp.route("/requests/<string:request_id>/fulfil", methods=["POST"])
@require_roles(OFFICER)
def fulfil(request_id: str) -> BaseResponse | tuple[str, int]:
    """Fulfil a verified request; an erasure only after its confirmation page."""
    state = _get(request_id)
    respondent = None
    if state.kind == "erasure":
        form = ErasureForm()
        if not form.validate_on_submit() or form.confirm.data != "yes":
            return redirect(url_for("console.erase_preview", request_id=request_id))
    elif state.kind == "rectification":
        rectify = RectifyForm()
        if not rectify.validate_on_submit():
            return _detail(state, 400, rectify_form=rectify)
        respondent = {
            name: value.strip()
            for name, value in (
                ("email", rectify.email.data),
                ("name", rectify.name.data),
                ("customer_id", rectify.customer_id.data),
            )
            if value and value.strip()
        }
    elif not ActForm().validate_on_submit():
        abort(400)
    try:
        services().subject_rights.fulfil(request_id, current_account().actor, respondent)
    except Conflict as exc:
        return _conflict(request_id, exc)
    except ValidationFailed:
        flash(_("The corrected fields are not valid."), "error")
        return _back(request_id)
    messages = {
        "access": _("Request fulfilled: the export can be downloaded below."),
        "erasure": _("Erasure carried out: the certificate is below."),
        "rectification": _("Rectification carried out."),
    }
    flash(messages[state.kind], "ok")
    return _back(request_id)


@bp.route("/requests/<string:request_id>/export.<any(json, zip):fmt>")
@require_roles(OFFICER)
def export(request_id: str, fmt: str) -> BaseResponse:
    """Download a completed access request's export, as JSON or as CSV files in a zip."""
    _get(request_id)
    wanted = "csv" if fmt == "zip" else "json"
    try:
        chunks = services().subject_rights.export(request_id, wanted, current_account().actor)
    except Conflict as exc:
        return _conflict(request_id, exc)
    mimetype = "application/zip" if fmt == "zip" else "application/json"
    response = Response(chunks, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="access-{request_id}.{fmt}"'
    return response


def _certificate(request_id: str) -> tuple[RequestState, dict[str, Any]]:
    state = _get(request_id)
    if state.kind != "erasure" or state.status != "completed" or not state.result:
        abort(404)
    return state, state.result


@bp.route("/requests/<string:request_id>/certificate")
@require_roles(*REQUEST_READERS)
def certificate(request_id: str) -> str:
    """Show the erasure certificate as a printable page."""
    state, result = _certificate(request_id)
    return render_template(
        "console/certificate.html", state=state, certificate=result, now=services().clock.now()
    )


@bp.route("/requests/<string:request_id>/certificate.json")
@require_roles(*REQUEST_READERS)
def certificate_json(request_id: str) -> Response:
    """Download the erasure certificate as JSON."""
    _, result = _certificate(request_id)
    response = Response(
        json.dumps(result, indent=2, ensure_ascii=False) + "\n", mimetype="application/json"
    )
    response.headers["Content-Disposition"] = (
        f'attachment; filename="erasure-certificate-{request_id}.json"'
    )
    return response


@bp.app_template_global()
def can_change() -> bool:
    """Tell templates whether the account may press buttons that change something."""
    account = g.get("account")
    return account is not None and account.role == OFFICER
