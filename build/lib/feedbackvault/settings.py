"""Read the service's settings once, from `FEEDBACKVAULT_*` environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from limits import parse_many

from feedbackvault.policies.loader import default_policies_dir

PREFIX = "FEEDBACKVAULT_"
# API.md: bodies over 64 KiB are refused; a response with a 2,000-character comment is ~3 KiB.
DEFAULT_MAX_BODY_BYTES = 64 * 1024
KEY_PROVIDERS = ("file", "env")
# Collect limits (POST /responses, /consents/withdraw), counted over both endpoints.
# A token is one survey front-end: 100/s sustained stops a leaked token flooding the
# store without throttling a busy survey. An address is one browser or one proxy.
# A limit is always on; a deployment that wants none sets a very high one.
DEFAULT_RATE_LIMIT_PER_TOKEN = "6000/minute"  # noqa: S105 - a rate, not a secret
DEFAULT_RATE_LIMIT_PER_ADDRESS = "1200/minute"
RATE_LIMIT_STORAGES = ("memory://", "redis://", "rediss://")
SECRET_KEY_FILE = "secret_key"  # noqa: S105 - a file name, not a secret
# A session secret shorter than this is guessable offline from one cookie.
MIN_SECRET_KEY_LENGTH = 32


class SettingsError(Exception):
    """The configuration is incomplete or contradictory."""


@dataclass(frozen=True)
class Settings:
    """Everything the app factory and the CLI need to build the service."""

    instance_dir: Path
    database_url: str
    keystore_url: str
    policies_dir: Path
    key_provider: str = "file"
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    log_level: str = "INFO"
    rate_limit_per_token: str = DEFAULT_RATE_LIMIT_PER_TOKEN
    rate_limit_per_address: str = DEFAULT_RATE_LIMIT_PER_ADDRESS
    # A Redis URL may hold a password, so it stays out of the repr.
    rate_limit_storage: str = field(default="memory://", repr=False)
    cors_origins: tuple[str, ...] = ()
    # Signs the console's session cookies; from the environment or `instance/secret_key`.
    secret_key: str | None = field(default=None, repr=False)
    # Served over HTTPS (directly or behind a TLS proxy): session cookies get `Secure`.
    tls: bool = False
    environ: Mapping[str, str] = field(default_factory=dict, repr=False)

    @property
    def secret_key_file(self) -> Path:
        """Return the file `feedbackvault init` writes the session secret to."""
        return self.instance_dir / SECRET_KEY_FILE

    @property
    def keys_dir(self) -> Path:
        """Return the folder of the file key provider."""
        return self.instance_dir / "keys"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from the environment (or the mapping given)."""
        env = dict(os.environ if environ is None else environ)
        instance_dir = Path(env.get(f"{PREFIX}INSTANCE_DIR", "instance")).resolve()
        default_data = f"sqlite:///{instance_dir / 'feedbackvault.db'}"
        default_keys = f"sqlite:///{instance_dir / 'keystore.db'}"
        database_url = env.get(f"{PREFIX}DATABASE_URL") or default_data
        keystore_url = env.get(f"{PREFIX}KEYSTORE_URL")
        if not keystore_url:
            if not database_url.startswith("sqlite"):
                raise SettingsError(
                    f"{PREFIX}KEYSTORE_URL is required with a server database: the key store "
                    "must be a separate database or schema so a data backup holds no keys"
                )
            keystore_url = default_keys
        if keystore_url == database_url:
            raise SettingsError(
                f"{PREFIX}KEYSTORE_URL must differ from {PREFIX}DATABASE_URL: keys and "
                "ciphertext in one database defeat crypto-shredding"
            )
        key_provider = env.get(f"{PREFIX}KEY_PROVIDER", "file")
        if key_provider not in KEY_PROVIDERS:
            raise SettingsError(f"{PREFIX}KEY_PROVIDER must be one of {', '.join(KEY_PROVIDERS)}")
        raw_limit = env.get(f"{PREFIX}MAX_BODY_BYTES", str(DEFAULT_MAX_BODY_BYTES))
        try:
            max_body_bytes = int(raw_limit)
        except ValueError as exc:
            raise SettingsError(f"{PREFIX}MAX_BODY_BYTES must be a whole number") from exc
        limits = {
            name: env.get(f"{PREFIX}{name.upper()}") or default
            for name, default in (
                ("rate_limit_per_token", DEFAULT_RATE_LIMIT_PER_TOKEN),
                ("rate_limit_per_address", DEFAULT_RATE_LIMIT_PER_ADDRESS),
            )
        }
        for name, value in limits.items():
            try:
                parse_many(value)
            except ValueError as exc:
                raise SettingsError(
                    f"{PREFIX}{name.upper()} must be a rate like '600/minute'"
                ) from exc
        storage = env.get(f"{PREFIX}RATE_LIMIT_STORAGE") or "memory://"
        if not storage.startswith(RATE_LIMIT_STORAGES):
            raise SettingsError(f"{PREFIX}RATE_LIMIT_STORAGE must be memory:// or a redis:// URL")
        origins = tuple(
            o.strip().rstrip("/") for o in env.get(f"{PREFIX}CORS_ORIGINS", "").split(",")
        )
        if any(o == "*" or not o.startswith(("https://", "http://")) for o in origins if o):
            raise SettingsError(
                f"{PREFIX}CORS_ORIGINS must list exact origins like https://survey.example.com"
            )
        secret_key = env.get(f"{PREFIX}SECRET_KEY") or _read_secret(instance_dir / SECRET_KEY_FILE)
        if secret_key is not None and len(secret_key) < MIN_SECRET_KEY_LENGTH:
            raise SettingsError(
                f"{PREFIX}SECRET_KEY must be at least {MIN_SECRET_KEY_LENGTH} characters"
            )
        tls = env.get(f"{PREFIX}TLS", "").strip().lower()
        if tls not in ("", "0", "1", "false", "true"):
            raise SettingsError(f"{PREFIX}TLS must be true or false")
        return cls(
            instance_dir=instance_dir,
            database_url=database_url,
            keystore_url=keystore_url,
            policies_dir=Path(env.get(f"{PREFIX}POLICIES") or default_policies_dir()),
            key_provider=key_provider,
            max_body_bytes=max_body_bytes,
            log_level=env.get(f"{PREFIX}LOG_LEVEL", "INFO").upper(),
            rate_limit_per_token=limits["rate_limit_per_token"],
            rate_limit_per_address=limits["rate_limit_per_address"],
            rate_limit_storage=storage,
            cors_origins=tuple(o for o in origins if o),
            secret_key=secret_key,
            tls=tls in ("1", "true"),
            environ=env,
        )


def _read_secret(path: Path) -> str | None:
    """Read the session secret `init` wrote, or None when there is none."""
    try:
        return path.read_text(encoding="ascii").strip() or None
    except FileNotFoundError:
        return None
