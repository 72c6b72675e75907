"""The follow-up queue and one item: read the respondent's words and contact, mark it done."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as BaseResponse
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from feedbackvault.domain.errors import Conflict, ValidationFailed
from feedbackvault.services.follow_up import (
    DETRACTORS,
    MAX_NOTE_LENGTH,
    NEWEST,
    OPEN,
    ORDERS,
    SCALES,
    STATUSES,
    QueueQuery,
)
from feedbackvault.web.console.blueprint import FOLLOW_UP, bp
from feedbackvault.web.context import services
from feedbackvault.web.sessions import current_account, require_roles

PAGE_SIZE = 25
# The console's survey filter is a label like the API's survey ids; longer input is not one.
MAX_SURVEY_LENGTH = 100


class DoneForm(FlaskForm):  # type: ignore[misc]  # FlaskForm is untyped
    """The note of a handled item (personal data: stored encrypted)."""

    note = TextAreaField(
        _l("What did you do? (note)"),
        [
            DataRequired(_l("Fill in this field.")),
            Length(max=MAX_NOTE_LENGTH, message=_l("Use at most 2000 characters.")),
        ],
    )


def _query() -> QueueQuery:
    """Read the page's filters; a value the page never offers is a 400 page."""
    args = request.args
    # PostgreSQL text cannot hold NUL: refuse it here rather than fail in the query.
    if any("\x00" in value for value in args.values()):
        abort(400)
    status = args.get("status") or OPEN
    order = args.get("order") or DETRACTORS
    metric = args.get("metric") or None
    survey = (args.get("survey_id") or "").strip() or None
    raw_max = (args.get("max_score") or "").strip()
    if status not in STATUSES or order not in ORDERS or (metric and metric not in SCALES):
        abort(400)
    if survey is not None and len(survey) > MAX_SURVEY_LENGTH:
        abort(400)
    max_score = None
    if raw_max:
        if not raw_max.isdigit() or metric is None:
            abort(400)
        max_score = int(raw_max)
    cursor = args.get("cursor") or None
    return QueueQuery(status, survey, metric, max_score, order, cursor, PAGE_SIZE)


@bp.route("/follow-up")
@require_roles(FOLLOW_UP)
def follow_up() -> str | tuple[str, int]:
    """Show the queue: unhappy respondents first, newest first within, with filters."""
    query = _query()
    try:
        page = services().follow_up.queue(current_account().actor, query)
    except ValidationFailed:
        abort(400)
    return render_template(
        "console/follow_up.html",
        items=page.items,
        next_cursor=page.next_cursor,
        query=query,
        filters=_filters(query),
        newest=NEWEST,
    )


@bp.route("/follow-up/<response_id>")
@require_roles(FOLLOW_UP)
def follow_up_item(response_id: str) -> str | tuple[str, int]:
    """Show one item with the respondent's contact details, and the form to mark it done."""
    _check_id(response_id)
    item = services().follow_up.item(current_account().actor, response_id)
    return render_template("console/follow_up_item.html", item=item, form=DoneForm(formdata=None))


@bp.route("/follow-up/<response_id>/done", methods=["POST"])
@require_roles(FOLLOW_UP)
def follow_up_done(response_id: str) -> BaseResponse | tuple[str, int]:
    """Mark an item done with a note, then return to the queue."""
    _check_id(response_id)
    form = DoneForm()
    if form.validate_on_submit():
        try:
            services().follow_up.mark_done(
                current_account().actor, response_id, form.note.data or ""
            )
        except Conflict:
            flash(_("Someone marked this item as done already."), "info")
            return redirect(url_for("console.follow_up_item", response_id=response_id))
        flash(_("Marked as done. The note is stored encrypted."), "ok")
        return redirect(url_for("console.follow_up"))
    item = services().follow_up.item(current_account().actor, response_id)
    return render_template("console/follow_up_item.html", item=item, form=form), 400


def _check_id(response_id: str) -> None:
    """Answer 404 for an id no response can have (a NUL would fail PostgreSQL's query)."""
    if "\x00" in response_id or len(response_id) > MAX_SURVEY_LENGTH:
        abort(404)


def _filters(query: QueueQuery) -> dict[str, Any]:
    """The filters as URL parameters, for the pager and the links that keep them."""
    given = {
        "status": query.status,
        "survey_id": query.survey_id,
        "metric": query.metric,
        "max_score": query.max_score,
        "order": query.order,
    }
    return {key: value for key, value in given.items() if value is not None}
