"""Record consented responses and honour withdrawals of consent."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from feedbackvault.crypto.fields import FieldContext, encrypt_field
from feedbackvault.crypto.signing import ReceiptSigner
from feedbackvault.domain.clock import Clock, isoformat_z
from feedbackvault.domain.errors import Forbidden, NotFound, ValidationFailed
from feedbackvault.domain.ids import new_id
from feedbackvault.domain.purposes import PolicySet
from feedbackvault.domain.responses import Submission, check_submission
from feedbackvault.services.subject_keys import IdentifierRace, OpenSubject, SubjectKeys
from feedbackvault.storage.collection_repository import ConsentRow, ResponseRow, SubjectRow
from feedbackvault.storage.units import Stores

# Personal respondent fields and the column holding each one's ciphertext.
RESPONDENT_COLUMNS = {"email": "email_ct", "name": "name_ct", "customer_id": "customer_id_ct"}
CIPHERTEXT_COLUMNS = {**RESPONDENT_COLUMNS, "comment": "comment_ct"}
# One retry covers each race: two first submissions of one identifier at once, and a
# returning respondent's subject shredded between reading its key and storing.
RESOLVE_ATTEMPTS = 2


class SubjectGone(Exception):
    """The subject whose key was read has no row any more: look it up again."""


@dataclass(frozen=True)
class Receipt:
    """The respondent's signed proof of consent, as returned once on submission."""

    receipt_id: str
    purpose: str
    notice_version: str
    given_at: str
    recorded_at: str
    withdraw_token: str = field(repr=False)
    signature: str

    def signed_payload(self) -> dict[str, object]:
        """Return the fields the signature covers (not the signature or withdraw token)."""
        return {
            "receipt_id": self.receipt_id,
            "purpose": self.purpose,
            "notice_version": self.notice_version,
            "given_at": self.given_at,
            "recorded_at": self.recorded_at,
        }


@dataclass(frozen=True)
class Recorded:
    """What submitting a response produced."""

    response_id: str
    expires_at: datetime
    receipt: Receipt


@dataclass(frozen=True)
class Withdrawal:
    """The outcome of withdrawing one consent."""

    receipt_id: str
    withdrawn_at: datetime
    responses_erased: int


def hash_secret(secret: str) -> bytes:
    """Hash a high-entropy secret (withdraw token, API token) for storage."""
    return hashlib.sha256(secret.encode("utf-8")).digest()


def seal(subject: OpenSubject, table: str, column: str, row_id: str, value: str) -> bytes:
    """Encrypt one personal field, bound to its row, column and subject."""
    context = FieldContext(table=table, column=column, row_id=row_id, subject_id=subject.subject_id)
    return encrypt_field(subject.dek, subject.dek_version, value, context)


class CollectionService:
    """Accept consented responses from survey front-ends."""

    def __init__(
        self,
        stores: Stores,
        policies: PolicySet,
        subject_keys: SubjectKeys,
        signer: ReceiptSigner,
        clock: Clock,
    ) -> None:
        self.stores = stores
        self.policies = policies
        self.subject_keys = subject_keys
        self.signer = signer
        self.clock = clock

    def submit(self, submission: Submission, actor: str) -> Recorded:
        """Validate, encrypt and store one response with its consent and receipt."""
        now = self.clock.now().replace(microsecond=0)
        purpose, errors = check_submission(self.policies, submission, now)
        if errors or purpose is None:
            raise ValidationFailed(errors)
        personal = submission.personal_fields()
        response_id, consent_id = new_id(now), new_id(now)
        withdraw_token = secrets.token_urlsafe(32)
        receipt = self._sign(consent_id, submission, now, withdraw_token)
        consent_expires_at = purpose.consent_expires_at(now)
        response: ResponseRow = {
            "id": response_id,
            "subject_id": None,
            "consent_id": consent_id,
            "consent_expires_at": consent_expires_at,
            "survey_id": submission.survey_id,
            "purpose": purpose.id,
            "touchpoint": submission.touchpoint,
            "locale": submission.locale,
            "created_at": now,
            "created_month": now.date().replace(day=1),
            "expires_at": purpose.expires_at(now),
            "nps": submission.answers.nps,
            "csat": submission.answers.csat,
            "ces": submission.answers.ces,
        }
        consent: ConsentRow = {
            "id": consent_id,
            "subject_id": None,
            "purpose": purpose.id,
            "notice_version": submission.consent.notice_version,
            "given_at": submission.consent.given_at.astimezone(UTC),
            "recorded_at": now,
            "expires_at": consent_expires_at,
            "withdraw_token_hash": hash_secret(withdraw_token),
            "receipt_signature": receipt.signature,
        }
        if not personal:
            # Only a response carrying personal data needs a subject and a key.
            self._store(consent, response, actor, None)
            return Recorded(response_id, response["expires_at"], receipt)
        for attempt in range(RESOLVE_ATTEMPTS):
            subject = self._open_subject(submission.respondent)
            consent["subject_id"] = response["subject_id"] = subject.subject_id
            for name, column in CIPHERTEXT_COLUMNS.items():
                if name in personal:
                    ciphertext = seal(subject, "response", column, response_id, personal[name])
                    response[column] = ciphertext  # type: ignore[literal-required]
            try:
                # On the second attempt the key was read after any shredding committed
                # (keys go first), so a missing subject row is only missing: it is added.
                self._store(consent, response, actor, subject, recheck=attempt == 0)
            except SubjectGone:
                if subject.indexed:
                    # Entries added to a subject being shredded would name a keyless subject.
                    self.subject_keys.undo(self.stores, subject)
                continue
            except Exception:
                if subject.created or subject.indexed:
                    # Keys and index entries without their response would be personal
                    # data kept for a request that failed. A crash right here instead
                    # leaves an unused key that encrypts nothing.
                    self.subject_keys.undo(self.stores, subject)
                raise
            return Recorded(response_id, response["expires_at"], receipt)
        raise AssertionError("unreachable: the last attempt does not recheck")

    def _store(
        self,
        consent: ConsentRow,
        response: ResponseRow,
        actor: str,
        subject: OpenSubject | None,
        *,
        recheck: bool = True,
    ) -> None:
        # Pipelined (PostgreSQL): the rows, the audit entry and the COMMIT go out together,
        # in one round trip (two when a returning respondent's subject row is held).
        with self.stores.pipelined_data() as unit:
            subject_id = response["subject_id"]
            # A returning respondent: the sweep or an erasure may be shredding this
            # subject right now. Holding its row settles who goes first.
            subject_row: SubjectRow = (
                "none" if subject is None else "new" if subject.created else "held"
            )
            held = unit.rows.add_rows(consent, response, subject_row)
            if not held and recheck:
                raise SubjectGone
            unit.audit.send(
                at=consent["recorded_at"],
                actor=actor,
                action="response.recorded",
                subject_ref=subject_id,
                details={
                    "response_id": response["id"],
                    "consent_id": consent["id"],
                    "purpose": consent["purpose"],
                    "survey_id": response["survey_id"],
                    "notice_version": consent["notice_version"],
                },
            )

    def withdraw(self, receipt_id: str, withdraw_token: str, actor: str) -> Withdrawal:
        """Withdraw a consent: erase its responses and keep only the withdrawn record."""
        with self.stores.data() as unit:
            consent = unit.consents.get_for_update(receipt_id)
            if consent is None:
                raise NotFound("No consent receipt with that id.")
            if not hmac.compare_digest(consent.withdraw_token_hash, hash_secret(withdraw_token)):
                raise Forbidden("The withdraw token does not match this receipt.")
            if consent.withdrawn_at is not None:
                return Withdrawal(consent.id, consent.withdrawn_at, consent.responses_erased or 0)
            now = self.clock.now().replace(microsecond=0)
            erased = unit.responses.delete_for_consent(consent.id)
            consent.withdrawn_at, consent.responses_erased = now, erased
            unit.audit.append(
                at=now,
                actor=actor,
                action="consent.withdrawn",
                subject_ref=consent.subject_id,
                details={
                    "consent_id": consent.id,
                    "purpose": consent.purpose,
                    "responses_erased": erased,
                },
            )
            return Withdrawal(consent.id, now, erased)

    def _open_subject(self, identifiers: Mapping[str, str]) -> OpenSubject:
        for attempt in range(RESOLVE_ATTEMPTS):
            try:
                return self.subject_keys.resolve(self.stores, identifiers)
            except IdentifierRace:
                if attempt == RESOLVE_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    def _sign(self, consent_id: str, submission: Submission, now: datetime, token: str) -> Receipt:
        unsigned = Receipt(
            receipt_id=consent_id,
            purpose=submission.purpose,
            notice_version=submission.consent.notice_version,
            given_at=isoformat_z(submission.consent.given_at),
            recorded_at=isoformat_z(now),
            withdraw_token=token,
            signature="",
        )
        signature = self.signer.sign(unsigned.signed_payload())
        return Receipt(**{**unsigned.__dict__, "signature": signature})
