"""Take respondents' own access and erasure requests, confirmed by an e-mailed link.

An address is personal data: it is kept only encrypted, under a data key of its
own in the key store (a *contact*), from the form post until the request's answer
has been e-mailed; then that key is destroyed. Links are random tokens of which
only the SHA-256 is stored. Every post does the same work whether or not the
address is known to the service (nothing here looks it up), so the page, the
e-mail and the time taken say nothing about who is a respondent.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from limits import RateLimitItem, parse_many
from limits.storage import Storage
from limits.strategies import FixedWindowRateLimiter

from feedbackvault.crypto.fields import FieldContext, decrypt_field, encrypt_field
from feedbackvault.domain.clock import Clock
from feedbackvault.domain.errors import FeedbackVaultError, ValidationFailed
from feedbackvault.domain.ids import new_id
from feedbackvault.domain.mail import Mailer, MailFailed, Message
from feedbackvault.domain.purposes import PolicySet
from feedbackvault.services.privacy_requests import RequestState
from feedbackvault.services.subject_keys import FIRST_DEK_VERSION, SubjectKeys
from feedbackvault.services.subject_rights import SubjectRightsService
from feedbackvault.storage.data_models import PrivacyContact, PrivacyLink
from feedbackvault.storage.units import Stores

logger = logging.getLogger("feedbackvault.privacy_centre")

ACTOR = "privacy-centre"
KINDS = ("access", "erasure")
VERIFICATION_METHOD = "email-link"
# API.md: a confirmation link is valid 24 hours, a download link 7 days; each works once.
CONFIRM_VALID = timedelta(hours=24)
DOWNLOAD_VALID = timedelta(days=7)
CONFIRM, DOWNLOAD = "confirm", "download"
MAX_ADDRESS_CHARS = 254
# An address whose link was never followed is kept no longer than the link could be used.
UNCONFIRMED_KEPT = CONFIRM_VALID + timedelta(hours=1)
# Unconfirmed contacts forgotten per form post (bounded, so every post costs the same).
FORGET_BATCH = 50
CONTACT_CONTEXT = ("privacy_contact", "address_ct")


class RateLimited(FeedbackVaultError):
    """Too many requests from this address or client; try again later."""

    title = "Too many requests"


class NotAccepting(FeedbackVaultError):
    """The privacy centre has no mail server (or it is down): requests go to the controller."""

    title = "Not available"


class LinkInvalid(FeedbackVaultError):
    """The link is unknown, used already or expired (the page says which in one word)."""

    title = "Link not valid"

    def __init__(self, reason: str) -> None:
        super().__init__("This link cannot be used.")
        self.reason = reason


@dataclass(frozen=True)
class PendingLink:
    """What a valid, unused link will do when it is followed."""

    purpose: str
    request_kind: str | None
    expires_at: datetime


def token_hash(token: str) -> bytes:
    """Hash a link token for storage and lookup."""
    return hashlib.sha256(token.encode("utf-8")).digest()


class PrivacyCentreService:
    """The self-service half of data-subject requests."""

    def __init__(
        self,
        stores: Stores,
        policies: PolicySet,
        subject_keys: SubjectKeys,
        subject_rights: SubjectRightsService,
        clock: Clock,
        *,
        mailer: Mailer | None,
        public_url: str | None,
        limiter_storage: Storage,
        limit_per_address: str,
        limit_per_client: str,
    ) -> None:
        self.stores = stores
        self.policies = policies
        self.subject_keys = subject_keys
        self.subject_rights = subject_rights
        self.clock = clock
        self.mailer = mailer
        self.public_url = public_url
        self.limiter = FixedWindowRateLimiter(limiter_storage)
        self.per_address: list[RateLimitItem] = parse_many(limit_per_address)
        self.per_client: list[RateLimitItem] = parse_many(limit_per_client)
        subject_rights.on_closed.append(self.request_closed)

    @property
    def accepting(self) -> bool:
        """Tell whether requests can be taken (a mail server and a public address are set)."""
        return self.mailer is not None and self.public_url is not None

    def ask(self, email: str, kind: str, client: str) -> None:
        """E-mail a confirmation link for an access or erasure request (same work for anyone)."""
        address = email.strip()
        if kind not in KINDS:
            raise ValidationFailed({"kind": [f"Must be one of: {', '.join(KINDS)}."]})
        if not address or len(address) > MAX_ADDRESS_CHARS or "@" not in address:
            raise ValidationFailed({"email": ["Give an e-mail address."]})
        if self.mailer is None or self.public_url is None:
            raise NotAccepting("The privacy centre has no mail server configured.")
        digest = self.subject_keys.digests({"email": address})["email"]
        self._count(client, digest)
        now = self.clock.now().replace(microsecond=0)
        self.forget_unconfirmed(now)
        contact_id = new_id(now)
        opened, key = self.subject_keys.new_key(contact_id, FIRST_DEK_VERSION)
        context = FieldContext(*CONTACT_CONTEXT, row_id=contact_id, subject_id=contact_id)
        sealed = encrypt_field(opened.dek, opened.dek_version, address, context)
        token = secrets.token_urlsafe(32)
        contact = PrivacyContact(id=contact_id, address_ct=sealed, created_at=now)
        link = PrivacyLink(
            id=new_id(now), token_hash=token_hash(token), purpose=CONFIRM, request_kind=kind,
            contact_id=contact_id, created_at=now, expires_at=now + CONFIRM_VALID,
        )  # fmt: skip
        # Key first: a crash before the data write leaves a key that encrypts nothing.
        with self.stores.keys() as keys:
            keys.keys.add_key(key)
        with self.stores.data() as unit:
            unit.privacy_centre.add(contact, link)
            unit.audit.append(
                at=now, actor=ACTOR, action="privacy_centre.link_sent",
                details={"purpose": CONFIRM, "kind": kind},
            )  # fmt: skip
        try:
            self.mailer.send(confirmation_message(address, kind, self._url("confirm", token)))
        except MailFailed:
            self._forget([contact_id])
            raise NotAccepting("The mail server did not take the message.") from None

    def forget_unconfirmed(self, now: datetime) -> int:
        """Shred the addresses of requests never confirmed (links unused for 24 hours)."""
        with self.stores.read() as unit:
            stale = unit.privacy_centre.unconfirmed_before(now - UNCONFIRMED_KEPT, FORGET_BATCH)
        self._forget(stale)
        return len(stale)

    def pending(self, token: str, purpose: str) -> PendingLink:
        """Tell what a link will do, without using it (mail scanners may open links)."""
        with self.stores.read() as unit:
            link = unit.privacy_centre.link(token_hash(token))
            self._check(link, purpose)
            assert link is not None
            return PendingLink(link.purpose, link.request_kind, link.expires_at)

    def confirm(self, token: str) -> RequestState:
        """Use a confirmation link: record the request as verified by `email-link`."""
        now = self.clock.now().replace(microsecond=0)
        with self.stores.data() as unit:
            link = unit.privacy_centre.link_for_update(token_hash(token))
            self._check(link, CONFIRM)
            assert link is not None
            link.used_at = now
            kind, contact_id = str(link.request_kind), link.contact_id
            contact = unit.privacy_centre.contact(contact_id) if contact_id else None
        if contact is None:
            raise LinkInvalid("unknown")
        address = self._open(contact)
        created = self.subject_rights.create(kind, {"email": address}, None, ACTOR)
        state = self.subject_rights.verify(created.id, VERIFICATION_METHOD, ACTOR)
        with self.stores.data() as unit:
            unit.privacy_centre.attach(contact.id, state.id)
        return state

    def download(self, token: str) -> Iterator[bytes]:
        """Use a download link once: stream the completed access request's export (JSON)."""
        now = self.clock.now().replace(microsecond=0)
        with self.stores.data() as unit:
            link = unit.privacy_centre.link_for_update(token_hash(token))
            self._check(link, DOWNLOAD)
            assert link is not None
            link.used_at = now
            request_id = str(link.request_id)
        return self.subject_rights.export(request_id, "json", ACTOR)

    def request_closed(self, state: RequestState) -> None:
        """E-mail a privacy-centre requester the outcome, then destroy their address."""
        with self.stores.read() as unit:
            contacts = unit.privacy_centre.contacts_of(state.id)
        if not contacts or self.mailer is None:
            return
        now = self.clock.now().replace(microsecond=0)
        link = None
        token = secrets.token_urlsafe(32)
        if state.kind == "access" and state.status == "completed":
            link = PrivacyLink(
                id=new_id(now), token_hash=token_hash(token), purpose=DOWNLOAD,
                request_id=state.id, created_at=now, expires_at=now + DOWNLOAD_VALID,
            )  # fmt: skip
            with self.stores.data() as unit:
                unit.privacy_centre.add(link)
        url = self._url("export", token) if link is not None else None
        sent = []
        for contact in contacts:
            try:
                self.mailer.send(outcome_message(self._open(contact), state, url))
            except MailFailed:
                # The address is kept so an officer can see the answer was not delivered.
                logger.warning("privacy centre mail failed", extra={"request_id": state.id})
                continue
            sent.append(contact.id)
        with self.stores.data() as unit:
            unit.audit.append(
                at=now, actor=ACTOR, action="privacy_centre.outcome_sent", request_id=state.id,
                details={"status": state.status, "delivered": len(sent), "of": len(contacts)},
            )  # fmt: skip
        self._forget(sent)

    def _check(self, link: PrivacyLink | None, purpose: str) -> None:
        if link is None or link.purpose != purpose:
            raise LinkInvalid("unknown")
        if link.used_at is not None:
            raise LinkInvalid("used")
        if link.expires_at <= self.clock.now():
            raise LinkInvalid("expired")

    def _count(self, client: str, digest: bytes) -> None:
        """Count one post per address (its keyed digest) and per client; refuse over a limit."""
        client_key = hashlib.sha256(client.encode("utf-8")).hexdigest()
        keys = [(item, "address", digest.hex()) for item in self.per_address]
        keys += [(item, "client", client_key) for item in self.per_client]
        # Test first, then count, so a refused post does not use up the other limit.
        if not all(self.limiter.test(item, "privacy", kind, key) for item, kind, key in keys):
            raise RateLimited("Too many requests; try again later.")
        for item, kind, key in keys:
            self.limiter.hit(item, "privacy", kind, key)

    def _open(self, contact: PrivacyContact) -> str:
        with self.stores.keys_read() as keys:
            opened = self.subject_keys.open(keys, contact.id)
        if opened is None:
            raise LinkInvalid("unknown")
        context = FieldContext(*CONTACT_CONTEXT, row_id=contact.id, subject_id=contact.id)
        return decrypt_field(opened.dek, contact.address_ct, context)

    def _forget(self, contact_ids: list[str]) -> None:
        """Destroy contacts' keys (shredding their addresses), then their rows."""
        if not contact_ids:
            return
        with self.stores.keys() as keys:
            keys.shred.destroy(contact_ids)
        with self.stores.data() as unit:
            unit.privacy_centre.forget_contacts(contact_ids)

    def _url(self, path: str, token: str) -> str:
        return f"{self.public_url}/privacy/{path}/{token}"


def confirmation_message(address: str, kind: str, url: str) -> Message:
    """Write the confirmation e-mail, Dutch first, then English."""
    nl_kind = {"access": "inzage in uw gegevens", "erasure": "verwijdering van uw gegevens"}[kind]
    en_kind = {"access": "access to your data", "erasure": "erasure of your data"}[kind]
    body = (
        f"Iemand heeft met dit e-mailadres gevraagd om {nl_kind}.\n"
        f"Was u dat? Open deze link binnen 24 uur en bevestig uw verzoek:\n\n{url}\n\n"
        "De link werkt één keer. Heeft u niets gevraagd, dan kunt u deze e-mail negeren.\n\n"
        "---\n\n"
        f"Someone used this e-mail address to ask for {en_kind}.\n"
        f"Was it you? Open this link within 24 hours and confirm your request:\n\n{url}\n\n"
        "The link works once. If you did not ask, you can ignore this e-mail.\n"
    )
    return Message(
        to=address, subject="Bevestig uw privacyverzoek / Confirm your privacy request", body=body
    )


def outcome_message(address: str, state: RequestState, url: str | None) -> Message:
    """Write the e-mail that answers a request: the download link, or what was done."""
    if url is not None:
        body = (
            "Uw inzageverzoek is afgehandeld. Download uw gegevens (JSON) met deze link; "
            f"hij werkt één keer en is 7 dagen geldig:\n\n{url}\n\n---\n\n"
            "Your access request has been answered. Download your data (JSON) with this "
            f"link; it works once and is valid for 7 days:\n\n{url}\n"
        )
        subject = "Uw gegevens / Your data"
    elif state.status == "completed":
        body = (
            "Uw verzoek is uitgevoerd: uw gegevens zijn gewist. Gepubliceerde anonieme "
            "statistieken blijven zoals ze waren.\n\n---\n\n"
            "Your request has been carried out: your data has been erased. Published "
            "anonymous statistics stay as they were.\n"
        )
        subject = "Uw verzoek is uitgevoerd / Your request is done"
    else:
        body = (
            "Uw verzoek is afgewezen. Neem contact op met de verwerkingsverantwoordelijke "
            "als u wilt weten waarom.\n\n---\n\n"
            "Your request has been rejected. Contact the controller to learn why.\n"
        )
        subject = "Uw verzoek / Your request"
    return Message(to=address, subject=subject, body=body)
