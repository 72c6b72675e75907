"""Find the subjects an identifier belongs to, confirmed by decrypting their data."""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from feedbackvault.crypto.blind_index import IdentifierKind
from feedbackvault.crypto.errors import DecryptionFailed
from feedbackvault.crypto.fields import FieldContext, decrypt_field
from feedbackvault.services.subject_keys import OpenSubject, SubjectKeys
from feedbackvault.storage.units import DataUnit, Stores

# A few ciphertexts suffice: one that opens to the same digest confirms the match.
CONFIRM_SAMPLES = 3


class SubjectFinder:
    """Resolve identifier digests to confirmed, still-keyed subject ids."""

    def __init__(self, stores: Stores, subject_keys: SubjectKeys) -> None:
        self.stores = stores
        self.subject_keys = subject_keys

    def find(self, digests: Mapping[IdentifierKind, bytes]) -> list[str]:
        """Return the subjects the digests point at whose data confirms the match.

        A candidate is confirmed when one of its stored ciphertexts of the same
        identifier kind decrypts to a value with the same digest. A candidate
        holding no such ciphertext any more (all expired and swept) is matched
        on the keyed index alone: there is nothing of it left to contradict.
        Subjects whose key was shredded are never found.
        """
        candidates: list[tuple[str, IdentifierKind, bytes]] = []
        with self.stores.keys() as unit:
            for kind, digest in digests.items():
                candidates += [
                    (sid, kind, digest) for sid in self.subject_keys.find(unit, {kind: digest})
                ]
            opened = self.subject_keys.open_many(unit, [sid for sid, _, _ in candidates])
        confirmed: list[str] = []
        with self.stores.read() as data:
            for sid, kind, digest in candidates:
                subject = opened.get(sid)
                if subject is None or sid in confirmed:
                    continue
                if self._confirms(data, subject, kind, digest):
                    confirmed.append(sid)
        return confirmed

    def _confirms(
        self, unit: DataUnit, subject: OpenSubject, kind: IdentifierKind, digest: bytes
    ) -> bool:
        column = f"{kind}_ct"
        samples = unit.subject_data.sample_ciphertexts(subject.subject_id, column, CONFIRM_SAMPLES)
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
