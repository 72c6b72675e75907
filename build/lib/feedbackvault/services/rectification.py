"""Correct a subject's personal fields (GDPR Art. 16) so the old values cannot be read again."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from feedbackvault.crypto.fields import FieldContext, decrypt_field, field_dek_version
from feedbackvault.domain.clock import Clock
from feedbackvault.domain.errors import Conflict
from feedbackvault.services.collection import RESPONDENT_COLUMNS, seal
from feedbackvault.services.privacy_requests import close, lock_verified
from feedbackvault.services.subject_keys import OpenSubject, SubjectKeys
from feedbackvault.storage.units import Stores

# Responses re-encrypted per query, so a subject with many responses stays flat in memory.
PAGE_SIZE = 500


class RectificationService:
    """Re-encrypt a subject's data with corrected values under a fresh key; retire the old key."""

    def __init__(self, stores: Stores, subject_keys: SubjectKeys, clock: Clock) -> None:
        self.stores = stores
        self.subject_keys = subject_keys
        self.clock = clock

    def rectify(
        self, request_id: str, subject_ids: Sequence[str], corrected: Mapping[str, str], actor: str
    ) -> dict[str, Any]:
        """Apply corrected respondent fields to every response of the subjects.

        Only fields a response already holds are overwritten (no new personal
        data is added). Every ciphertext of the subject is re-encrypted under a
        new data-key version and the old version is destroyed, so the old values
        cannot be read from a backup, a WAL or a dead row version either. The
        blind index is pointed at the corrected email / customer id.
        """
        now = self.clock.now().replace(microsecond=0)
        old_keys, new_keys = self._new_key_versions(subject_ids, corrected)
        changed = 0
        with self.stores.data() as unit:
            row = lock_verified(unit, request_id)
            for subject_id, subject in new_keys.items():
                after = ""
                while page := unit.subject_data.held_page(subject_id, after, PAGE_SIZE):
                    for response_id, ciphertexts in page:
                        values: dict[str, bytes] = {}
                        for column, ciphertext in ciphertexts.items():
                            key = old_keys[subject_id][field_dek_version(ciphertext)]
                            context = FieldContext("response", column, response_id, subject_id)
                            value = decrypt_field(key, ciphertext, context)
                            name = column.removesuffix("_ct")
                            value = corrected.get(name, value)
                            values[column] = seal(subject, "response", column, response_id, value)
                        changed += any(c in ciphertexts for c in _columns(corrected))
                        unit.subject_data.overwrite_fields(response_id, values)
                    after = page[-1][0]
            details = {"responses_rectified": changed, "fields": sorted(corrected)}
            close(unit, row, at=now, actor=actor, subject_refs=subject_ids, details=details)
            row.result = json.dumps(details)
        self.retire_old_keys(list(new_keys))
        return details

    def retire_old_keys(self, subject_ids: Sequence[str]) -> int:
        """Destroy every data-key version but the newest of each subject; return how many."""
        retired = 0
        with self.stores.keys() as unit:
            for subject_id in subject_ids:
                versions = unit.key_erasures.keys_of_subject(subject_id)
                if versions:
                    newest = versions[-1].dek_version
                    retired += unit.key_erasures.retire_keys_before(subject_id, newest)
        return retired

    def _new_key_versions(
        self, subject_ids: Sequence[str], corrected: Mapping[str, str]
    ) -> tuple[dict[str, dict[int, bytes]], dict[str, OpenSubject]]:
        """Add a key version per subject and re-point the index, in one key-store transaction."""
        digests = self.subject_keys.digests(corrected)
        version = self.subject_keys.index.version
        old: dict[str, dict[int, bytes]] = {}
        new: dict[str, OpenSubject] = {}
        with self.stores.keys() as unit:
            for kind, digest in digests.items():
                owner = unit.keys.find_subject(kind, version, digest)
                if owner is not None and owner not in subject_ids:
                    raise Conflict(f"The corrected {kind} already identifies another subject.")
            for subject_id in subject_ids:
                held = unit.key_erasures.keys_of_subject(subject_id)
                if not held:
                    continue
                old[subject_id] = {
                    key.dek_version: self.subject_keys.unwrap(key).dek for key in held
                }
                new[subject_id] = self.subject_keys.add_key_version(
                    unit, subject_id, held[-1].dek_version + 1
                )
            for kind, digest in digests.items():
                # The index keeps one owner per digest: the first subject matched.
                for subject_id in new:
                    unit.key_erasures.replace_lookup(subject_id, kind, version, None)
                for subject_id in list(new)[:1]:
                    unit.key_erasures.replace_lookup(subject_id, kind, version, digest)
        return old, new


def _columns(corrected: Mapping[str, str]) -> set[str]:
    return {RESPONDENT_COLUMNS[name] for name in corrected if name in RESPONDENT_COLUMNS}
