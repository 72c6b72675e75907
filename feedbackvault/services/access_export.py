"""Export everything held on a subject (GDPR Art. 15 and 20) as streamed JSON or zipped CSV."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any

from feedbackvault.crypto.errors import DecryptionFailed
from feedbackvault.crypto.fields import FieldContext, decrypt_field
from feedbackvault.domain.clock import Clock, isoformat_z
from feedbackvault.domain.purposes import PolicySet
from feedbackvault.services.subject_keys import OpenSubject, SubjectKeys
from feedbackvault.storage.data_models import AuditEntry, Consent, Response
from feedbackvault.storage.units import Stores

# Rows read per query: memory stays flat however many responses a subject has.
PAGE_SIZE = 500

Row = dict[str, Any]

RESPONSE_COLUMNS = (
    "response_id", "survey_id", "purpose", "touchpoint", "locale", "nps", "csat", "ces",
    "comment", "email", "name", "customer_id", "created_at", "expires_at",
)  # fmt: skip
CONSENT_COLUMNS = (
    "receipt_id", "purpose", "notice_version", "given_at", "recorded_at", "expires_at",
    "withdrawn_at", "signature",
)  # fmt: skip
HISTORY_COLUMNS = ("seq", "at", "actor", "action", "subject_ref", "request_id", "details", "hash")
PURPOSE_COLUMNS = (
    "purpose", "description", "legal_basis", "retention", "consent_retention", "on_expiry",
    "aggregate", "notice_versions",
)  # fmt: skip


def _iso(moment: datetime | None) -> str | None:
    return isoformat_z(moment) if moment is not None else None


def _dumps(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class _Sink(io.RawIOBase):
    """An unseekable byte sink the zip writer fills and the stream drains."""

    def __init__(self) -> None:
        super().__init__()
        self._chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self._chunks.append(chunk)
        return len(chunk)

    def take(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data


class AccessExport:
    """Read a subject's responses, consents and audit history page by page, decrypted."""

    def __init__(
        self, stores: Stores, policies: PolicySet, subject_keys: SubjectKeys, clock: Clock
    ) -> None:
        self.stores = stores
        self.policies = policies
        self.subject_keys = subject_keys
        self.clock = clock

    def counts(self, subject_ids: Sequence[str]) -> dict[str, int]:
        """Count what an export of these subjects holds (stored as the request's result)."""
        with self.stores.read() as unit:
            responses, consents = unit.subject_data.count_live(subject_ids, self.clock.now())
        return {"responses": responses, "consents": consents}

    def json_chunks(self, subject_ids: Sequence[str], prefix: bytes = b"") -> Iterator[bytes]:
        """Yield the export as one JSON object, a page at a time, after `prefix`."""
        now = self.clock.now()
        purposes: set[str] = set()
        yield prefix + b'{"subject_refs":' + _dumps(list(subject_ids))
        yield b',"generated_at":' + _dumps(isoformat_z(now))
        sections: list[tuple[bytes, Iterator[list[Row]]]] = [
            (b',"responses":[', self._responses(subject_ids, now, purposes)),
            (b'],"consents":[', self._consents(subject_ids, now, purposes)),
        ]
        for opening, pages in sections:
            yield opening
            first = True
            for page in pages:
                yield (b"" if first else b",") + b",".join(_dumps(row) for row in page)
                first = False
        yield b'],"purposes":' + _dumps(
            {row.pop("purpose"): row for row in self._purposes(purposes)}
        )
        yield b',"processing_history":['
        first = True
        for page in self._history(subject_ids):
            yield (b"" if first else b",") + b",".join(_dumps(row) for row in page)
            first = False
        yield b"]}"

    def zip_chunks(self, subject_ids: Sequence[str]) -> Iterator[bytes]:
        """Yield a zip of responses.csv, consents.csv, purposes.csv and processing_history.csv."""
        now = self.clock.now()
        purposes: set[str] = set()
        tables: list[tuple[str, Sequence[str], Callable[[], Iterator[list[Row]]]]] = [
            (
                "responses.csv",
                RESPONSE_COLUMNS,
                lambda: self._responses(subject_ids, now, purposes),
            ),
            ("consents.csv", CONSENT_COLUMNS, lambda: self._consents(subject_ids, now, purposes)),
            ("purposes.csv", PURPOSE_COLUMNS, lambda: iter([self._purposes(purposes)])),
            ("processing_history.csv", HISTORY_COLUMNS, lambda: self._history(subject_ids)),
        ]
        sink = _Sink()
        with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, columns, pages in tables:
                with (
                    archive.open(name, "w") as raw,
                    io.TextIOWrapper(raw, encoding="utf-8", newline="") as text,
                ):
                    writer = csv.DictWriter(text, fieldnames=columns, extrasaction="ignore")
                    writer.writeheader()
                    for page in pages():
                        writer.writerows(_flat(row) for row in page)
                        text.flush()
                        yield sink.take()
        yield sink.take()

    def _responses(
        self, subject_ids: Sequence[str], now: datetime, purposes: set[str]
    ) -> Iterator[list[Row]]:
        with self.stores.keys() as unit:
            keys = self.subject_keys.open_many(unit, list(subject_ids))
        after = ""
        while True:
            with self.stores.read() as unit:
                page = unit.subject_data.response_page(list(keys), now, after, PAGE_SIZE)
            if not page:
                return
            purposes.update(row.purpose for row in page)
            yield [self._response(row, keys) for row in page]
            after = page[-1].id

    def _response(self, row: Response, keys: dict[str, OpenSubject]) -> Row:
        subject = keys[row.subject_id] if row.subject_id else None

        def opened(column: str) -> str | None:
            ciphertext = getattr(row, column)
            if ciphertext is None or subject is None:
                return None
            context = FieldContext("response", column, row.id, subject.subject_id)
            try:
                return decrypt_field(subject.dek, ciphertext, context)
            except DecryptionFailed:
                return None

        respondent = {
            name: opened(f"{name}_ct")
            for name in ("email", "name", "customer_id")
            if getattr(row, f"{name}_ct") is not None
        }
        answers = {
            m: getattr(row, m) for m in ("nps", "csat", "ces") if getattr(row, m) is not None
        }
        if row.comment_ct is not None:
            answers["comment"] = opened("comment_ct")
        return {
            "response_id": row.id,
            "survey_id": row.survey_id,
            "purpose": row.purpose,
            "touchpoint": row.touchpoint,
            "locale": row.locale,
            "answers": answers,
            "respondent": respondent,
            "created_at": _iso(row.created_at),
            "expires_at": _iso(row.expires_at),
        }

    def _consents(
        self, subject_ids: Sequence[str], now: datetime, purposes: set[str]
    ) -> Iterator[list[Row]]:
        after = ""
        while True:
            with self.stores.read() as unit:
                page = unit.subject_data.consent_page(subject_ids, now, after, PAGE_SIZE)
            if not page:
                return
            purposes.update(row.purpose for row in page)
            yield [_consent(row) for row in page]
            after = page[-1].id

    def _purposes(self, used: set[str]) -> list[Row]:
        rows: list[Row] = []
        for purpose_id in sorted(used):
            purpose = self.policies.get(purpose_id)
            if purpose is None:
                continue
            rows.append(
                {
                    "purpose": purpose.id,
                    "description": purpose.description,
                    "legal_basis": purpose.legal_basis,
                    "retention": purpose.retention.text,
                    "consent_retention": purpose.consent_retention.text,
                    "on_expiry": purpose.on_expiry,
                    "aggregate": purpose.aggregate,
                    "notice_versions": list(purpose.notice_versions),
                }
            )
        return rows

    def _history(self, subject_ids: Sequence[str]) -> Iterator[list[Row]]:
        after = 0
        while True:
            with self.stores.read() as unit:
                page = unit.subject_data.audit_page(subject_ids, after, PAGE_SIZE)
            if not page:
                return
            yield [_audit(entry) for entry in page]
            after = page[-1].seq


def _consent(row: Consent) -> Row:
    return {
        "receipt_id": row.id,
        "purpose": row.purpose,
        "notice_version": row.notice_version,
        "given_at": _iso(row.given_at),
        "recorded_at": _iso(row.recorded_at),
        "expires_at": _iso(row.expires_at),
        "withdrawn_at": _iso(row.withdrawn_at),
        "signature": row.receipt_signature,
    }


def _audit(entry: AuditEntry) -> Row:
    return {
        "seq": entry.seq,
        "at": _iso(entry.at),
        "actor": entry.actor,
        "action": entry.action,
        "subject_ref": entry.subject_ref,
        "request_id": entry.request_id,
        "details": json.loads(entry.details),
        "hash": entry.hash,
    }


def _flat(row: Row) -> Row:
    """Flatten nested answers, respondent and lists into CSV cells."""
    flat = {k: v for k, v in row.items() if k not in ("answers", "respondent")}
    flat.update(row.get("answers", {}))
    flat.update(row.get("respondent", {}))
    for key, value in flat.items():
        if isinstance(value, dict | list):
            flat[key] = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return flat
