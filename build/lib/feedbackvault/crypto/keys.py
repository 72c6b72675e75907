"""Hold key-encryption, blind-index and receipt-signing keys behind one protocol."""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import re
import secrets
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol, runtime_checkable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from feedbackvault.crypto.errors import CryptoError, KeyNotFound, KeyProviderError

KEY_BYTES = 32

# Ids end up in file names, in the database and in the comma/colon separated
# FEEDBACKVAULT_KEK variable, so they are restricted to characters that are
# safe in all three.
_KEK_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")

REDACTED = "<redacted>"


@dataclass(frozen=True, repr=False)
class KeyEncryptionKey:
    """Pair a 256-bit key-encryption key with the id stored beside what it wraps."""

    kek_id: str
    material: bytes

    def __post_init__(self) -> None:
        """Reject ids that are unsafe to store and keys that are not 256 bits."""
        if not isinstance(self.kek_id, str) or not _KEK_ID_PATTERN.fullmatch(self.kek_id):
            raise CryptoError("kek_id must be 1-128 characters of letters, digits, '.', '_' or '-'")
        if not isinstance(self.material, bytes) or len(self.material) != KEY_BYTES:
            raise CryptoError(f"a key-encryption key must be exactly {KEY_BYTES} bytes")

    def __repr__(self) -> str:
        """Show the id and hide the key."""
        return f"KeyEncryptionKey(kek_id={self.kek_id!r}, material={REDACTED})"


@runtime_checkable
class KeyProvider(Protocol):
    """Supply the service's keys and manage the lifecycle of key-encryption keys."""

    def active_kek(self) -> KeyEncryptionKey:
        """Return the key-encryption key that wraps new data keys."""
        ...

    def kek(self, kek_id: str) -> KeyEncryptionKey:
        """Return the key-encryption key with this id or raise KeyNotFound."""
        ...

    def blind_index_key(self) -> bytes:
        """Return the 32-byte blind-index key, which is never a key-encryption key."""
        ...

    def signing_key(self) -> Ed25519PrivateKey:
        """Return the Ed25519 key that signs consent receipts."""
        ...

    def create_kek(self) -> KeyEncryptionKey:
        """Create a random key-encryption key, make it active and return it."""
        ...

    def retire_kek(self, kek_id: str) -> None:
        """Destroy a key-encryption key that is no longer active."""
        ...

    def kek_ids(self) -> list[str]:
        """Return the ids of every key-encryption key held."""
        ...


def generate_kek_id(now: datetime) -> str:
    """Build a key-encryption key id that sorts by creation time."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("generate_kek_id needs a timezone-aware datetime")
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    # The random suffix keeps ids unique when two processes rotate in the same microsecond.
    return f"kek-{stamp}-{secrets.token_hex(4)}"


def decode_key(text: str) -> bytes:
    """Decode a base64 key and insist that it is 32 bytes long."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("not valid base64") from None
    if len(raw) != KEY_BYTES:
        raise ValueError(f"not {KEY_BYTES} bytes")
    return raw


def _encode_key(raw: bytes) -> bytes:
    """Encode a key as one line of base64."""
    return base64.b64encode(raw) + b"\n"


def signing_key_from_seed(seed: bytes) -> Ed25519PrivateKey:
    """Build an Ed25519 private key from its 32-byte seed."""
    return Ed25519PrivateKey.from_private_bytes(seed)


_INIT_HINT = "run `feedbackvault init` to create local development keys"


class FileKeyProvider:
    """Keep keys as mode-0600 files in one directory, as created by `feedbackvault init`."""

    ACTIVE_KEK_FILE = "active-kek"
    BLIND_INDEX_FILE = "blind-index.key"
    SIGNING_FILE = "receipt-signing.key"
    KEK_SUFFIX = ".key"
    KEK_PREFIX = "kek-"

    def __init__(self, directory: Path) -> None:
        """Load the keys in directory, failing at once if any is missing."""
        self._directory = Path(directory)
        # The active KEK and the version of the active-kek file it was read from.
        self._active: tuple[tuple[int, int, int], KeyEncryptionKey] | None = None
        if not self._directory.is_dir():
            raise KeyProviderError(f"key directory {self._directory} does not exist; {_INIT_HINT}")
        self._blind_index_key = self._read_key_file(self.BLIND_INDEX_FILE)
        self._signing_key = signing_key_from_seed(self._read_key_file(self.SIGNING_FILE))
        # Load the active key now so a broken directory fails at start-up, not on first write.
        self.active_kek()

    def __repr__(self) -> str:
        """Show the directory and nothing read from it."""
        return f"FileKeyProvider(directory={str(self._directory)!r})"

    @classmethod
    def initialise(cls, directory: Path) -> tuple[FileKeyProvider, bool]:
        """Create the directory and any missing key, and report whether anything was made."""
        directory = Path(directory)
        created = False
        if not directory.exists():
            directory.mkdir(mode=0o700, parents=True)
            # mkdir's mode is filtered by the umask; set it explicitly.
            directory.chmod(0o700)
            created = True

        for name in (cls.BLIND_INDEX_FILE, cls.SIGNING_FILE):
            if not (directory / name).exists():
                created |= _write_new_file(directory, name, _encode_key(os.urandom(KEY_BYTES)))

        active_path = directory / cls.ACTIVE_KEK_FILE
        if not active_path.exists():
            existing = sorted(directory.glob(f"{cls.KEK_PREFIX}*{cls.KEK_SUFFIX}"))
            if existing:
                raise KeyProviderError(
                    f"{active_path} is missing but key-encryption keys exist in {directory}; "
                    f"write the id of the key in use to {active_path}"
                )
            kek_id = generate_kek_id(datetime.now(UTC))
            kek_name = f"{kek_id}{cls.KEK_SUFFIX}"
            _write_new_file(directory, kek_name, _encode_key(os.urandom(KEY_BYTES)))
            if _write_new_file(directory, cls.ACTIVE_KEK_FILE, kek_id.encode("ascii") + b"\n"):
                created = True
            else:
                # A concurrent init won the race and its key is the active one; ours was never used.
                _destroy_file(directory / kek_name)

        return cls(directory), created

    def active_kek(self) -> KeyEncryptionKey:
        """Return the key-encryption key named in the active-kek file.

        Every new data key asks for it, so the key is kept while the active-kek file
        is the same file (inode, size, modification time): one stat instead of reading
        two files (~3% of a submission). A rotation by another process replaces the file,
        and the next call reads the new key; the active key itself cannot be retired.
        """
        path = self._directory / self.ACTIVE_KEK_FILE
        try:
            status = path.stat()
        except FileNotFoundError:
            raise KeyProviderError(f"{path} is missing; {_INIT_HINT}") from None
        except OSError as exc:
            raise KeyProviderError(f"cannot read {path}: {type(exc).__name__}") from None
        version = (status.st_ino, status.st_size, status.st_mtime_ns)
        cached = self._active
        if cached is not None and cached[0] == version:
            return cached[1]
        kek = self._read_active_kek(path)
        self._active = (version, kek)
        return kek

    def _read_active_kek(self, path: Path) -> KeyEncryptionKey:
        try:
            kek_id = path.read_text(encoding="ascii").strip()
        except FileNotFoundError:
            raise KeyProviderError(f"{path} is missing; {_INIT_HINT}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise KeyProviderError(f"cannot read {path}: {type(exc).__name__}") from None
        try:
            return self.kek(kek_id)
        except KeyNotFound:
            raise KeyProviderError(
                f"{path} names a key-encryption key that is not in {self._directory}; "
                "restore the key file or point active-kek at a held key"
            ) from None

    def kek(self, kek_id: str) -> KeyEncryptionKey:
        """Read the key-encryption key with this id from its file."""
        # Reading on every call lets a rotation or retirement by another process take
        # effect here at once; the file read costs microseconds next to a database query.
        if not _KEK_ID_PATTERN.fullmatch(kek_id) or not kek_id.startswith(self.KEK_PREFIX):
            raise KeyNotFound(f"key-encryption key {kek_id!r} is not held by this provider")
        path = self._directory / f"{kek_id}{self.KEK_SUFFIX}"
        try:
            material = self._read_key_file(path.name)
        except KeyProviderError:
            if path.exists():
                raise
            raise KeyNotFound(
                f"key-encryption key {kek_id!r} is not held by this provider"
            ) from None
        return KeyEncryptionKey(kek_id=kek_id, material=material)

    def blind_index_key(self) -> bytes:
        """Return the blind-index key loaded at construction."""
        return self._blind_index_key

    def signing_key(self) -> Ed25519PrivateKey:
        """Return the receipt-signing key loaded at construction."""
        return self._signing_key

    def create_kek(self) -> KeyEncryptionKey:
        """Write a new random key-encryption key and point active-kek at it."""
        kek = KeyEncryptionKey(
            kek_id=generate_kek_id(datetime.now(UTC)), material=os.urandom(KEY_BYTES)
        )
        _write_new_file(
            self._directory, f"{kek.kek_id}{self.KEK_SUFFIX}", _encode_key(kek.material)
        )
        _replace_file(self._directory, self.ACTIVE_KEK_FILE, kek.kek_id.encode("ascii") + b"\n")
        return kek

    def retire_kek(self, kek_id: str) -> None:
        """Overwrite and delete a key-encryption key file, refusing the active key."""
        if kek_id == self.active_kek().kek_id:
            raise KeyProviderError(
                f"key-encryption key {kek_id!r} is active; create a new key and rewrap "
                "every data key before retiring it"
            )
        self.kek(kek_id)
        _destroy_file(self._directory / f"{kek_id}{self.KEK_SUFFIX}")

    def kek_ids(self) -> list[str]:
        """Return the ids of the key files present, oldest first."""
        ids = [
            path.name.removesuffix(self.KEK_SUFFIX)
            for path in self._directory.glob(f"{self.KEK_PREFIX}*{self.KEK_SUFFIX}")
        ]
        return sorted(kek_id for kek_id in ids if _KEK_ID_PATTERN.fullmatch(kek_id))

    def _read_key_file(self, name: str) -> bytes:
        """Read one base64 key file, naming the file but never its content on failure."""
        path = self._directory / name
        try:
            text = path.read_text(encoding="ascii")
        except FileNotFoundError:
            raise KeyProviderError(f"key file {path} is missing; {_INIT_HINT}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise KeyProviderError(f"cannot read key file {path}: {type(exc).__name__}") from None
        try:
            return decode_key(text)
        except ValueError as exc:
            raise KeyProviderError(f"key file {path} is corrupt ({exc})") from None


def _write_temp(directory: Path, content: bytes) -> Path:
    """Write content to a fresh mode-0600 temporary file in directory and flush it to disk."""
    # mkstemp creates the file 0600, so the key is never readable by others, even briefly.
    fd, name = tempfile.mkstemp(dir=directory, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(name)
        raise
    return Path(name)


def _fsync_directory(directory: Path) -> None:
    """Flush a directory entry change to disk where the platform allows it."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_new_file(directory: Path, name: str, content: bytes) -> bool:
    """Atomically create directory/name unless it already exists, and report if it was made."""
    temp = _write_temp(directory, content)
    target = directory / name
    try:
        # A hard link never replaces an existing key, so two concurrent inits cannot
        # overwrite a key the other has already handed out.
        os.link(temp, target)
    except FileExistsError:
        return False
    except OSError:
        # Some filesystems have no hard links; fall back to a rename after checking.
        if target.exists():
            return False
        os.replace(temp, target)
        _fsync_directory(directory)
        return True
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
    _fsync_directory(directory)
    return True


def _replace_file(directory: Path, name: str, content: bytes) -> None:
    """Atomically replace directory/name with content."""
    temp = _write_temp(directory, content)
    try:
        os.replace(temp, directory / name)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    _fsync_directory(directory)


def _destroy_file(path: Path) -> None:
    """Overwrite a key file with zeros and delete it."""
    # Overwriting is best effort: journalling and copy-on-write filesystems and SSD
    # wear levelling may keep old blocks, but it removes the easy recovery paths.
    with contextlib.suppress(OSError), path.open("r+b") as handle:
        size = os.fstat(handle.fileno()).st_size
        handle.write(b"\0" * size)
        handle.flush()
        os.fsync(handle.fileno())
    path.unlink()
    _fsync_directory(path.parent)
