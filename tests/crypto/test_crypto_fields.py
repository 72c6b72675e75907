from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from feedbackvault.crypto.envelope import generate_dek
from feedbackvault.crypto.errors import CryptoError, DecryptionFailed
from feedbackvault.crypto.fields import (
    FORMAT_VERSION,
    FieldContext,
    SubjectFields,
    decrypt_field,
    encrypt_field,
    field_dek_version,
)

DEK = bytes(range(32))
CONTEXT = FieldContext(table="responses", column="comment", row_id="r-1", subject_id="s-1")


def flip_bit(data: bytes, bit: int) -> bytes:
    flipped = bytearray(data)
    flipped[bit // 8] ^= 1 << (bit % 8)
    return bytes(flipped)


def test_field_round_trips():
    ciphertext = encrypt_field(DEK, 3, "Great service, thanks — Zoë", CONTEXT)
    assert decrypt_field(DEK, ciphertext, CONTEXT) == "Great service, thanks — Zoë"


def test_empty_field_round_trips():
    assert decrypt_field(DEK, encrypt_field(DEK, 1, "", CONTEXT), CONTEXT) == ""


def test_ciphertext_layout_starts_with_version_and_dek_version():
    ciphertext = encrypt_field(DEK, 0x01020304, "x", CONTEXT)
    assert ciphertext[:5] == bytes([FORMAT_VERSION, 1, 2, 3, 4])
    assert len(ciphertext) == 1 + 4 + 12 + 1 + 16


def test_field_dek_version_reads_header():
    assert field_dek_version(encrypt_field(DEK, 42, "x", CONTEXT)) == 42


def test_same_plaintext_encrypts_differently_each_time():
    assert encrypt_field(DEK, 1, "same", CONTEXT) != encrypt_field(DEK, 1, "same", CONTEXT)


def test_wrong_dek_fails_to_open():
    ciphertext = encrypt_field(DEK, 1, "secret", CONTEXT)
    with pytest.raises(DecryptionFailed):
        decrypt_field(generate_dek(), ciphertext, CONTEXT)


# The same ciphertext, looked for in each other place it could be moved to.
MOVED = pytest.mark.parametrize(
    "moved",
    [
        replace(CONTEXT, table="consents"),
        replace(CONTEXT, column="email"),
        replace(CONTEXT, row_id="r-2"),
        replace(CONTEXT, subject_id="s-2"),
    ],
    ids=["table", "column", "row", "subject"],
)


@MOVED
def test_field_moved_to_another_place_fails_to_open(moved):
    ciphertext = encrypt_field(DEK, 1, "secret", CONTEXT)
    with pytest.raises(DecryptionFailed):
        decrypt_field(DEK, ciphertext, moved)


def test_context_encoding_does_not_confuse_shifted_boundaries():
    first = FieldContext(table="ab", column="c", row_id="r", subject_id="s")
    second = FieldContext(table="a", column="bc", row_id="r", subject_id="s")
    assert first.associated_data() != second.associated_data()


def test_any_single_bit_flip_fails_to_open():
    ciphertext = encrypt_field(DEK, 7, "a short comment of ordinary length", CONTEXT)
    for bit in range(len(ciphertext) * 8):
        with pytest.raises(DecryptionFailed):
            decrypt_field(DEK, flip_bit(ciphertext, bit), CONTEXT)


def test_rewritten_dek_version_fails_to_open():
    ciphertext = encrypt_field(DEK, 1, "secret", CONTEXT)
    rewritten = ciphertext[:1] + (2).to_bytes(4, "big") + ciphertext[5:]
    with pytest.raises(DecryptionFailed):
        decrypt_field(DEK, rewritten, CONTEXT)


@pytest.mark.parametrize("length", [0, 1, 5, 17, 32])
def test_truncated_ciphertext_fails_to_open(length):
    ciphertext = encrypt_field(DEK, 1, "secret", CONTEXT)
    with pytest.raises(DecryptionFailed):
        decrypt_field(DEK, ciphertext[:length], CONTEXT)


def test_ciphertext_missing_its_last_byte_fails_to_open():
    ciphertext = encrypt_field(DEK, 1, "secret", CONTEXT)
    with pytest.raises(DecryptionFailed):
        decrypt_field(DEK, ciphertext[:-1], CONTEXT)


def test_unknown_format_version_fails_to_open():
    ciphertext = encrypt_field(DEK, 1, "secret", CONTEXT)
    with pytest.raises(DecryptionFailed, match="format version 2"):
        decrypt_field(DEK, b"\x02" + ciphertext[1:], CONTEXT)


def test_decryption_error_does_not_reveal_plaintext():
    ciphertext = encrypt_field(DEK, 1, "very private words", CONTEXT)
    with pytest.raises(DecryptionFailed) as caught:
        decrypt_field(generate_dek(), ciphertext, CONTEXT)
    assert "private" not in str(caught.value)


def test_short_dek_is_refused():
    with pytest.raises(CryptoError):
        encrypt_field(DEK[:16], 1, "secret", CONTEXT)


@given(plaintext=st.text(), dek_version=st.integers(min_value=0, max_value=2**32 - 1))
def test_arbitrary_text_round_trips(plaintext, dek_version):
    ciphertext = encrypt_field(DEK, dek_version, plaintext, CONTEXT)
    assert decrypt_field(DEK, ciphertext, CONTEXT) == plaintext
    assert field_dek_version(ciphertext) == dek_version


@given(plaintext=st.text(max_size=200), data=st.data())
def test_random_bit_flip_always_fails_to_open(plaintext, data):
    ciphertext = encrypt_field(DEK, 1, plaintext, CONTEXT)
    bit = data.draw(st.integers(min_value=0, max_value=len(ciphertext) * 8 - 1))
    with pytest.raises(DecryptionFailed):
        decrypt_field(DEK, flip_bit(ciphertext, bit), CONTEXT)


def subject_fields(context: FieldContext = CONTEXT, dek: bytes = DEK) -> SubjectFields:
    return SubjectFields(dek, context.table, context.subject_id)


@given(plaintext=st.text(), column=st.text(min_size=1), row_id=st.text(min_size=1))
def test_subject_fields_open_what_encrypt_field_sealed(plaintext, column, row_id):
    context = replace(CONTEXT, column=column, row_id=row_id)
    ciphertext = encrypt_field(DEK, 2, plaintext, context)
    cipher = subject_fields(context)
    # Twice: the column's cached prefix must serve the second field as it did the first.
    assert cipher.decrypt(column, row_id, ciphertext) == plaintext
    assert cipher.decrypt(column, row_id, ciphertext) == plaintext


@MOVED
def test_subject_fields_refuse_a_field_from_another_place(moved):
    ciphertext = encrypt_field(DEK, 1, "secret", CONTEXT)
    with pytest.raises(DecryptionFailed):
        subject_fields(moved).decrypt(moved.column, moved.row_id, ciphertext)


def test_subject_fields_refuse_another_subjects_key_and_a_short_key():
    ciphertext = encrypt_field(DEK, 1, "secret", CONTEXT)
    with pytest.raises(DecryptionFailed):
        subject_fields(dek=generate_dek()).decrypt(CONTEXT.column, CONTEXT.row_id, ciphertext)
    with pytest.raises(CryptoError):
        subject_fields(dek=DEK[:16])


def test_subject_fields_repr_hides_the_key():
    assert DEK.hex() not in repr(subject_fields())
    assert repr(DEK) not in repr(subject_fields())
