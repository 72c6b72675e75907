import pytest

from feedbackvault.crypto.envelope import DEK_BYTES, generate_dek, unwrap_dek, wrap_dek
from feedbackvault.crypto.errors import DecryptionFailed
from feedbackvault.crypto.keys import KeyEncryptionKey

KEK = KeyEncryptionKey(kek_id="kek-a", material=b"\x01" * 32)
OTHER_KEK = KeyEncryptionKey(kek_id="kek-b", material=b"\x02" * 32)


def test_generated_dek_is_256_bits_and_random():
    assert len(generate_dek()) == DEK_BYTES
    assert generate_dek() != generate_dek()


def test_wrapped_dek_round_trips():
    dek = generate_dek()
    wrapped = wrap_dek(KEK, dek, subject_id="s-1", dek_version=1)
    assert unwrap_dek(KEK, wrapped, subject_id="s-1", dek_version=1) == dek


def test_wrapped_dek_is_nonce_then_ciphertext_and_tag():
    wrapped = wrap_dek(KEK, generate_dek(), subject_id="s-1", dek_version=1)
    assert len(wrapped) == 12 + DEK_BYTES + 16


def test_wrapped_dek_does_not_contain_the_dek():
    dek = generate_dek()
    assert dek not in wrap_dek(KEK, dek, subject_id="s-1", dek_version=1)


def test_wrapped_dek_fails_under_another_kek():
    wrapped = wrap_dek(KEK, generate_dek(), subject_id="s-1", dek_version=1)
    with pytest.raises(DecryptionFailed):
        unwrap_dek(OTHER_KEK, wrapped, subject_id="s-1", dek_version=1)


def test_wrapped_dek_fails_under_same_material_with_another_kek_id():
    wrapped = wrap_dek(KEK, generate_dek(), subject_id="s-1", dek_version=1)
    relabelled = KeyEncryptionKey(kek_id="kek-other", material=KEK.material)
    with pytest.raises(DecryptionFailed):
        unwrap_dek(relabelled, wrapped, subject_id="s-1", dek_version=1)


def test_wrapped_dek_fails_for_another_subject():
    wrapped = wrap_dek(KEK, generate_dek(), subject_id="s-1", dek_version=1)
    with pytest.raises(DecryptionFailed):
        unwrap_dek(KEK, wrapped, subject_id="s-2", dek_version=1)


def test_wrapped_dek_fails_for_another_dek_version():
    wrapped = wrap_dek(KEK, generate_dek(), subject_id="s-1", dek_version=1)
    with pytest.raises(DecryptionFailed):
        unwrap_dek(KEK, wrapped, subject_id="s-1", dek_version=2)


def test_any_single_bit_flip_in_wrapped_dek_fails():
    wrapped = wrap_dek(KEK, generate_dek(), subject_id="s-1", dek_version=1)
    for bit in range(len(wrapped) * 8):
        flipped = bytearray(wrapped)
        flipped[bit // 8] ^= 1 << (bit % 8)
        with pytest.raises(DecryptionFailed):
            unwrap_dek(KEK, bytes(flipped), subject_id="s-1", dek_version=1)


@pytest.mark.parametrize("length", [0, 11, 12, 59])
def test_truncated_wrapped_dek_fails(length):
    wrapped = wrap_dek(KEK, generate_dek(), subject_id="s-1", dek_version=1)
    with pytest.raises(DecryptionFailed):
        unwrap_dek(KEK, wrapped[:length], subject_id="s-1", dek_version=1)
