"""Read the service's settings once, from `FEEDBACKVAULT_*` environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from feedbackvault.domain.durations import IsoDuration, parse_iso_duration
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
# API.md "Command line": a retired KEK is kept this long (keep it at least as long as
# key-store backups), and `maintain` rotates the active one this often. Together they
# bound how long a shredded key's stray copies stay readable (the certificate's final_by).
DEFAULT_KEK_GRACE = "P30D"
DEFAULT_KEK_ROTATION = "P7D"


# The privacy centre's request form: an address may ask a few times an hour (a lost
# e-mail, a second kind), a client (one browser or one office's proxy) somewhat more.
DEFAULT_PRIVACY_LIMIT_PER_ADDRESS = "3/hour"
DEFAULT_PRIVACY_LIMIT_PER_CLIENT = "20/hour"
SECRET_KEY_FILE = "secret_key"  # noqa: S105 - a file name, not a secret
# A session secret shorter than this is guessable offline from one cookie.
MIN_SECRET_KEY_LENGTH = 32


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# The database URL schemes the stores are built and tested for (SQLAlchemy's names).
DATABASE_SCHEMES = ("sqlite", "sqlite+pysqlite", "postgresql+psycopg")
URL_EXAMPLE = "postgresql+psycopg://USER:PASSWORD@HOST:5432/DBNAME or sqlite:////absolute/path.db"
POSTGRES_DEFAULT_PORT = 5432
TEST_PREFIX = f"{PREFIX}TEST_"
# Every variable the service reads (the env key provider's three included); a name
# close to one of these is most likely a typo that leaves a default in force.
SETTING_NAMES = tuple(
    f"{PREFIX}{name}"
    for name in (
        "INSTANCE_DIR",
        "DATABASE_URL",
        "KEYSTORE_URL",
        "POLICIES",
        "KEY_PROVIDER",
        "KEK",
        "BLIND_INDEX_KEY",
        "RECEIPT_SIGNING_KEY",
        "MAX_BODY_BYTES",
        "LOG_LEVEL",
        "RATE_LIMIT_PER_TOKEN",
        "RATE_LIMIT_PER_ADDRESS",
        "RATE_LIMIT_STORAGE",
        "CORS_ORIGINS",
        "KEK_GRACE",
        "KEK_ROTATION",
        "AUDIT_ANCHOR_KEY",
        "SECRET_KEY",
        "TLS",
        "SMTP_URL",
        "PUBLIC_URL",
        "MAIL_FROM",
        "PRIVACY_LIMIT_PER_ADDRESS",
        "PRIVACY_LIMIT_PER_CLIENT",
        # Read by docker/maintain.sh, not by the service.
        "MAINTAIN_EVERY",
    )
)


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
    kek_grace: IsoDuration = field(default_factory=lambda: parse_iso_duration(DEFAULT_KEK_GRACE))
    kek_rotation: IsoDuration = field(
        default_factory=lambda: parse_iso_duration(DEFAULT_KEK_ROTATION)
    )

    # Signs the console's session cookies; from the environment or `instance/secret_key`.
    secret_key: str | None = field(default=None, repr=False)
    # Served over HTTPS (directly or behind a TLS proxy): session cookies get `Secure`.
    tls: bool = False
    # The privacy centre e-mails links through this server (`smtp://host:port`); it may
    # hold a password, so it stays out of the repr.
    smtp_url: str | None = field(default=None, repr=False)
    # The address people reach the service at: e-mailed links point here, never at the
    # Host header of the request that asked for them (which an attacker chooses).
    public_url: str | None = None
    mail_from: str | None = None
    privacy_limit_per_address: str = DEFAULT_PRIVACY_LIMIT_PER_ADDRESS
    privacy_limit_per_client: str = DEFAULT_PRIVACY_LIMIT_PER_CLIENT
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
        check_database_url(f"{PREFIX}DATABASE_URL", database_url)
        keystore_url = env.get(f"{PREFIX}KEYSTORE_URL")
        if not keystore_url:
            if not database_url.startswith("sqlite"):
                raise SettingsError(
                    f"{PREFIX}KEYSTORE_URL is not set, and it is required with a server "
                    "database: set it to a second database (better: on a second server) so "
                    "that a backup of the data database holds no keys."
                )
            keystore_url = default_keys
        check_database_url(f"{PREFIX}KEYSTORE_URL", keystore_url)
        if same_database(keystore_url, database_url):
            raise SettingsError(
                f"{PREFIX}KEYSTORE_URL and {PREFIX}DATABASE_URL name the same database "
                f"({describe_database(database_url)}): keys and ciphertext in one database "
                f"defeat crypto-shredding. Point {PREFIX}KEYSTORE_URL at a database of its "
                "own (create it first) and run `feedbackvault init`."
            )
        key_provider = env.get(f"{PREFIX}KEY_PROVIDER", "file")
        if key_provider not in KEY_PROVIDERS:
            raise SettingsError(
                f"{PREFIX}KEY_PROVIDER is {key_provider!r}; set it to one of "
                f"{', '.join(KEY_PROVIDERS)} (or leave it unset for file keys)."
            )
        raw_limit = env.get(f"{PREFIX}MAX_BODY_BYTES", str(DEFAULT_MAX_BODY_BYTES))
        try:
            max_body_bytes = int(raw_limit)
        except ValueError:
            max_body_bytes = 0
        if max_body_bytes < 1:
            raise SettingsError(
                f"{PREFIX}MAX_BODY_BYTES is {raw_limit!r}; set it to a whole number of bytes "
                f"above 0 (default {DEFAULT_MAX_BODY_BYTES}) or leave it unset."
            )
        log_level = env.get(f"{PREFIX}LOG_LEVEL", "INFO").upper()
        if log_level not in LOG_LEVELS:
            raise SettingsError(
                f"{PREFIX}LOG_LEVEL is {log_level!r}; set it to one of {', '.join(LOG_LEVELS)}."
            )
        limits = {
            name: env.get(f"{PREFIX}{name.upper()}") or default
            for name, default in (
                ("rate_limit_per_token", DEFAULT_RATE_LIMIT_PER_TOKEN),
                ("rate_limit_per_address", DEFAULT_RATE_LIMIT_PER_ADDRESS),
                ("privacy_limit_per_address", DEFAULT_PRIVACY_LIMIT_PER_ADDRESS),
                ("privacy_limit_per_client", DEFAULT_PRIVACY_LIMIT_PER_CLIENT),
            )
        }
        for name, value in limits.items():
            _check_rate(f"{PREFIX}{name.upper()}", value)
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
        durations = {}
        for name, default in (
            ("kek_grace", DEFAULT_KEK_GRACE),
            ("kek_rotation", DEFAULT_KEK_ROTATION),
        ):
            try:
                durations[name] = parse_iso_duration(env.get(f"{PREFIX}{name.upper()}") or default)
            except ValueError as exc:
                raise SettingsError(
                    f"{PREFIX}{name.upper()} must be an ISO 8601 duration like {default}"
                ) from exc

        secret_key = env.get(f"{PREFIX}SECRET_KEY") or _read_secret(instance_dir / SECRET_KEY_FILE)
        if secret_key is not None and len(secret_key) < MIN_SECRET_KEY_LENGTH:
            raise SettingsError(
                f"{PREFIX}SECRET_KEY must be at least {MIN_SECRET_KEY_LENGTH} characters"
            )
        tls = env.get(f"{PREFIX}TLS", "").strip().lower()
        if tls not in ("", "0", "1", "false", "true"):
            raise SettingsError(f"{PREFIX}TLS must be true or false")
        smtp_url = env.get(f"{PREFIX}SMTP_URL") or None
        if smtp_url is not None and not smtp_url.startswith(("smtp://", "smtps://")):
            raise SettingsError(f"{PREFIX}SMTP_URL must look like smtp://host:port")
        public_url = (env.get(f"{PREFIX}PUBLIC_URL") or "").rstrip("/") or None
        if public_url is not None and not public_url.startswith(("https://", "http://")):
            raise SettingsError(f"{PREFIX}PUBLIC_URL must look like https://feedback.example.nl")
        return cls(
            instance_dir=instance_dir,
            database_url=database_url,
            keystore_url=keystore_url,
            policies_dir=Path(env.get(f"{PREFIX}POLICIES") or default_policies_dir()),
            key_provider=key_provider,
            max_body_bytes=max_body_bytes,
            log_level=log_level,
            rate_limit_per_token=limits["rate_limit_per_token"],
            rate_limit_per_address=limits["rate_limit_per_address"],
            rate_limit_storage=storage,
            cors_origins=tuple(o for o in origins if o),
            kek_grace=durations["kek_grace"],
            kek_rotation=durations["kek_rotation"],
            secret_key=secret_key,
            tls=tls in ("1", "true"),
            smtp_url=smtp_url,
            public_url=public_url,
            mail_from=env.get(f"{PREFIX}MAIL_FROM") or None,
            privacy_limit_per_address=limits["privacy_limit_per_address"],
            privacy_limit_per_client=limits["privacy_limit_per_client"],
            environ=env,
        )


def _read_secret(path: Path) -> str | None:
    """Read the session secret `init` wrote, or None when there is none."""
    try:
        return path.read_text(encoding="ascii").strip() or None
    except FileNotFoundError:
        return None


def _check_rate(name: str, value: str) -> None:
    """Refuse a rate limit the limits package cannot parse."""
    if value in (
        DEFAULT_RATE_LIMIT_PER_TOKEN,
        DEFAULT_RATE_LIMIT_PER_ADDRESS,
        DEFAULT_PRIVACY_LIMIT_PER_ADDRESS,
        DEFAULT_PRIVACY_LIMIT_PER_CLIENT,
    ):
        return  # the defaults parse; importing limits costs a command's start-up ~50 ms
    from limits import parse_many

    try:
        parse_many(value)
    except ValueError:
        raise SettingsError(
            f"{name} is {value!r}, which is not a rate; set it like '600/minute' "
            "(several: '10/second;600/minute')."
        ) from None


def check_database_url(name: str, url: str) -> None:
    """Refuse a database URL the stores cannot use, saying what to write instead."""
    scheme, separator, _rest = url.partition("://")
    if not separator or not scheme:
        raise SettingsError(f"{name} is not a database URL; write it as {URL_EXAMPLE}.")
    if scheme in DATABASE_SCHEMES:
        return
    if scheme.split("+")[0] in ("postgres", "postgresql"):
        raise SettingsError(
            f"{name} starts with {scheme}://, a driver feedbackvault does not use; write "
            "postgresql+psycopg://... (and install the extra: "
            "pip install 'feedbackvault[postgres]')."
        )
    raise SettingsError(
        f"{name} names a {scheme} database; feedbackvault runs on PostgreSQL or SQLite: "
        f"write it as {URL_EXAMPLE}."
    )


def _database_identity(url: str) -> tuple[str, ...]:
    """Reduce a database URL to what names the database: server and name, or the file."""
    scheme, _, rest = url.partition("://")
    if scheme.startswith("sqlite"):
        path = rest.split("?", 1)[0]
        path = path[1:] if path.startswith("/") else path
        if path in ("", ":memory:"):
            return ("sqlite-memory", url)
        return ("sqlite", str(Path(unquote(path)).resolve()))
    parts = urlsplit(url)
    host = (parts.hostname or "localhost").lower()
    if host in ("localhost", "::1"):
        host = "127.0.0.1"
    try:
        port = parts.port or POSTGRES_DEFAULT_PORT
    except ValueError:
        port = -1
    return ("postgresql", host, str(port), unquote(parts.path.lstrip("/")))


def same_database(first: str, second: str) -> bool:
    """Tell whether two URLs name one database, however differently they are spelled."""
    return first == second or _database_identity(first) == _database_identity(second)


def describe_database(url: str) -> str:
    """Name a database for an error message: server and name, or file; never a password."""
    identity = _database_identity(url)
    if identity[0] == "postgresql":
        return f"database {identity[3]!r} on {identity[1]}:{identity[2]}"
    if identity[0] == "sqlite":
        return f"SQLite file {identity[1]}"
    return "an in-memory SQLite database"


def misspelt_settings(environ: Mapping[str, str]) -> list[tuple[str, str]]:
    """Pair each unknown FEEDBACKVAULT_* variable that looks like a setting with that setting."""
    import difflib

    found = []
    for name in sorted(environ):
        # FEEDBACKVAULT_TEST_*: the test suite's own variables, read by no command.
        if not name.startswith(PREFIX) or name in SETTING_NAMES or name.startswith(TEST_PREFIX):
            continue
        close = difflib.get_close_matches(name, SETTING_NAMES, n=1, cutoff=0.85)
        if close and close[0] not in environ:
            found.append((name, close[0]))
    return found
