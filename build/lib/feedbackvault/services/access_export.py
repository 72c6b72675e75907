"""Export everything held on a subject (GDPR Art. 15 and 20) as streamed JSON or zipped CSV."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from feedbackvault.crypto.errors import DecryptionFailed
from feedbackvault.crypto.fields import SubjectFields
from feedbackvault.domain.clock import Clock, isoformat_z
from feedbackvault.domain.purposes import PolicySet
from feedbackvault.services.subject_keys import OpenSubject, SubjectKeys
from feedbackvault.storage.subject_data_repository import ExportedRow, ExportRows, Section
from feedbackvault.storage.units import Stores

# Rows read per query: memory stays flat however many responses a subject has.
PAGE_SIZE = 500
# CSV that Dutch Excel opens as is: a UTF-8 byte-order mark and `;` between cells.
CSV_BOM = "\ufeff"
CSV_DELIMITER = ";"

# The export's JSON: compact, non-ASCII text kept as it is.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
# The sections whose first pages are read together (`AccessExport.start`).
_FIRST: tuple[Section, Section] = ("responses", "consents")
# First characters that make a spreadsheet read a CSV cell as a formula.
_FORMULA_STARTS = frozenset("=+-@\t\r")
# An exported record, as it goes into JSON or a CSV line.
Row_ = dict[str, Any]

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
    return _ENCODER.encode(value).encode("utf-8")


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


@dataclass(frozen=True)
class ExportStart:
    """The first page of each section, read in the transaction that completes the request.

    Most subjects fit in one page per section: the request is then answered
    from one data transaction, and the stream reads nothing more.
    """

    responses: Sequence[ExportedRow]
    consents: Sequence[ExportedRow]
    history: Sequence[ExportedRow] = ()


class AccessExport:
    """Read a subject's responses, consents and audit history page by page, decrypted."""

    def __init__(
        self, stores: Stores, policies: PolicySet, subject_keys: SubjectKeys, clock: Clock
    ) -> None:
        self.stores = stores
        self.policies = policies
        self.subject_keys = subject_keys
        self.clock = clock

    def start(
        self, rows: ExportRows, subject_ids: Sequence[str], now: datetime
    ) -> tuple[ExportStart, dict[str, int]]:
        """Read the first response and consent pages and count what the export holds.

        Both pages are sent before either is read (one round trip in a pipeline). A
        page shorter than PAGE_SIZE is the whole section, so it is its own count;
        only subjects with more rows pay for the counting query.
        """
        sent = [rows.page(section, subject_ids, now, "", PAGE_SIZE) for section in _FIRST]
        responses, consents = (page.rows() for page in sent)
        counts = (len(responses), len(consents))
        if max(counts) >= PAGE_SIZE:
            counts = rows.counts(subject_ids, now)
        return ExportStart(responses, consents), {"responses": counts[0], "consents": counts[1]}

    def history_page(
        self, rows: ExportRows, subject_ids: Sequence[str], now: datetime
    ) -> Callable[[], list[ExportedRow]]:
        """Send the query of the subjects' first audit page; return what reads it."""
        return rows.page("history", subject_ids, now, 0, PAGE_SIZE).rows

    def json_chunks(
        self,
        subject_ids: Sequence[str],
        keys: Mapping[str, OpenSubject],
        start: ExportStart | None = None,
    ) -> Iterator[bytes]:
        """Yield the export as one JSON object, a page at a time, continuing from `start`."""
        now = self.clock.now()
        purposes: set[str] = set()
        yield b'{"subject_refs":' + _dumps(list(subject_ids))
        yield b',"generated_at":' + _dumps(isoformat_z(now))
        sections: list[tuple[bytes, Iterator[list[Row_]]]] = [
            (b',"responses":[', self._responses(subject_ids, keys, now, purposes, start)),
            (b'],"consents":[', self._consents(subject_ids, now, purposes, start)),
        ]
        for opening, pages in sections:
            yield opening
            yield from _joined(pages)
        yield b'],"purposes":' + _dumps(
            {row.pop("purpose"): row for row in self._purposes(purposes)}
        )
        yield b',"processing_history":['
        yield from _joined(self._history(subject_ids, now, start))
        yield b"]}"

    def zip_chunks(
        self, subject_ids: Sequence[str], keys: Mapping[str, OpenSubject]
    ) -> Iterator[bytes]:
        """Yield a zip of responses.csv, consents.csv, purposes.csv and processing_history.csv."""
        now = self.clock.now()
        purposes: set[str] = set()
        tables: list[tuple[str, Sequence[str], Callable[[], Iterator[list[Row_]]]]] = [
            (
                "responses.csv",
                RESPONSE_COLUMNS,
                lambda: self._responses(subject_ids, keys, now, purposes, None),
            ),
            (
                "consents.csv",
                CONSENT_COLUMNS,
                lambda: self._consents(subject_ids, now, purposes, None),
            ),
            ("purposes.csv", PURPOSE_COLUMNS, lambda: iter([self._purposes(purposes)])),
            (
                "processing_history.csv",
                HISTORY_COLUMNS,
                lambda: self._history(subject_ids, now, None),
            ),
        ]
        sink = _Sink()
        with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, columns, pages in tables:
                with (
                    archive.open(name, "w") as raw,
                    io.TextIOWrapper(raw, encoding="utf-8", newline="") as text,
                ):
                    # Dutch Excel: a BOM to read UTF-8, `;` as the list separator it expects.
                    text.write(CSV_BOM)
                    writer = csv.DictWriter(
                        text, fieldnames=columns, extrasaction="ignore", delimiter=CSV_DELIMITER
                    )
                    writer.writeheader()
                    for page in pages():
                        writer.writerows(_flat(row) for row in page)
                        text.flush()
                        yield sink.take()
        yield sink.take()

    def _pages(
        self,
        section: Section,
        subject_ids: Sequence[str],
        now: datetime,
        first: Sequence[ExportedRow] | None,
    ) -> Iterator[Sequence[ExportedRow]]:
        """Yield a section's pages, each read in its own short transaction after `first`.

        A short page is the last one, so no query is spent on an empty page.
        """
        key = "seq" if section == "history" else "id"
        page = first
        if page is None:
            page = self._read_page(section, subject_ids, now, 0 if key == "seq" else "")
        while page:
            yield page
            if len(page) < PAGE_SIZE:
                return
            page = self._read_page(section, subject_ids, now, page[-1][key])

    def _read_page(
        self, section: Section, subject_ids: Sequence[str], now: datetime, after: str | int
    ) -> list[ExportedRow]:
        with self.stores.read() as unit:
            return unit.exports.page(section, subject_ids, now, after, PAGE_SIZE).rows()

    def _responses(
        self,
        subject_ids: Sequence[str],
        keys: Mapping[str, OpenSubject],
        now: datetime,
        purposes: set[str],
        start: ExportStart | None,
    ) -> Iterator[list[Row_]]:
        # Only subjects that still hold a key have anything readable to export.
        keyed = [sid for sid in subject_ids if sid in keys]
        if not keyed:
            return

        # One cipher per subject for the whole export, not one per field.
        ciphers = {sid: SubjectFields(keys[sid].dek, "response", sid) for sid in keyed}
        for page in self._pages("responses", keyed, now, start.responses if start else None):
            purposes.update(row["purpose"] for row in page)
            yield [_response(row, ciphers[row["subject_id"]]) for row in page]

    def _consents(
        self,
        subject_ids: Sequence[str],
        now: datetime,
        purposes: set[str],
        start: ExportStart | None,
    ) -> Iterator[list[Row_]]:
        for page in self._pages("consents", subject_ids, now, start.consents if start else None):
            purposes.update(row["purpose"] for row in page)
            yield [_consent(row) for row in page]

    def _purposes(self, used: set[str]) -> list[Row_]:
        rows: list[Row_] = []
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

    def _history(
        self, subject_ids: Sequence[str], now: datetime, start: ExportStart | None
    ) -> Iterator[list[Row_]]:
        first = start.history if start and start.history else None
        for page in self._pages("history", subject_ids, now, first):
            yield [_audit(entry) for entry in page]


def _joined(pages: Iterator[list[Row_]]) -> Iterator[bytes]:
    """Yield the rows of the pages as comma-separated JSON, one chunk per page."""
    first = True
    for page in pages:
        # One encoder call per page, its brackets cut: a third less than one per row.
        yield (b"" if first else b",") + _dumps(page)[1:-1]
        first = False


def _response(row: ExportedRow, cipher: SubjectFields) -> Row_:
    def opened(column: str) -> str | None:
        try:
            return cipher.decrypt(column, row["id"], row[column])
        except DecryptionFailed:
            return None

    respondent = {
        name: opened(f"{name}_ct")
        for name in ("email", "name", "customer_id")
        if row[f"{name}_ct"] is not None
    }
    answers = {m: row[m] for m in ("nps", "csat", "ces") if row[m] is not None}
    if row["comment_ct"] is not None:
        answers["comment"] = opened("comment_ct")
    return {
        "response_id": row["id"],
        "survey_id": row["survey_id"],
        "purpose": row["purpose"],
        "touchpoint": row["touchpoint"],
        "locale": row["locale"],
        "answers": answers,
        "respondent": respondent,
        "created_at": _iso(row["created_at"]),
        "expires_at": _iso(row["expires_at"]),
    }


def _consent(row: ExportedRow) -> Row_:
    return {
        "receipt_id": row["id"],
        "purpose": row["purpose"],
        "notice_version": row["notice_version"],
        "given_at": _iso(row["given_at"]),
        "recorded_at": _iso(row["recorded_at"]),
        "expires_at": _iso(row["expires_at"]),
        "withdrawn_at": _iso(row["withdrawn_at"]),
        "signature": row["receipt_signature"],
    }


def _audit(entry: ExportedRow) -> Row_:
    return {
        "seq": entry["seq"],
        "at": _iso(entry["at"]),
        "actor": entry["actor"],
        "action": entry["action"],
        "subject_ref": entry["subject_ref"],
        "request_id": entry["request_id"],
        "details": json.loads(entry["details"]),
        "hash": entry["hash"],
    }


def _flat(row: Row_) -> Row_:
    """Flatten nested answers, respondent and lists into CSV cells."""
    flat = {k: v for k, v in row.items() if k not in ("answers", "respondent")}
    flat.update(row.get("answers", {}))
    flat.update(row.get("respondent", {}))
    for key, value in flat.items():
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, dict | list):
            value = json.dumps(value, ensure_ascii=False, sort_keys=True)
        flat[key] = _inert_cell(value)
    return flat


def _inert_cell(value: object) -> object:
    """Keep a spreadsheet from running a text cell as a formula (CSV injection).

    A respondent wrote the comment: opened in Excel or LibreOffice, a cell starting
    with = + - @ (or a tab or carriage return before one) would run as a formula in
    the privacy officer's or the subject's spreadsheet. A leading apostrophe makes
    it text, as OWASP advises. The JSON export keeps every value exactly as given.
    """
    if isinstance(value, str) and value[:1] in _FORMULA_STARTS:
        return "'" + value
    return value
