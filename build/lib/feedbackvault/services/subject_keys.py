"""Find, create, open and shred the per-subject data keys."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from feedbackvault.crypto.blind_index import BlindIndex, IdentifierKind
from feedbackvault.crypto.envelope import generate_dek, unwrap_dek, wrap_dek
from feedbackvault.crypto.keys import KeyProvider
from feedbackvault.domain.clock import Clock
from feedbackvault.domain.ids import new_id
from feedbackvault.storage.key_repository import WrappedKey
from feedbackvault.storage.keystore_models import SubjectKey
from feedbackvault.storage.units import KeyUnit, Stores, SubmissionKeyUnit

IDENTIFIER_KINDS: tuple[IdentifierKind, ...] = ("email", "customer_id")
# Every subject starts on data-key version 1; a re-key would add version 2.
FIRST_DEK_VERSION = 1
# A key-store unit of either kind: a session's, or a submission's on the driver's cursor.
AnyKeyUnit = KeyUnit | SubmissionKeyUnit


class IdentifierRace(Exception):
    """Another transaction indexed the same identifier first; retry the lookup."""


@dataclass(frozen=True)
class OpenSubject:
    """A subject whose data key is unwrapped for the length of one use case."""

    subject_id: str
    dek_version: int
    dek: bytes = field(repr=False)
    created: bool = False
    # Index entries this use case added, so a failed write can take them back.
    indexed: tuple[tuple[IdentifierKind, bytes], ...] = field(default=(), repr=False)


class SubjectKeys:
    """The key-store side of a subject: blind index lookups and wrapped data keys."""

    def __init__(self, provider: KeyProvider, index: BlindIndex, clock: Clock) -> None:
        self.provider = provider
        self.index = index
        self.clock = clock

    def digests(self, identifiers: Mapping[str, str]) -> dict[IdentifierKind, bytes]:
        """Compute the blind-index digest of each identifier given."""
        return {
            kind: self.index.digest(kind, identifiers[kind])
            for kind in IDENTIFIER_KINDS
            if identifiers.get(kind)
        }

    def owners(
        self, unit: AnyKeyUnit, digests: Mapping[IdentifierKind, bytes]
    ) -> dict[IdentifierKind, str]:
        """Return, per identifier kind given, the subject it is indexed to (one query)."""
        found = unit.keys.find_subjects(self.index.version, digests)
        return {kind: found[kind] for kind in IDENTIFIER_KINDS if kind in found}

    def owners_and_keys(
        self,
        unit: SubmissionKeyUnit,
        digests: Mapping[IdentifierKind, bytes],
        also: Collection[str] = (),
    ) -> tuple[dict[IdentifierKind, str], dict[str, list[WrappedKey]]]:
        """Return whom each digest is indexed to, and the key versions of them and `also`."""
        found, held = unit.keys.owners_and_keys(self.index.version, digests, also)
        return {kind: found[kind] for kind in IDENTIFIER_KINDS if kind in found}, held

    def resolve(self, stores: Stores, identifiers: Mapping[str, str]) -> OpenSubject:
        """Open the subject these identifiers belong to, creating it when none does.

        A returning respondent (same email or customer id) gets the same subject
        and data key. Identifiers not indexed yet are added to the subject found;
        one already pointing at another subject is left as it is. The key store
        commits before the caller writes any ciphertext: a crash in between leaves
        an unused key, never unreadable data.

        Most submissions are a new respondent or one whose identifiers are all known,
        so the key is made first and offered in one claim (`KeyRows.claim`, a single
        round trip on PostgreSQL): it is stored with the index entries when nobody owns
        them, and unused otherwise. The rare rest (some identifiers known, a known one
        without a key) takes one ordinary key-store transaction.
        """
        digests = self.digests(identifiers)
        fresh, key = self.new_key(new_id(self.clock.now()), FIRST_DEK_VERSION)
        with stores.key_claims() as unit:
            claim = unit.keys.claim(self.index.version, digests, key)
        if not claim.owners:
            if len(claim.indexed) == len(digests):
                return replace(fresh, created=True, indexed=tuple(digests.items()))
            # A concurrent claim indexed one of these first: take back what this one did.
            taken_back = [(kind, d) for kind, d in digests.items() if kind in claim.indexed]
            with stores.keys() as keys_unit:
                keys_unit.keys.remove_lookups(self.index.version, fresh.subject_id, taken_back)
            raise IdentifierRace
        owner = next(claim.owners[kind] for kind in IDENTIFIER_KINDS if kind in claim.owners)
        if len(claim.owners) == len(digests) and owner in claim.keys:
            return self.unwrap(claim.keys[owner])
        return self._resolve_in_transaction(stores, digests)

    def _resolve_in_transaction(
        self, stores: Stores, digests: Mapping[IdentifierKind, bytes]
    ) -> OpenSubject:
        # Pipelined whole (PostgreSQL): the new key goes out with its index entries.
        with stores.pipelined_keys() as unit:
            owners = self.owners(unit, digests)
            subject = self.open(unit, next(iter(owners.values()))) if owners else None
            missing = {kind: d for kind, d in digests.items() if kind not in owners}
            if subject is not None and not missing:
                return subject
            subject = subject or self.create(unit)
            indexed = unit.keys.add_lookups(self.index.version, subject.subject_id, missing)
            if not indexed:
                # Another transaction indexed one of these identifiers since our read;
                # leaving the block with an exception rolls the whole unit back.
                raise IdentifierRace
        return replace(subject, indexed=tuple(missing.items()))

    def undo(self, stores: Stores, subject: OpenSubject) -> None:
        """Take back what `resolve` wrote when the data store then refused the write."""
        with stores.keys() as unit:
            if subject.created:
                self.shred(unit, subject.subject_id)
            else:
                unit.keys.remove_lookups(self.index.version, subject.subject_id, subject.indexed)

    def create(self, unit: AnyKeyUnit) -> OpenSubject:
        """Create a new pseudonymous subject with a fresh wrapped data key."""
        subject = self.add_key_version(unit, new_id(self.clock.now()), FIRST_DEK_VERSION)
        return replace(subject, created=True)

    def add_key_version(self, unit: AnyKeyUnit, subject_id: str, dek_version: int) -> OpenSubject:
        """Store a fresh data key for a subject under the active KEK and open it."""
        subject, key = self.new_key(subject_id, dek_version)
        unit.keys.add_key(key)
        return subject

    def new_key(self, subject_id: str, dek_version: int) -> tuple[OpenSubject, dict[str, Any]]:
        """Make a fresh data key: opened, and wrapped under the active KEK as a key-store row."""
        dek, kek = generate_dek(), self.provider.active_kek()
        wrapped = wrap_dek(kek, dek, subject_id=subject_id, dek_version=dek_version)
        key = {
            "subject_id": subject_id,
            "dek_version": dek_version,
            "kek_id": kek.kek_id,
            "wrapped_dek": wrapped,
            "created_at": self.clock.now(),
        }
        return OpenSubject(subject_id, dek_version, dek), key

    def open(self, unit: AnyKeyUnit, subject_id: str) -> OpenSubject | None:
        """Unwrap a subject's newest data key, or None when it was shredded."""
        key = unit.keys.key_of(subject_id)
        if key is None:
            return None
        return self.unwrap(key)

    def open_many(self, unit: KeyUnit, subject_ids: list[str]) -> dict[str, OpenSubject]:
        """Unwrap the data keys of several subjects in one query."""
        return {sid: self.unwrap(key) for sid, key in unit.keys.keys_of(subject_ids).items()}

    def shred(self, unit: KeyUnit, subject_id: str) -> tuple[int, int]:
        """Destroy a subject's data keys and index entries; return how many of each."""
        return unit.shred.destroy([subject_id])

    def unwrap(self, key: SubjectKey | WrappedKey) -> OpenSubject:
        """Open one stored data key with the KEK that wraps it."""
        kek = self.provider.kek(key.kek_id)
        dek = unwrap_dek(
            kek, key.wrapped_dek, subject_id=key.subject_id, dek_version=key.dek_version
        )
        return OpenSubject(key.subject_id, key.dek_version, dek)
