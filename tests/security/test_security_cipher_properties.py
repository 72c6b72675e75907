"""Field cipher properties: a ciphertext opens only in the very cell it was sealed for.

The example tests in tests/crypto move one field once; these draw arbitrary
contexts and swap whole ciphertexts between rows, columns and subjects.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from feedbackvault.crypto.errors import DecryptionFailed
from feedbackvault.crypto.fields import FieldContext, decrypt_field, encrypt_field

COLUMNS = ("email_ct", "name_ct", "customer_id_ct", "comment_ct")
ids = st.uuids().map(str)
deks = st.binary(min_size=32, max_size=32)
contexts = st.builds(
    FieldContext,
    table=st.just("response"),
    column=st.sampled_from(COLUMNS),
    row_id=ids,
    subject_id=ids,
)


@given(dek=deks, version=st.integers(0, 2**32 - 1), plaintext=st.text(), context=contexts)
def test_any_value_round_trips_in_its_own_cell(
    dek: bytes, version: int, plaintext: str, context: FieldContext
) -> None:
    assert decrypt_field(dek, encrypt_field(dek, version, plaintext, context), context) == plaintext


@given(dek=deks, plaintext=st.text(max_size=100), first=contexts, second=contexts)
def test_a_ciphertext_moved_to_any_other_cell_fails_to_open(
    dek: bytes, plaintext: str, first: FieldContext, second: FieldContext
) -> None:
    ciphertext = encrypt_field(dek, 1, plaintext, first)
    if second == first:
        assert decrypt_field(dek, ciphertext, second) == plaintext
    else:
        with pytest.raises(DecryptionFailed):
            decrypt_field(dek, ciphertext, second)


@given(dek=deks, values=st.tuples(st.text(), st.text()), context=contexts, other_row=ids)
def test_swapping_two_rows_ciphertexts_fails_both_ways(
    dek: bytes, values: tuple[str, str], context: FieldContext, other_row: str
) -> None:
    other = replace(context, row_id=other_row)
    if other == context:
        return
    sealed_here = encrypt_field(dek, 1, values[0], context)
    sealed_there = encrypt_field(dek, 1, values[1], other)
    for ciphertext, place in ((sealed_there, context), (sealed_here, other)):
        with pytest.raises(DecryptionFailed):
            decrypt_field(dek, ciphertext, place)


@given(dek=deks, values=st.tuples(st.text(), st.text()), context=contexts, data=st.data())
def test_swapping_two_columns_of_a_row_fails_both_ways(
    dek: bytes, values: tuple[str, str], context: FieldContext, data: st.DataObject
) -> None:
    column = data.draw(st.sampled_from([c for c in COLUMNS if c != context.column]))
    other = replace(context, column=column)
    first = encrypt_field(dek, 1, values[0], context)
    second = encrypt_field(dek, 1, values[1], other)
    for ciphertext, place in ((second, context), (first, other)):
        with pytest.raises(DecryptionFailed):
            decrypt_field(dek, ciphertext, place)


@given(own=deks, foreign=deks, plaintext=st.text(max_size=100), context=contexts, subject=ids)
def test_a_ciphertext_moved_to_another_subject_fails_under_either_key(
    own: bytes, foreign: bytes, plaintext: str, context: FieldContext, subject: str
) -> None:
    # Another subject has its own key; even with the original key the subject id binds.
    moved = replace(context, subject_id=subject)
    ciphertext = encrypt_field(own, 1, plaintext, context)
    if moved != context:
        with pytest.raises(DecryptionFailed):
            decrypt_field(own, ciphertext, moved)
    if foreign != own:
        with pytest.raises(DecryptionFailed):
            decrypt_field(foreign, ciphertext, moved)
