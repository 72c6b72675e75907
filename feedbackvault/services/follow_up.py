"""Let follow-up staff read and close the loop on responses whose purpose allows contact."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from feedbackvault.crypto.errors import DecryptionFailed
from feedbackvault.crypto.fields import SubjectFields
from feedbackvault.domain.clock import Clock, isoformat_z
from feedbackvault.domain.errors import Conflict, NotFound, ValidationFailed
from feedbackvault.domain.purposes import PolicySet
from feedbackvault.services.collection import seal
from feedbackvault.services.subject_keys import OpenSubject, SubjectKeys
from feedbackvault.storage.follow_up_repository import DONE, QueueFilter, QueueRow
from feedbackvault.storage.units import Stores

OPEN = "open"
STATUSES = (OPEN, DONE)
NEWEST, DETRACTORS = "newest", "detractors"
ORDERS = (NEWEST, DETRACTORS)
# Each metric's scale, for checking `max_score`.
SCALES = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
# A note is written by staff about a call or an e-mail; the comment it answers has the same cap.
MAX_NOTE_LENGTH = 2000
# Response ids are UUIDs; a cursor's id is checked against this before any SQL sees it.
_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
INVALID_LISTING = "The listing's parameters are not valid."
CURSOR_MESSAGE = "Not a cursor of this listing: pass the `next` of the page before, unchanged."


@dataclass(frozen=True)
class FollowUpItem:
    """One response to follow up, decrypted for the member of staff it is shown to."""

    response_id: str
    survey_id: str
    purpose: str
    touchpoint: str | None
    locale: str | None
    created_at: datetime
    expires_at: datetime
    status: str
    answers: dict[str, Any] = field(repr=False)
    respondent: dict[str, str | None] = field(repr=False)
    note: str | None = field(default=None, repr=False)
    done_at: datetime | None = None
    done_by: str | None = None


@dataclass(frozen=True)
class FollowUpPage:
    """One page of the queue and the cursor of the next (None on the last page)."""

    items: list[FollowUpItem]
    next_cursor: str | None


@dataclass(frozen=True)
class QueueQuery:
    """A listing's filters, order and page, as given by the caller."""

    status: str = OPEN
    survey_id: str | None = None
    metric: str | None = None
    max_score: int | None = None
    order: str = NEWEST
    cursor: str | None = None
    limit: int = DEFAULT_LIMIT


class FollowUpService:
    """The follow-up queue: listing, showing and marking done, every look audited."""

    def __init__(
        self, stores: Stores, policies: PolicySet, subject_keys: SubjectKeys, clock: Clock
    ) -> None:
        self.stores = stores
        self.policies = policies
        self.subject_keys = subject_keys
        self.clock = clock

    def purposes(self) -> list[str]:
        """Name the purposes whose notice lets staff contact the respondent."""
        return [p.id for p in self.policies.ordered() if p.follow_up]

    def queue(self, actor: str, query: QueueQuery) -> FollowUpPage:
        """List a page of the queue, decrypted, after auditing who is shown which responses.

        Only unexpired responses with standing consent, under purposes with
        `follow_up: true`, with a subject and a contact field (email or customer
        id) are listed. `newest` orders by when the response was recorded;
        `detractors` lists the unhappy ones first (on the metric filtered on, else
        on any metric: NPS 0-6, CSAT 1-3, CES 1-4), each group newest first.
        """
        _check(query)
        now = self.clock.now()
        wanted = QueueFilter(
            self.purposes(), query.status, query.survey_id, query.metric, query.max_score
        )
        start_band, after = _decode(query.cursor, query.order)
        bands: list[int | None] = [0, 1] if query.order == DETRACTORS else [None]
        collected: list[QueueRow] = []
        with self.stores.read() as unit:
            for band in bands:
                if band is not None and start_band is not None and band < start_band:
                    continue
                keyset = after if band == start_band else None
                need = query.limit + 1 - len(collected)
                rows = [
                    row
                    for purpose in wanted.purposes
                    for row in unit.follow_ups.page(wanted, purpose, now, band, keyset, need)
                ]
                rows.sort(key=lambda row: (row.created_at, row.response_id), reverse=True)
                collected.extend(rows[:need])
                if len(collected) > query.limit:
                    break
        shown = collected[: query.limit]
        items = self._decrypted(shown)
        next_cursor = None
        if len(collected) > query.limit:
            last = shown[-1]
            band = last.band if query.order == DETRACTORS else None
            next_cursor = _encode(query.order, band, last.created_at, last.response_id)
        self._audit_shown(actor, [row for row in shown if row.response_id in items], query)
        return FollowUpPage([items[row.response_id] for row in shown if row.response_id in items],
                            next_cursor)  # fmt: skip

    def item(self, actor: str, response_id: str) -> FollowUpItem:
        """Show one response of the queue (open or done), after auditing the look."""
        row = self._eligible(response_id)
        items = self._decrypted([row])
        if response_id not in items:
            raise NotFound("No follow-up item with that id.")
        with self.stores.pipelined_data() as unit:
            unit.audit.send(
                at=self.clock.now(),
                actor=actor,
                action="follow_up.shown",
                subject_ref=row.subject_id,
                details={"response_ids": [response_id], "via": "item"},
            )
        return items[response_id]

    def mark_done(self, actor: str, response_id: str, note: str) -> FollowUpItem:
        """Mark an open item handled with a note, encrypted under the subject's data key.

        The note goes with the response: erased with the subject, with a withdrawal of
        the consent, and when the response or its consent expires. Unknown, expired,
        erased or not a follow-up purpose: NotFound. Done already: Conflict.
        """
        if not note.strip() or len(note) > MAX_NOTE_LENGTH:
            raise ValidationFailed({"note": [f"Give a note of 1 to {MAX_NOTE_LENGTH} characters."]})
        row = self._eligible(response_id)
        if row.status == DONE:
            raise Conflict("This item is done already.")
        with self.stores.keys_read() as keys:
            subject = self.subject_keys.open(keys, row.subject_id)
        if subject is None:
            raise NotFound("No follow-up item with that id.")
        note_ct = seal(subject, "follow_up", "note_ct", response_id, note)
        now = self.clock.now().replace(microsecond=0)
        with self.stores.data() as unit:
            locked = unit.follow_ups.one(response_id, self.purposes(), now)
            if locked is None:
                raise NotFound("No follow-up item with that id.")
            if not unit.follow_ups.record_done(locked, note_ct, now, actor, locked.expires_at):
                raise Conflict("This item is done already.")
            unit.audit.append(
                at=now,
                actor=actor,
                action="follow_up.done",
                subject_ref=locked.subject_id,
                details={"response_ids": [response_id], "note_chars": len(note)},
            )
        items = self._decrypted([row])
        done = items.get(response_id)
        if done is None:
            raise NotFound("No follow-up item with that id.")
        return FollowUpItem(
            **{**done.__dict__, "status": DONE, "note": note, "done_at": now, "done_by": actor}
        )

    def _eligible(self, response_id: str) -> QueueRow:
        with self.stores.read() as unit:
            row = unit.follow_ups.one(response_id, self.purposes(), self.clock.now())
        if row is None:
            raise NotFound("No follow-up item with that id.")
        return row

    def _decrypted(self, rows: Sequence[QueueRow]) -> dict[str, FollowUpItem]:
        """Open the rows' fields with their subjects' keys; rows whose key is gone are left out."""
        if not rows:
            return {}
        with self.stores.key_reads() as keys:
            opened = self.subject_keys.open_newest(keys, sorted({row.subject_id for row in rows}))
        return {
            row.response_id: _item(row, opened[row.subject_id])
            for row in rows
            if row.subject_id in opened
        }

    def _audit_shown(self, actor: str, rows: Sequence[QueueRow], query: QueueQuery) -> None:
        """Record the listing, and each response shown beside its subject (for the export)."""
        now = self.clock.now()
        filters = {
            "status": query.status,
            "survey_id": query.survey_id,
            "metric": query.metric,
            "max_score": query.max_score,
            "order": query.order,
        }
        with self.stores.pipelined_data() as unit:
            unit.audit.send(
                at=now,
                actor=actor,
                action="follow_up.listed",
                details={
                    "response_ids": [row.response_id for row in rows],
                    **{k: v for k, v in filters.items() if v is not None},
                },
            )
            shown: dict[str, list[str]] = {}
            for row in rows:
                shown.setdefault(row.subject_id, []).append(row.response_id)
            # One entry per subject shown, beside it (its access export finds it there).
            for subject_id, response_ids in shown.items():
                unit.audit.send(
                    at=now,
                    actor=actor,
                    action="follow_up.shown",
                    subject_ref=subject_id,
                    details={"response_ids": response_ids, "via": "listing"},
                )


def _item(row: QueueRow, subject: OpenSubject) -> FollowUpItem:
    fields = SubjectFields(subject.dek, "response", row.subject_id)

    def opened(cipher: SubjectFields, column: str, ciphertext: bytes) -> str | None:
        try:
            return cipher.decrypt(column, row.response_id, ciphertext)
        except DecryptionFailed:
            return None

    respondent = {
        name: opened(fields, f"{name}_ct", row.ciphertexts[f"{name}_ct"])
        for name in ("email", "name", "customer_id")
        if f"{name}_ct" in row.ciphertexts
    }
    answers: dict[str, Any] = dict(row.scores)
    if "comment_ct" in row.ciphertexts:
        answers["comment"] = opened(fields, "comment_ct", row.ciphertexts["comment_ct"])
    note = None
    if row.note_ct is not None:
        note = opened(
            SubjectFields(subject.dek, "follow_up", row.subject_id), "note_ct", row.note_ct
        )
    return FollowUpItem(
        response_id=row.response_id,
        survey_id=row.survey_id,
        purpose=row.purpose,
        touchpoint=row.touchpoint,
        locale=row.locale,
        created_at=row.created_at,
        expires_at=row.expires_at,
        status=row.status,
        answers=answers,
        respondent=respondent,
        note=note,
        done_at=row.done_at,
        done_by=row.done_by,
    )


def _check(query: QueueQuery) -> None:
    """Refuse filters that cannot mean anything (422), naming the parameter."""
    errors: dict[str, list[str]] = {}
    if query.status not in STATUSES:
        errors["status"] = [f"Must be one of: {', '.join(STATUSES)}."]
    if query.order not in ORDERS:
        errors["order"] = [f"Must be one of: {', '.join(ORDERS)}."]
    if query.metric is not None and query.metric not in SCALES:
        errors["metric"] = [f"Must be one of: {', '.join(SCALES)}."]
    if query.max_score is not None:
        if query.metric is None:
            errors["max_score"] = ["Give `metric` with `max_score`."]
        elif query.metric in SCALES:
            low, high = SCALES[query.metric]
            if not low <= query.max_score <= high:
                errors["max_score"] = [f"Must be from {low} to {high} for {query.metric}."]
    if not 1 <= query.limit <= MAX_LIMIT:
        errors["limit"] = [f"Must be from 1 to {MAX_LIMIT}."]
    if errors:
        raise ValidationFailed(errors, INVALID_LISTING)


def _encode(order: str, band: int | None, created_at: datetime, response_id: str) -> str:
    raw = json.dumps([order, band, isoformat_z(created_at), response_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode("utf-8")).decode("ascii").rstrip("=")


def _decode(cursor: str | None, order: str) -> tuple[int | None, tuple[datetime, str] | None]:
    """Read a cursor of `_encode` back; anything else is a 422 naming `cursor`."""
    if cursor is None:
        return (0 if order == DETRACTORS else None), None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        given_order, band, moment, response_id = json.loads(raw)
        at = datetime.fromisoformat(moment)
        valid = (
            given_order == order
            and (band in (0, 1) if order == DETRACTORS else band is None)
            and isinstance(response_id, str)
            and _ID.fullmatch(response_id) is not None
            and at.tzinfo is not None
            and 1970 <= at.year <= 9998
        )
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        valid = False
    if not valid:
        raise ValidationFailed(
            {"cursor": [CURSOR_MESSAGE]}, "The listing's parameters are not valid."
        )
    return band, (at, response_id)


def export_rows(
    rows: Sequence[Mapping[str, Any]], keys: Mapping[str, OpenSubject]
) -> list[dict[str, Any]]:
    """Shape a subject's handled items for an access export, their notes decrypted."""
    shaped: list[dict[str, Any]] = []
    for row in rows:
        note = None
        subject = keys.get(row["subject_id"])
        if row["note_ct"] is not None and subject is not None:
            cipher = SubjectFields(subject.dek, "follow_up", row["subject_id"])
            try:
                note = cipher.decrypt("note_ct", row["response_id"], bytes(row["note_ct"]))
            except DecryptionFailed:
                note = None
        shaped.append(
            {
                "response_id": row["response_id"],
                "status": row["status"],
                "done_at": isoformat_z(row["done_at"]) if row["done_at"] else None,
                "done_by": row["done_by"],
                "note": note,
            }
        )
    return shaped


def recipient_rows(entries: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Shape the audit entries that showed a subject's data as the export's recipients."""
    return [
        {
            "recipient": entry["actor"],
            "at": isoformat_z(entry["at"]),
            "action": entry["action"],
            "response_ids": json.loads(entry["details"]).get("response_ids", []),
        }
        for entry in entries
    ]
