import base64
import stat
from datetime import UTC, datetime, timedelta, timezone

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from feedbackvault.crypto.env_keys import EnvKeyProvider
from feedbackvault.crypto.envelope import generate_dek, unwrap_dek, wrap_dek
from feedbackvault.crypto.errors import CryptoError, KeyNotFound, KeyProviderError
from feedbackvault.crypto.keys import (
    FileKeyProvider,
    KeyEncryptionKey,
    KeyProvider,
    generate_kek_id,
)

NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)  # after the keys `initialise` makes
KEK_MATERIAL = bytes(range(32))
BLIND_KEY = bytes(range(32, 64))
SIGNING_SEED = bytes(range(64, 96))


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def secrets_of(provider: KeyProvider) -> list[bytes]:
    seed = provider.signing_key().private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    keks = [provider.kek(kek_id).material for kek_id in provider.kek_ids()]
    return [*keks, provider.blind_index_key(), seed]


def assert_repr_hides(text: str, secrets: list[bytes]) -> None:
    for secret in secrets:
        assert secret.hex() not in text
        assert b64(secret) not in text
        assert repr(secret) not in text


@pytest.fixture
def key_dir(tmp_path):
    return tmp_path / "instance" / "keys"


@pytest.fixture
def provider(key_dir):
    return FileKeyProvider.initialise(key_dir)[0]


def env(**overrides: str) -> dict[str, str]:
    values = {
        "FEEDBACKVAULT_KEK": f"kek-one:{b64(KEK_MATERIAL)}",
        "FEEDBACKVAULT_BLIND_INDEX_KEY": b64(BLIND_KEY),
        "FEEDBACKVAULT_RECEIPT_SIGNING_KEY": b64(SIGNING_SEED),
    }
    values.update(overrides)
    return values


# KeyEncryptionKey and ids


def test_kek_repr_hides_material():
    kek = KeyEncryptionKey(kek_id="kek-1", material=KEK_MATERIAL)
    assert_repr_hides(repr(kek), [KEK_MATERIAL])
    assert repr(kek) == "KeyEncryptionKey(kek_id='kek-1', material=<redacted>)"


@pytest.mark.parametrize("length", [0, 16, 31, 33])
def test_kek_of_wrong_length_is_refused(length):
    with pytest.raises(CryptoError):
        KeyEncryptionKey(kek_id="kek-1", material=bytes(length))


@pytest.mark.parametrize("kek_id", ["", "../etc/passwd", "a:b", "a,b", ".hidden"])
def test_kek_with_unsafe_id_is_refused(kek_id):
    with pytest.raises(CryptoError):
        KeyEncryptionKey(kek_id=kek_id, material=KEK_MATERIAL)


def test_kek_ids_sort_by_creation_time():
    start = datetime(2026, 1, 24, 18, 0, tzinfo=UTC)
    ids = [generate_kek_id(start + timedelta(microseconds=step * 997)) for step in range(50)]
    assert sorted(ids) == ids


def test_kek_id_is_stamped_in_utc():
    local = datetime(2026, 1, 24, 20, 0, tzinfo=timezone(timedelta(hours=2)))
    assert generate_kek_id(local).startswith("kek-20260124T180000000000Z-")


def test_kek_id_needs_an_aware_datetime():
    with pytest.raises(ValueError, match="timezone-aware"):
        generate_kek_id(datetime(2026, 1, 24))


# FileKeyProvider


def test_initialise_creates_directory_0700_and_key_files_0600(key_dir):
    _, created = FileKeyProvider.initialise(key_dir)
    assert created
    assert stat.S_IMODE(key_dir.stat().st_mode) == 0o700
    files = list(key_dir.iterdir())
    assert len(files) == 5
    assert all(stat.S_IMODE(path.stat().st_mode) == 0o600 for path in files)


def test_initialise_twice_creates_nothing_and_keeps_the_keys(key_dir):
    first, _ = FileKeyProvider.initialise(key_dir)
    second, created = FileKeyProvider.initialise(key_dir)
    assert not created
    assert secrets_of(second) == secrets_of(first)
    assert second.active_kek() == first.active_kek()


def test_initialise_recreates_only_a_missing_key(key_dir):
    first, _ = FileKeyProvider.initialise(key_dir)
    (key_dir / "blind-index.key").unlink()
    second, created = FileKeyProvider.initialise(key_dir)
    assert created
    assert second.active_kek() == first.active_kek()
    assert second.blind_index_key() != first.blind_index_key()


def test_initialise_leaves_no_temporary_files(key_dir):
    provider, _ = FileKeyProvider.initialise(key_dir)
    provider.create_kek(NOW)
    assert not [path for path in key_dir.iterdir() if path.name.startswith(".")]


def test_provider_reopens_the_same_keys(provider, key_dir):
    assert secrets_of(FileKeyProvider(key_dir)) == secrets_of(provider)


def test_file_provider_keys_have_the_right_sizes(provider):
    assert len(provider.active_kek().material) == 32
    assert len(provider.blind_index_key()) == 32
    assert provider.blind_index_key() != provider.active_kek().material


def test_missing_directory_tells_user_to_run_init(tmp_path):
    with pytest.raises(KeyProviderError, match="feedbackvault init"):
        FileKeyProvider(tmp_path / "nowhere")


def test_missing_key_file_tells_user_to_run_init(provider, key_dir):
    (key_dir / "receipt-signing.key").unlink()
    with pytest.raises(KeyProviderError, match="feedbackvault init"):
        FileKeyProvider(key_dir)


def test_corrupt_key_file_error_names_file_but_not_content(provider, key_dir):
    (key_dir / "blind-index.key").write_text("c2VjcmV0LXZhbHVlLXRoYXQtaXMtdG9vLXNob3J0\n")
    with pytest.raises(KeyProviderError, match=r"blind-index\.key") as caught:
        FileKeyProvider(key_dir)
    assert "c2VjcmV0" not in str(caught.value)


def test_create_kek_makes_new_active_kek_and_keeps_old_loadable(provider):
    old = provider.active_kek()
    new = provider.create_kek(NOW)
    assert provider.active_kek() == new
    assert new.kek_id != old.kek_id
    assert provider.kek(old.kek_id) == old
    assert provider.kek_ids() == [old.kek_id, new.kek_id]


def test_new_kek_file_is_0600(provider, key_dir):
    new = provider.create_kek(NOW)
    assert stat.S_IMODE((key_dir / f"{new.kek_id}.key").stat().st_mode) == 0o600


def test_rotation_is_seen_by_another_provider_on_the_same_directory(provider, key_dir):
    other = FileKeyProvider(key_dir)
    new = provider.create_kek(NOW)
    assert other.active_kek() == new


def test_active_kek_file_edited_in_place_is_seen_by_a_provider_that_read_it(provider, key_dir):
    other = FileKeyProvider(key_dir)
    old = other.active_kek()
    provider.create_kek(NOW)
    (key_dir / "active-kek").write_text(old.kek_id + "\n")  # an operator points back
    assert provider.active_kek() == old
    new_again = provider.create_kek(NOW)
    assert other.active_kek() == new_again


def test_rotation_retires_the_old_kek_and_keeps_it_loadable(provider):
    old = provider.active_kek()
    new = provider.create_kek(NOW)
    states = {v.kek_id: (v.state, v.retired_at) for v in provider.kek_versions()}
    assert states == {old.kek_id: ("retired", NOW), new.kek_id: ("active", None)}
    assert provider.kek(old.kek_id) == old


def test_destroyed_kek_can_no_longer_be_loaded_and_is_listed_with_its_date(provider, key_dir):
    old = provider.active_kek()
    provider.create_kek(NOW)
    later = NOW + timedelta(days=31)
    provider.destroy_kek(old.kek_id, later)
    with pytest.raises(KeyNotFound):
        provider.kek(old.kek_id)
    assert not (key_dir / f"{old.kek_id}.key").exists()
    [destroyed] = [v for v in provider.kek_versions() if v.kek_id == old.kek_id]
    assert (destroyed.state, destroyed.retired_at, destroyed.destroyed_at) == (
        "destroyed",
        NOW,
        later,
    )


def test_data_key_wrapped_under_destroyed_kek_is_lost(provider):
    old = provider.active_kek()
    wrapped = wrap_dek(old, generate_dek(), subject_id="s-1", dek_version=1)
    provider.create_kek(NOW)
    provider.destroy_kek(old.kek_id, NOW)
    with pytest.raises(KeyNotFound):
        unwrap_dek(provider.kek(old.kek_id), wrapped, subject_id="s-1", dek_version=1)


def test_destroying_the_active_kek_is_refused(provider):
    active = provider.active_kek()
    with pytest.raises(KeyProviderError, match="active"):
        provider.destroy_kek(active.kek_id, NOW)
    assert provider.kek(active.kek_id) == active


def test_destroying_an_unknown_kek_raises_key_not_found(provider):
    with pytest.raises(KeyNotFound):
        provider.destroy_kek("kek-20000101T000000000000Z-00000000", NOW)


def test_anchor_key_is_its_own_key(provider, key_dir):
    raw = Encoding.Raw, PrivateFormat.Raw, NoEncryption()
    anchor = provider.anchor_signing_key().private_bytes(*raw)
    assert anchor != provider.signing_key().private_bytes(*raw)
    assert stat.S_IMODE((key_dir / "audit-anchor.key").stat().st_mode) == 0o600


@pytest.mark.parametrize("kek_id", ["../active-kek", "blind-index", "kek-../../x", "kek-missing"])
def test_unknown_or_unsafe_kek_id_raises_key_not_found(provider, kek_id):
    with pytest.raises(KeyNotFound):
        provider.kek(kek_id)


def test_file_provider_satisfies_the_protocol(provider):
    assert isinstance(provider, KeyProvider)


def test_file_provider_repr_hides_keys(provider, key_dir):
    provider.create_kek(NOW)
    text = repr(provider)
    assert_repr_hides(text, secrets_of(provider))
    assert str(key_dir) in text


# EnvKeyProvider


def test_env_provider_parses_keys():
    provider = EnvKeyProvider(env())
    assert provider.active_kek() == KeyEncryptionKey(kek_id="kek-one", material=KEK_MATERIAL)
    assert provider.blind_index_key() == BLIND_KEY
    seed = provider.signing_key().private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    assert seed == SIGNING_SEED


def test_env_provider_first_kek_is_active_and_all_are_loadable():
    other = bytes(32)
    provider = EnvKeyProvider(
        env(FEEDBACKVAULT_KEK=f"kek-new:{b64(other)}, kek-old:{b64(KEK_MATERIAL)}")
    )
    assert provider.active_kek().kek_id == "kek-new"
    assert provider.kek("kek-old").material == KEK_MATERIAL
    assert provider.kek_ids() == ["kek-new", "kek-old"]


def test_env_provider_unknown_kek_raises_key_not_found():
    with pytest.raises(KeyNotFound, match="kek-gone"):
        EnvKeyProvider(env()).kek("kek-gone")


@pytest.mark.parametrize(
    "variable",
    ["FEEDBACKVAULT_KEK", "FEEDBACKVAULT_BLIND_INDEX_KEY", "FEEDBACKVAULT_RECEIPT_SIGNING_KEY"],
)
def test_env_provider_missing_variable_is_named(variable):
    values = env()
    del values[variable]
    with pytest.raises(KeyProviderError, match=variable):
        EnvKeyProvider(values)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("FEEDBACKVAULT_KEK", b64(KEK_MATERIAL)),
        ("FEEDBACKVAULT_KEK", f"kek-one:{b64(KEK_MATERIAL[:16])}"),
        ("FEEDBACKVAULT_KEK", f"kek-one:{b64(KEK_MATERIAL)},{b64(BLIND_KEY)}"),
        ("FEEDBACKVAULT_KEK", f"bad id:{b64(KEK_MATERIAL)}"),
        ("FEEDBACKVAULT_BLIND_INDEX_KEY", b64(BLIND_KEY[:31])),
        ("FEEDBACKVAULT_BLIND_INDEX_KEY", "!!" + b64(BLIND_KEY)),
        ("FEEDBACKVAULT_RECEIPT_SIGNING_KEY", b64(SIGNING_SEED) + "AAAA"),
    ],
)
def test_env_provider_bad_value_names_variable_but_not_value(variable, value):
    with pytest.raises(KeyProviderError, match=variable) as caught:
        EnvKeyProvider(env(**{variable: value}))
    message = str(caught.value)
    assert value not in message
    assert_repr_hides(message, [KEK_MATERIAL, BLIND_KEY, SIGNING_SEED])


def test_env_provider_refuses_duplicate_ids():
    value = f"kek-one:{b64(KEK_MATERIAL)},kek-one:{b64(BLIND_KEY)}"
    with pytest.raises(KeyProviderError, match="more than once"):
        EnvKeyProvider(env(FEEDBACKVAULT_KEK=value))


def test_env_provider_cannot_create_a_kek():
    with pytest.raises(KeyProviderError, match="read-only"):
        EnvKeyProvider(env()).create_kek(NOW)


def test_env_provider_cannot_destroy_a_kek_and_says_what_to_remove():
    with pytest.raises(KeyProviderError, match="remove its entry from FEEDBACKVAULT_KEK"):
        EnvKeyProvider(env()).destroy_kek("kek-one", NOW)


def test_env_provider_lists_retired_keks_after_the_active_one_with_their_dates():
    value = (
        f"kek-new:{b64(bytes(32))}@2026-12-01T00:00:00Z,"
        f"kek-old:{b64(KEK_MATERIAL)}@2026-11-30T00:00:00+00:00,kek-older:{b64(BLIND_KEY)}"
    )
    versions = EnvKeyProvider(env(FEEDBACKVAULT_KEK=value)).kek_versions()
    assert [(v.kek_id, v.state, v.created_at, v.retired_at) for v in versions] == [
        ("kek-new", "active", datetime(2026, 12, 1, tzinfo=UTC), None),
        ("kek-old", "retired", None, datetime(2026, 11, 30, tzinfo=UTC)),
        ("kek-older", "retired", None, None),
    ]


def test_env_provider_refuses_a_date_without_offset():
    value = f"kek-one:{b64(KEK_MATERIAL)}@2026-12-01T00:00:00"
    with pytest.raises(KeyProviderError, match="entry 1"):
        EnvKeyProvider(env(FEEDBACKVAULT_KEK=value))


def test_env_provider_satisfies_the_protocol():
    assert isinstance(EnvKeyProvider(env()), KeyProvider)


def test_env_provider_repr_hides_keys():
    provider = EnvKeyProvider(env())
    assert_repr_hides(repr(provider), [KEK_MATERIAL, BLIND_KEY, SIGNING_SEED])
