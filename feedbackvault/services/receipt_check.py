"""Check a pasted consent receipt: is its signature valid, and what does it record?"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from feedbackvault.crypto.signing import ReceiptSigner, verify_receipt
from feedbackvault.domain.purposes import NoticeText, PolicySet

# A receipt is ~500 bytes; anything far larger is not one.
MAX_RECEIPT_CHARS = 8_000
# The fields a receipt's signature covers (API.md), in the order a person reads them.
SIGNED_FIELDS = (
    "receipt_id", "purpose", "notice_version", "notice_sha256", "given_at", "recorded_at",
)  # fmt: skip
UNSIGNED_FIELDS = ("signature", "withdraw_token")


@dataclass(frozen=True)
class ReceiptCheck:
    """The verdict on one pasted receipt."""

    # "valid", "invalid" (signature does not match) or "unreadable" (not a receipt).
    verdict: str
    fields: dict[str, str] = field(default_factory=dict)
    # The notice text whose SHA-256 the receipt names, when this service serves it.
    notice: NoticeText | None = None

    @property
    def valid(self) -> bool:
        """Tell whether the signature is valid."""
        return self.verdict == "valid"


def check_receipt(pasted: str, signer: ReceiptSigner, policies: PolicySet) -> ReceiptCheck:
    """Verify a pasted receipt against the service's public key; never raise on any paste."""
    if len(pasted) > MAX_RECEIPT_CHARS:
        return ReceiptCheck("unreadable")
    try:
        receipt = json.loads(pasted)
    except (ValueError, RecursionError):
        return ReceiptCheck("unreadable")
    if not isinstance(receipt, dict) or not isinstance(receipt.get("signature"), str):
        return ReceiptCheck("unreadable")
    payload = {k: v for k, v in receipt.items() if k not in UNSIGNED_FIELDS}
    shown = {k: payload[k] for k in SIGNED_FIELDS if isinstance(payload.get(k), str)}
    if not verify_receipt(signer.public_key_b64(), payload, receipt["signature"]):
        return ReceiptCheck("invalid", shown)
    return ReceiptCheck("valid", shown, _notice(shown, policies))


def _notice(fields: dict[str, str], policies: PolicySet) -> NoticeText | None:
    purpose = policies.get(fields.get("purpose", ""))
    if purpose is None:
        return None
    for text in purpose.notices.get(fields.get("notice_version", ""), ()):
        if text.sha256 == fields.get("notice_sha256"):
            return text
    return None
