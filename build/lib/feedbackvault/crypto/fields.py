"""Encrypt single column values bound to the row and subject they belong to."""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from feedbackvault.crypto.errors import CryptoError, DecryptionFailed

FORMAT_VERSION = 1
DEK_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16

# Layout: version (1 byte) | DEK version (4 bytes, big-endian) | nonce | ciphertext and tag.
_HEADER = struct.Struct(">BI")
_LENGTH = struct.Struct(">I")
_MIN_LENGTH = _HEADER.size + NONCE_BYTES + TAG_BYTES
_MAX_DEK_VERSION = 2**32 - 1
_DOMAIN = b"feedbackvault/field/v1\x00"


@dataclass(frozen=True)
class FieldContext:
    """Name the place a field ciphertext belongs to, so it cannot be moved elsewhere."""

    table: str
    column: str
    row_id: str
    subject_id: str

    def associated_data(self) -> bytes:
        """Encode the context unambiguously for use as AES-GCM associated data."""
        parts = (self.table, self.column, self.row_id, self.subject_id)
        return _DOMAIN + b"".join(_length_prefixed(part) for part in parts)


def _length_prefixed(part: str) -> bytes:
    # Length prefixes stop ("ab", "c") and ("a", "bc") from producing the same bytes.
    encoded = part.encode("utf-8")
    return _LENGTH.pack(len(encoded)) + encoded


def _check_dek(dek: bytes) -> None:
    """Reject data keys that are not 256 bits."""
    if len(dek) != DEK_BYTES:
        raise CryptoError(f"a data key must be exactly {DEK_BYTES} bytes")


def encrypt_field(dek: bytes, dek_version: int, plaintext: str, context: FieldContext) -> bytes:
    """Encrypt plaintext under dek for the given context."""
    _check_dek(dek)
    if not 0 <= dek_version <= _MAX_DEK_VERSION:
        raise ValueError("dek_version must fit in an unsigned 32-bit integer")
    header = _HEADER.pack(FORMAT_VERSION, dek_version)
    nonce = os.urandom(NONCE_BYTES)
    # The header is authenticated too, so its DEK version cannot be rewritten.
    aad = header + context.associated_data()
    return header + nonce + AESGCM(dek).encrypt(nonce, plaintext.encode("utf-8"), aad)


def _parse_header(ciphertext: bytes) -> tuple[bytes, int]:
    """Split off and check the header, returning it with the DEK version."""
    if len(ciphertext) < _MIN_LENGTH:
        raise DecryptionFailed("field ciphertext is too short")
    header = ciphertext[: _HEADER.size]
    version, dek_version = _HEADER.unpack(header)
    if version != FORMAT_VERSION:
        raise DecryptionFailed(f"unsupported field ciphertext format version {version}")
    return header, dek_version


def field_dek_version(ciphertext: bytes) -> int:
    """Return the DEK version named in a field ciphertext's (not yet authenticated) header."""
    return _parse_header(ciphertext)[1]


def decrypt_field(dek: bytes, ciphertext: bytes, context: FieldContext) -> str:
    """Decrypt a field ciphertext, raising DecryptionFailed if it does not open here."""
    _check_dek(dek)
    header, _ = _parse_header(ciphertext)
    return _opened(AESGCM(dek), header, ciphertext, context.associated_data())


class SubjectFields:
    """Decrypt many fields of one subject in one table, as `decrypt_field` does each.

    An access export opens hundreds of fields per subject: the cipher and the fixed
    parts of the associated data (table, columns, subject) are made once here
    instead of once per field. Holds the data key only as long as it is referenced.
    """

    def __init__(self, dek: bytes, table: str, subject_id: str) -> None:
        _check_dek(dek)
        self._aead = AESGCM(dek)
        self._table = _DOMAIN + _length_prefixed(table)
        self._subject = _length_prefixed(subject_id)
        self._columns: dict[str, bytes] = {}

    def __repr__(self) -> str:
        return "SubjectFields(<key hidden>)"

    def decrypt(self, column: str, row_id: str, ciphertext: bytes) -> str:
        """Decrypt one field of the row, raising DecryptionFailed if it does not open here."""
        header, _ = _parse_header(ciphertext)
        prefixed = self._columns.get(column)
        if prefixed is None:
            prefixed = self._columns[column] = _length_prefixed(column)
        aad = self._table + prefixed + _length_prefixed(row_id) + self._subject
        return _opened(self._aead, header, ciphertext, aad)


def _opened(aead: AESGCM, header: bytes, ciphertext: bytes, context_data: bytes) -> str:
    """Open a ciphertext whose header was checked, under the context's associated data."""
    nonce = ciphertext[_HEADER.size : _HEADER.size + NONCE_BYTES]
    body = ciphertext[_HEADER.size + NONCE_BYTES :]
    try:
        plaintext = aead.decrypt(nonce, body, header + context_data)
    except InvalidTag:
        raise DecryptionFailed(
            "field ciphertext did not open: wrong data key or context, or it was altered"
        ) from None
    try:
        return plaintext.decode("utf-8")
    except UnicodeDecodeError:
        raise DecryptionFailed("field plaintext is not valid UTF-8") from None
