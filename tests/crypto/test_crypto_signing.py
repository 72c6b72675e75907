import base64

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from feedbackvault.crypto.signing import ReceiptSigner, canonical_json, verify_receipt

PAYLOAD = {"subject": "s-1", "purpose": "nps-survey", "notice": "v3", "given_at": "2026-01-24"}


@pytest.fixture
def private_key():
    return Ed25519PrivateKey.from_private_bytes(bytes(range(32)))


@pytest.fixture
def signer(private_key):
    return ReceiptSigner(private_key)


def test_signature_verifies_with_only_cryptography_and_the_published_key(signer):
    signature = base64.b64decode(signer.sign(PAYLOAD))
    public_key = Ed25519PublicKey.from_public_bytes(base64.b64decode(signer.public_key_b64()))
    message = b'{"given_at":"2026-01-24","notice":"v3","purpose":"nps-survey","subject":"s-1"}'
    public_key.verify(signature, message)


def test_signature_verifies_with_verify_receipt(signer):
    assert verify_receipt(signer.public_key_b64(), PAYLOAD, signer.sign(PAYLOAD))


def test_signature_is_padded_standard_base64_of_64_bytes(signer):
    encoded = signer.sign(PAYLOAD)
    assert len(base64.b64decode(encoded, validate=True)) == 64


def test_public_key_is_base64_of_32_raw_bytes(signer):
    assert len(base64.b64decode(signer.public_key_b64(), validate=True)) == 32


def test_algorithm_is_ed25519(signer):
    assert signer.algorithm == "Ed25519"


def test_tampered_payload_does_not_verify(signer):
    signature = signer.sign(PAYLOAD)
    assert not verify_receipt(signer.public_key_b64(), {**PAYLOAD, "notice": "v4"}, signature)


def test_tampered_signature_does_not_verify(signer):
    raw = bytearray(base64.b64decode(signer.sign(PAYLOAD)))
    raw[0] ^= 1
    tampered = base64.b64encode(bytes(raw)).decode()
    assert not verify_receipt(signer.public_key_b64(), PAYLOAD, tampered)


def test_tampered_payload_fails_independent_verification(signer):
    signature = base64.b64decode(signer.sign(PAYLOAD))
    public_key = Ed25519PublicKey.from_public_bytes(base64.b64decode(signer.public_key_b64()))
    with pytest.raises(InvalidSignature):
        public_key.verify(signature, canonical_json({**PAYLOAD, "subject": "s-2"}))


def test_another_public_key_does_not_verify(signer):
    other = ReceiptSigner(Ed25519PrivateKey.generate())
    assert not verify_receipt(other.public_key_b64(), PAYLOAD, signer.sign(PAYLOAD))


@pytest.mark.parametrize(
    ("public_key", "signature"),
    [
        ("not base64!", "AAAA"),
        ("AAAA", "AAAA"),
        ("", ""),
        (None, None),
        (base64.b64encode(bytes(32)).decode(), "%%%"),
    ],
)
def test_malformed_input_returns_false_without_raising(public_key, signature):
    assert verify_receipt(public_key, PAYLOAD, signature) is False


def test_unserialisable_payload_returns_false(signer):
    assert verify_receipt(signer.public_key_b64(), {"x": object()}, signer.sign(PAYLOAD)) is False


def test_canonical_json_sorts_keys_and_keeps_non_ascii():
    assert canonical_json({"b": "Zoë", "a": [1, {"d": "日本", "c": None}]}) == (
        '{"a":[1,{"c":null,"d":"日本"}],"b":"Zoë"}'.encode()
    )


def test_canonical_json_refuses_nan():
    with pytest.raises(ValueError, match="JSON"):
        canonical_json({"score": float("nan")})


def test_key_order_does_not_change_the_signature(signer):
    reordered = dict(reversed(list(PAYLOAD.items())))
    assert verify_receipt(signer.public_key_b64(), reordered, signer.sign(PAYLOAD))


def test_repr_hides_the_private_key(signer, private_key):
    seed = private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    text = repr(signer)
    assert seed.hex() not in text
    assert base64.b64encode(seed).decode() not in text
