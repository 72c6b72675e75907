"""Publish the purposes and the receipt-verification key."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from feedbackvault.api.auth import BEARER_SECURITY, require_role
from feedbackvault.api.blueprint import Blueprint
from feedbackvault.api.context import services
from feedbackvault.api.meta.schemas import PublicKeySchema, PurposeListSchema
from feedbackvault.services.tokens import ROLES

blp = Blueprint("meta", __name__, url_prefix="/api/v1", description="Purposes and receipt keys")


@blp.route("/purposes")
class Purposes(MethodView):
    """Purposes of processing."""

    @require_role(*ROLES)
    @blp.doc(security=BEARER_SECURITY)
    @blp.response(200, PurposeListSchema)
    def get(self) -> dict[str, Any]:
        """List the purposes defined in policies/, with retention and allowed fields."""
        return {"purposes": services().purposes_view()}


@blp.route("/receipts/public-key")
class ReceiptKey(MethodView):
    """Receipt verification key."""

    @blp.response(200, PublicKeySchema)
    def get(self) -> dict[str, str]:
        """Return the Ed25519 public key that verifies consent receipts (no auth)."""
        signer = services().signer
        return {"algorithm": signer.algorithm, "public_key": signer.public_key_b64()}
