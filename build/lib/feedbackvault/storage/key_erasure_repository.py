"""Read subjects' key versions, keep key-store tombstones and rewrite blind-index entries."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from feedbackvault.storage.database import one_of
from feedbackvault.storage.keystore_models import (
    KEY_TOMBSTONE,
    SUBJECT_KEY,
    SubjectKey,
    SubjectLookup,
)


class KeyErasureRepository:
    """Key versions, tombstones and lookup rewrites inside one key-store transaction.

    Core statements: erasure and export run these on every request, and the rows are
    read once and dropped, so the ORM's identity map would be pure cost.
    """

    def __init__(self, session: Session) -> None:
        self.session = session

    def keys_of_subjects(self, subject_ids: Collection[str]) -> dict[str, list[SubjectKey]]:
        """Return every data-key version each subject holds, oldest first (one query)."""
        held: dict[str, list[SubjectKey]] = {}
        if not subject_ids:
            return held
        rows = (
            self.session.connection()
            .execute(
                select(SUBJECT_KEY)
                .where(one_of(SUBJECT_KEY.c.subject_id, subject_ids))
                .order_by(SUBJECT_KEY.c.subject_id, SUBJECT_KEY.c.dek_version)
            )
            .mappings()
        )
        for row in rows:
            # Transient objects: nothing here is written back through the session.
            held.setdefault(row["subject_id"], []).append(SubjectKey(**row))
        return held

    def tombstone_ids(self) -> list[str]:
        """List every shredded subject id."""
        return list(self.session.connection().scalars(select(KEY_TOMBSTONE.c.subject_id)))

    def keys_of_subject(self, subject_id: str) -> list[SubjectKey]:
        """Return every data-key version a subject holds, oldest first."""
        return self.keys_of_subjects([subject_id]).get(subject_id, [])

    def retire_keys_before(self, subject_id: str, dek_version: int) -> int:
        """Delete a subject's data keys older than `dek_version`; return how many."""
        result = self.session.connection().execute(
            delete(SUBJECT_KEY).where(
                SUBJECT_KEY.c.subject_id == subject_id,
                SUBJECT_KEY.c.dek_version < dek_version,
            )
        )
        return result.rowcount

    def replace_lookup(
        self, subject_id: str, kind: str, version: int, digest: bytes | None
    ) -> None:
        """Drop a subject's index entries of one kind and point `digest` at it instead."""
        self.session.execute(
            delete(SubjectLookup).where(
                SubjectLookup.subject_id == subject_id, SubjectLookup.kind == kind
            )
        )
        if digest is not None:
            self.session.add(
                SubjectLookup(kind=kind, version=version, digest=digest, subject_id=subject_id)
            )
            self.session.flush()
