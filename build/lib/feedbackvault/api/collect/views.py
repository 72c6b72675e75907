"""Submit consented responses and withdraw consent."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from feedbackvault.api.auth import BEARER_SECURITY, current_caller, require_role
from feedbackvault.api.blueprint import Blueprint
from feedbackvault.api.collect.schemas import (
    RecordedSchema,
    SubmissionSchema,
    WithdrawalSchema,
    WithdrawSchema,
)
from feedbackvault.api.context import services
from feedbackvault.domain.clock import isoformat_z
from feedbackvault.domain.responses import Submission

blp = Blueprint(
    "collect", __name__, url_prefix="/api/v1", description="Survey front-ends: consented responses"
)


@blp.route("/responses")
class Responses(MethodView):
    """Consented responses."""

    @require_role("collector")
    @blp.doc(security=BEARER_SECURITY)
    @blp.arguments(SubmissionSchema())
    @blp.response(201, RecordedSchema)
    def post(self, submission: Submission) -> dict[str, Any]:
        """Submit a response with its opt-in consent.

        The purpose must exist and accept the consent's notice version; every
        respondent field, the comment and every metric must be allowed by the
        purpose. Personal fields are encrypted under the respondent's own key.
        Returns the signed consent receipt; its withdraw token is shown only here.
        """
        recorded = services().collection.submit(submission, current_caller().actor)
        return {
            "response_id": recorded.response_id,
            "expires_at": isoformat_z(recorded.expires_at),
            "receipt": dict(vars(recorded.receipt)),
        }


@blp.route("/consents/withdraw")
class ConsentWithdrawal(MethodView):
    """Withdrawal of consent."""

    @require_role("collector")
    @blp.doc(security=BEARER_SECURITY)
    @blp.arguments(WithdrawSchema())
    @blp.response(200, WithdrawalSchema)
    def post(self, body: dict[str, str]) -> dict[str, Any]:
        """Withdraw a consent with its receipt id and withdraw token.

        Every response given under the consent is erased at once and leaves all
        aggregates. Withdrawing again answers the same `withdrawn_at`. A wrong
        token is 403; an unknown receipt is 404.
        """
        withdrawal = services().collection.withdraw(
            body["receipt_id"], body["withdraw_token"], current_caller().actor
        )
        return {
            "receipt_id": withdrawal.receipt_id,
            "withdrawn_at": isoformat_z(withdrawal.withdrawn_at),
            "responses_erased": withdrawal.responses_erased,
        }
