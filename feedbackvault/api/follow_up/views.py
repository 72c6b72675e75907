"""List, show and close follow-up items (token role `follow_up`)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from feedbackvault.api.auth import BEARER_SECURITY, current_caller, require_role
from feedbackvault.api.blueprint import Blueprint
from feedbackvault.api.context import services
from feedbackvault.api.follow_up.schemas import (
    DoneSchema,
    FollowUpItemSchema,
    FollowUpPageSchema,
    QueueQuerySchema,
)
from feedbackvault.domain.clock import isoformat_z
from feedbackvault.services.follow_up import FollowUpItem, QueueQuery

blp = Blueprint(
    "follow_up",
    __name__,
    url_prefix="/api/v1/follow-ups",
    description="Follow-up staff: contact respondents where the purpose allows it",
)
FOLLOW_UP = "follow_up"


def item_view(item: FollowUpItem) -> dict[str, Any]:
    """Shape one item as the API and the console's JSON show it."""
    return {
        "response_id": item.response_id,
        "survey_id": item.survey_id,
        "purpose": item.purpose,
        "touchpoint": item.touchpoint,
        "locale": item.locale,
        "created_at": isoformat_z(item.created_at),
        "expires_at": isoformat_z(item.expires_at),
        "status": item.status,
        "answers": item.answers,
        "respondent": item.respondent,
        "note": item.note,
        "done_at": isoformat_z(item.done_at) if item.done_at else None,
        "done_by": item.done_by,
    }


@blp.route("")
class Queue(MethodView):
    """The follow-up queue."""

    @require_role(FOLLOW_UP)
    @blp.doc(security=BEARER_SECURITY)
    @blp.arguments(QueueQuerySchema, location="query")
    @blp.response(200, FollowUpPageSchema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """List responses to follow up, newest first, with the respondent's fields decrypted.

        Only unexpired responses with standing consent under purposes with
        `follow_up: true`, that hold a contact field (email or customer id), are
        listed; a withdrawn consent or an erased subject takes its items (and
        their notes) away at once. `status=open` (default) lists those not yet
        handled, `status=done` the handled ones with their notes. Filters:
        `survey_id`, `metric` with an optional `max_score` (422 outside the
        metric's scale, or without `metric`). Pages of `limit` (1-200, default
        50) items; pass `next` as `cursor` for the following page (a cursor of
        another `order` is 422). Every listing is audited: one entry naming the
        token and the responses shown, and one per response beside its subject,
        which the subject's access export lists as a recipient.
        """
        page = services().follow_up.queue(current_caller().actor, QueueQuery(**query))
        return {"follow_ups": [item_view(item) for item in page.items], "next": page.next_cursor}


@blp.route("/<string:response_id>")
class Item(MethodView):
    """One follow-up item."""

    @require_role(FOLLOW_UP)
    @blp.doc(security=BEARER_SECURITY)
    @blp.response(200, FollowUpItemSchema)
    def get(self, response_id: str) -> dict[str, Any]:
        """Show one item, open or done (404 when it may not be followed up); audited."""
        return item_view(services().follow_up.item(current_caller().actor, response_id))


@blp.route("/<string:response_id>/done")
class Done(MethodView):
    """Closing an item."""

    @require_role(FOLLOW_UP)
    @blp.doc(security=BEARER_SECURITY)
    @blp.arguments(DoneSchema)
    @blp.response(200, FollowUpItemSchema)
    @blp.alt_response(409, response="CONFLICT", description="The item is done already")
    def post(self, body: dict[str, str], response_id: str) -> dict[str, Any]:
        """Mark an open item handled, with a note (1-2000 characters).

        The note is personal data: it is encrypted under the respondent's data
        key, exported with an access request, and erased with the subject, with
        a withdrawal of the consent, or when the response expires. 404 when the
        response is unknown, expired, erased or not under a follow-up purpose;
        409 when it is done already.
        """
        item = services().follow_up.mark_done(current_caller().actor, response_id, body["note"])
        return item_view(item)
