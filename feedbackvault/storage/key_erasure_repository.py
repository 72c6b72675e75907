"""Keep key-store tombstones and rewrite a subject's blind-index entries."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from feedbackvault.storage.keystore_models import KeyTombstone, SubjectKey, SubjectLookup


class KeyErasureRepository:
    """Key-store tombstones and lookup rewrites inside one key-store transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def count_keys(self, subject_ids: Collection[str]) -> int:
        """Count the data keys the subjects hold."""
        return int(
            self.session.scalar(
                select(func.count())
                .select_from(SubjectKey)
                .where(SubjectKey.subject_id.in_(list(subject_ids)))
            )
            or 0
        )

    def add_tombstone(self, subject_id: str, at: datetime) -> bool:
        """Record that a subject's keys were shredded; return False when it already was."""
        if self.session.get(KeyTombstone, subject_id) is not None:
            return False
        try:
            with self.session.begin_nested():
                self.session.add(KeyTombstone(subject_id=subject_id, erased_at=at))
        except IntegrityError:
            return False
        return True

    def tombstone_ids(self) -> list[str]:
        """List every shredded subject id."""
        return list(self.session.scalars(select(KeyTombstone.subject_id)))

    def keys_of_subject(self, subject_id: str) -> list[SubjectKey]:
        """Return every data-key version a subject holds, oldest first."""
        return list(
            self.session.scalars(
                select(SubjectKey)
                .where(SubjectKey.subject_id == subject_id)
                .order_by(SubjectKey.dek_version)
            )
        )

    def retire_keys_before(self, subject_id: str, dek_version: int) -> int:
        """Delete a subject's data keys older than `dek_version`; return how many."""
        result = self.session.execute(
            delete(SubjectKey).where(
                SubjectKey.subject_id == subject_id, SubjectKey.dek_version < dek_version
            )
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

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
