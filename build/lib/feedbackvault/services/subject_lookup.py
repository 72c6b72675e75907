"""Find the subjects an identifier belongs to, confirmed by decrypting their data."""

from __future__ import annotations

import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from feedbackvault.crypto.blind_index import IdentifierKind
from feedbackvault.crypto.errors import DecryptionFailed
from feedbackvault.crypto.fields import FieldContext, decrypt_field
from feedbackvault.services.subject_keys import IDENTIFIER_KINDS, OpenSubject, SubjectKeys
from feedbackvault.storage.units import DataUnit, Stores

# A few ciphertexts suffice: one that opens to the same digest confirms the match.
CONFIRM_SAMPLES = 3

Candidate = tuple[str, IdentifierKind, bytes]


@dataclass(frozen=True)
class FoundSubjects:
    """The subjects a request is about, with the data keys they still hold."""

    ids: list[str]
    # The newest data key of each subject that still has one, unwrapped.
    keys: dict[str, OpenSubject] = field(repr=False)
    # How many data-key versions the subjects hold in all (what an erasure destroys).
    key_versions: int

    @property
    def keyed(self) -> list[str]:
        """Name the subjects that still hold a data key, in order."""
        return [sid for sid in self.ids if sid in self.keys]


class SubjectFinder:
    """Resolve identifier digests to confirmed, still-keyed subject ids."""

    def __init__(self, stores: Stores, subject_keys: SubjectKeys) -> None:
        self.stores = stores
        self.subject_keys = subject_keys

    def find(
        self,
        unit: DataUnit,
        digests: Mapping[IdentifierKind, bytes],
        earlier: Sequence[str] = (),
    ) -> FoundSubjects:
        """Return the subjects the digests point at whose data confirms the match.

        A candidate is confirmed when one of its stored ciphertexts of the same
        identifier kind decrypts to a value with the same digest. A candidate
        holding no such ciphertext any more (all expired and swept) is matched
        on the keyed index alone: there is nothing of it left to contradict.
        Subjects whose key was shredded are never found. `earlier` subjects
        (matched when a request came in) follow the confirmed ones whether or
        not they still hold a key. One key-store query (index entries and keys
        together) serves it all; the confirming reads run in the caller's data
        transaction, so a use case pays for no transaction of its own here.
        """
        with self.stores.key_reads() as keys:
            owners, held = self.subject_keys.owners_and_keys(keys, digests, earlier)
        candidates: list[Candidate] = [
            (owners[kind], kind, digests[kind]) for kind in IDENTIFIER_KINDS if kind in owners
        ]
        opened = {sid: self.subject_keys.unwrap(versions[-1]) for sid, versions in held.items()}
        confirmed: list[str] = []
        for sid, kind, digest in candidates:
            subject = opened.get(sid)
            if subject is None or sid in confirmed:
                continue
            if self._confirms(unit, subject, kind, digest):
                confirmed.append(sid)
        ids = confirmed + [sid for sid in dict.fromkeys(earlier) if sid not in confirmed]
        return FoundSubjects(
            ids=ids,
            keys={sid: opened[sid] for sid in ids if sid in opened},
            key_versions=sum(len(held.get(sid, ())) for sid in ids),
        )

    def _confirms(
        self, unit: DataUnit, subject: OpenSubject, kind: IdentifierKind, digest: bytes
    ) -> bool:
        column = f"{kind}_ct"
        samples = unit.samples.of(subject.subject_id, column, CONFIRM_SAMPLES)
        if not samples:
            return True
        for row_id, ciphertext in samples:
            context = FieldContext("response", column, row_id, subject.subject_id)
            try:
                value = decrypt_field(subject.dek, ciphertext, context)
            except DecryptionFailed:
                continue
            if hmac.compare_digest(self.subject_keys.index.digest(kind, value), digest):
                return True
        return False
