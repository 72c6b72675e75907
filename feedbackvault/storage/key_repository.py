"""Store wrapped data keys and blind-index digests in the key store."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.orm import Session

from feedbackvault.storage.database import insert_ignoring_conflicts
from feedbackvault.storage.keystore_models import SubjectKey, SubjectLookup

# Keys rewrapped per round trip during rotation.
REWRAP_BATCH = 1_000


class KeyRepository:
    """Subject keys and lookups inside one key-store transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def find_subject(self, kind: str, version: int, digest: bytes) -> str | None:
        """Return the subject an identifier digest points at."""
        return self.session.scalar(
            select(SubjectLookup.subject_id).where(
                SubjectLookup.kind == kind,
                SubjectLookup.version == version,
                SubjectLookup.digest == digest,
            )
        )

    def lookups_of(self, subject_id: str) -> list[SubjectLookup]:
        """List the index entries that point at a subject."""
        return list(
            self.session.scalars(
                select(SubjectLookup).where(SubjectLookup.subject_id == subject_id)
            )
        )

    def find_subjects(self, version: int, digests: Mapping[Any, bytes]) -> dict[str, str]:
        """Return, per identifier kind, the subject its digest points at (one query)."""
        if not digests:
            return {}
        matches = or_(
            *(
                and_(SubjectLookup.kind == kind, SubjectLookup.digest == digest)
                for kind, digest in digests.items()
            )
        )
        rows = self.session.execute(
            select(SubjectLookup.kind, SubjectLookup.subject_id).where(
                SubjectLookup.version == version, matches
            )
        )
        return {str(kind): str(subject_id) for kind, subject_id in rows}

    def add_lookup(self, lookup: SubjectLookup) -> bool:
        """Insert one index entry; return False when the digest is already taken."""
        values = {
            "kind": lookup.kind,
            "version": lookup.version,
            "digest": lookup.digest,
            "subject_id": lookup.subject_id,
        }
        # Insert-or-ignore in one round trip; a race loser sees rowcount 0.
        result = self.session.execute(
            insert_ignoring_conflicts(self.session, SubjectLookup, values)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def remove_lookups(
        self, version: int, subject_id: str, entries: Iterable[tuple[str, bytes]]
    ) -> None:
        """Delete the named index entries of one subject."""
        for kind, digest in entries:
            self.session.execute(
                delete(SubjectLookup).where(
                    SubjectLookup.kind == kind,
                    SubjectLookup.version == version,
                    SubjectLookup.digest == digest,
                    SubjectLookup.subject_id == subject_id,
                )
            )

    def add_key(self, key: SubjectKey) -> None:
        """Insert a subject's wrapped data key."""
        self.session.add(key)

    def key_of(self, subject_id: str) -> SubjectKey | None:
        """Return the newest wrapped data key of a subject."""
        return self.session.scalars(
            select(SubjectKey)
            .where(SubjectKey.subject_id == subject_id)
            .order_by(SubjectKey.dek_version.desc())
        ).first()

    def keys_of(self, subject_ids: Iterable[str]) -> dict[str, SubjectKey]:
        """Return the newest wrapped key of each subject named."""
        found: dict[str, SubjectKey] = {}
        rows = self.session.scalars(
            select(SubjectKey)
            .where(SubjectKey.subject_id.in_(list(subject_ids)))
            .order_by(SubjectKey.dek_version)
        )
        for row in rows:
            found[row.subject_id] = row
        return found

    def destroy(self, subject_id: str) -> tuple[int, int]:
        """Delete a subject's keys and index entries; return how many of each."""
        keys = self.session.execute(delete(SubjectKey).where(SubjectKey.subject_id == subject_id))
        lookups = self.session.execute(
            delete(SubjectLookup).where(SubjectLookup.subject_id == subject_id)
        )
        return int(keys.rowcount), int(lookups.rowcount)  # type: ignore[attr-defined]

    def batches_under_other_keks(self, kek_id: str) -> Iterator[list[SubjectKey]]:
        """Yield batches of keys not yet wrapped under `kek_id`."""
        while True:
            batch = list(
                self.session.scalars(
                    select(SubjectKey)
                    .where(SubjectKey.kek_id != kek_id)
                    .order_by(SubjectKey.subject_id, SubjectKey.dek_version)
                    .limit(REWRAP_BATCH)
                )
            )
            if not batch:
                return
            yield batch

    def rewrap(self, key: SubjectKey, kek_id: str, wrapped: bytes) -> None:
        """Store a key rewrapped under another KEK."""
        self.session.execute(
            update(SubjectKey)
            .where(
                SubjectKey.subject_id == key.subject_id, SubjectKey.dek_version == key.dek_version
            )
            .values(kek_id=kek_id, wrapped_dek=wrapped)
        )

    def kek_ids_in_use(self) -> set[str]:
        """Name every KEK that still wraps at least one data key."""
        return set(self.session.scalars(select(SubjectKey.kek_id).distinct()))
