import base64

import pytest

from feedbackvault.crypto.blind_index import BlindIndex, normalise_identifier
from feedbackvault.crypto.errors import CryptoError

KEY = bytes(range(32))


@pytest.mark.parametrize(
    "variant",
    [
        "alice@example.com",
        "  Alice@Example.COM\t",
        "ALICE@EXAMPLE.COM",
        "\u00a0alice@example.com\u3000",
        "ａｌｉｃｅ@ｅｘａｍｐｌｅ.ｃｏｍ",  # noqa: RUF001 - fullwidth forms are the point
    ],
)
def test_email_variants_share_one_digest(variant):
    index = BlindIndex(KEY)
    assert index.digest("email", variant) == index.digest("email", "alice@example.com")


def test_email_casefolds_beyond_ascii():
    assert normalise_identifier("email", "STRASSE@example.de") == normalise_identifier(
        "email", "straße@example.de"
    )


def test_customer_id_is_trimmed_and_nfkc_normalised():
    assert normalise_identifier("customer_id", "  ＡＢ-１２ ") == "AB-12"  # noqa: RUF001


def test_customer_id_is_case_sensitive():
    index = BlindIndex(KEY)
    assert index.digest("customer_id", "AB-12") != index.digest("customer_id", "ab-12")


def test_different_keys_give_different_digests():
    other = BlindIndex(bytes(32))
    assert BlindIndex(KEY).digest("email", "a@b.c") != other.digest("email", "a@b.c")


def test_same_value_as_email_and_customer_id_gives_different_digests():
    index = BlindIndex(KEY)
    assert index.digest("email", "abc") != index.digest("customer_id", "abc")


def test_versions_give_different_digests():
    assert BlindIndex(KEY, 1).digest("email", "a@b.c") != BlindIndex(KEY, 2).digest(
        "email", "a@b.c"
    )


def test_digest_is_stable_and_32_bytes():
    digest = BlindIndex(KEY).digest("email", "a@b.c")
    assert digest == BlindIndex(KEY).digest("email", "a@b.c")
    assert len(digest) == 32


def test_version_is_exposed():
    assert BlindIndex(KEY, version=3).version == 3


def test_short_key_is_refused():
    with pytest.raises(CryptoError):
        BlindIndex(KEY[:16])


def test_empty_identifier_is_refused():
    with pytest.raises(ValueError, match="empty"):
        BlindIndex(KEY).digest("email", "   ")


def test_repr_hides_the_key():
    text = repr(BlindIndex(KEY))
    assert KEY.hex() not in text
    assert base64.b64encode(KEY).decode() not in text
    assert "redacted" in text
