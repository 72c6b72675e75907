"""Turn an operator's mistake into one paragraph: what is wrong and what to do about it.

Every command runs inside `OperatorGroup.invoke` (cli/root.py); an exception that names a
mistake in the set-up (a database that does not exist, a server that does not
answer, a key file that cannot be read, a bad `FEEDBACKVAULT_*` value) becomes
a `click.ClickException`: one paragraph on stderr and exit status 1, no
traceback. Anything else is a bug and keeps its traceback. Messages name
variables, hosts, database names and file paths, never a password or a key.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

from feedbackvault.settings import PREFIX, Settings, SettingsError, describe_database

DATA_VAR = f"{PREFIX}DATABASE_URL"
KEYS_VAR = f"{PREFIX}KEYSTORE_URL"
INIT = "`feedbackvault init`"

_MISSING_DATABASE = re.compile(r'database "([^"]+)" does not exist')
_SERVER = re.compile(r'(?:server at|host) "([^"]+)"(?:[^,]*)?, port (\d+)')
_USER = re.compile(r'(?:for user|role) "([^"]+)"')
_UNREACHABLE = (
    "connection refused",
    "could not translate host name",
    "name or service not known",
    "temporary failure in name resolution",
    "no route to host",
    "timeout expired",
    "network is unreachable",
    "server closed the connection unexpectedly",
    "the database system is starting up",
    "the database system is shutting down",
)
_CREDENTIALS = (
    "password authentication failed",
    "no password supplied",
    "authentication failed",
    "pg_hba.conf",
)


def explain(exc: BaseException) -> str | None:
    """Describe a set-up mistake and its fix, or return None for anything else (a bug)."""
    for error in _chain(exc):
        for rule in _RULES:
            message = rule(error)
            if message is not None:
                return message
    return None


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """Yield the exception, the driver error SQLAlchemy wraps, and their explicit causes."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        error = pending.pop(0)
        if error is None or id(error) in seen:
            continue
        seen.add(id(error))
        yield error
        pending.extend([getattr(error, "orig", None), error.__cause__])


def _settings() -> Settings | None:
    """Read the settings again to name the variable at fault (None when they do not load)."""
    try:
        return Settings.from_env()
    except SettingsError:
        return None


def _stores() -> list[tuple[str, str]]:
    """Return (variable, URL) of both stores, as configured."""
    settings = _settings()
    if settings is None:
        return []
    return [(DATA_VAR, settings.database_url), (KEYS_VAR, settings.keystore_url)]


def _driver_text(error: BaseException) -> str:
    return " ".join(str(error).split())


def _settings_error(error: BaseException) -> str | None:
    return str(error) if isinstance(error, SettingsError) else None


def _policy_error(error: BaseException) -> str | None:
    from feedbackvault.policies.errors import PolicyError

    if not isinstance(error, PolicyError):
        return None
    problems = str(error)
    if "\n" in problems:  # every problem of a directory, one per line
        return (
            "policy errors (fix the policy files, then check them with "
            f"`feedbackvault policies check`):\n{problems}"
        )
    return (
        f"policy error: {problems}; fix the policy file, then check it with "
        "`feedbackvault policies check`."
    )


def _key_error(error: BaseException) -> str | None:
    from feedbackvault.crypto.errors import DecryptionFailed, KeyNotFound, KeyProviderError

    if isinstance(error, KeyProviderError):
        text = str(error).rstrip(".")
        if "corrupt" in text or "cannot read" in text:
            text += (
                ". Restore the file from your key backup and make it readable (mode 0600) "
                "by the user feedbackvault runs as; do not create new keys in its place, "
                "or everything encrypted under the old ones is lost."
            )
        elif text.startswith(PREFIX):
            text += (
                f" (read when {PREFIX}KEY_PROVIDER=env). Make a key with `python3 -c "
                "'import base64, os; print(base64.b64encode(os.urandom(32)).decode())'`."
            )
        else:
            text += "."
        return f"key provider: {text}"
    if isinstance(error, KeyNotFound):
        return (
            f"{error}: a data key in the key store is wrapped by a key-encryption key the "
            "key provider does not hold. Restore that key (its file in the keys folder, or "
            f"its entry in {PREFIX}KEK) from your key backup."
        )
    if isinstance(error, DecryptionFailed):
        return (
            "a data key in the key store does not open with the configured keys: the keys "
            "folder (or FEEDBACKVAULT_KEK) does not belong to this key store. Point "
            f"{PREFIX}INSTANCE_DIR or the key variables at the keys this key store was "
            "written with."
        )
    return None


def _url_error(error: BaseException) -> str | None:
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    if not isinstance(error, ArgumentError | NoSuchModuleError):
        return None
    from sqlalchemy.engine import make_url

    culprits = []
    for variable, url in _stores():
        try:
            make_url(url).get_dialect()
        except (ArgumentError, NoSuchModuleError, ImportError):
            culprits.append(variable)
    named = " and ".join(culprits) or f"{DATA_VAR} or {KEYS_VAR}"
    return (
        f"{named} is not a database URL feedbackvault can open; write it as "
        "postgresql+psycopg://USER:PASSWORD@HOST:5432/DBNAME or sqlite:////absolute/path.db."
    )


def _missing_driver(error: BaseException) -> str | None:
    if not isinstance(error, ModuleNotFoundError):
        return None
    if error.name not in ("psycopg", "psycopg_binary", "psycopg_c"):
        return None
    return (
        "the PostgreSQL driver (psycopg) is not installed; install the extra with "
        "`pip install 'feedbackvault[postgres]'` in the environment feedbackvault runs from."
    )


def _database_error(error: BaseException) -> str | None:
    from sqlalchemy.exc import DBAPIError

    if not isinstance(error, DBAPIError):
        return None
    text = _driver_text(error.orig if error.orig is not None else error)
    lowered = text.lower()
    stores = _stores()
    for rule in (_missing_database, _no_schema, _credentials, _unreachable, _sqlite_file):
        message = rule(text, lowered, stores)
        if message is not None:
            return message
    if "file is not a database" in lowered:
        files = [f"{url} ({var})" for var, url in stores if url.startswith("sqlite")]
        return (
            f"{' or '.join(files) or 'a SQLite URL'} points at a file that is not a SQLite "
            "database. Correct the path in the URL (or move the file away and run "
            f"{INIT} to create a fresh database)."
        )
    if "database is locked" in lowered:
        return (
            "the SQLite database stayed locked by another process longer than the busy "
            "timeout (a long sweep, a backup, an open sqlite3 shell). Wait for it to finish "
            "or stop it, then try again."
        )
    if "disk is full" in lowered or "no space left" in lowered or "disk full" in lowered:
        return (
            f"the database's disk is full ({text.split(' [SQL')[0][:120]}). Free space on "
            "the database server or volume, then try again; nothing was half-written."
        )
    if "read-only" in lowered or "readonly" in lowered or "permission denied" in lowered:
        return (
            f"the database refused a write ({text.split(':')[0]}): the user in {DATA_VAR} / "
            f"{KEYS_VAR} needs to own the feedbackvault tables (or, for SQLite, the files "
            "and their folder must be writable by the user running the command)."
        )
    return None


def _missing_database(text: str, _lowered: str, stores: list[tuple[str, str]]) -> str | None:
    found = _MISSING_DATABASE.search(text)
    if found is None:
        return None
    name = found.group(1)
    variables = [var for var, url in stores if url.rsplit("/", 1)[-1].split("?")[0] == name]
    where = _server_of(text)
    named = " and ".join(variables) or f"{DATA_VAR} or {KEYS_VAR}"
    host, port = where if where else ("HOST", "5432")
    user = _user_of(stores, variables)
    return (
        f"the PostgreSQL database {name!r} named by {named} does not exist on {host}:{port}. "
        f"Create it (`createdb -h {host} -p {port} -U {user} {name}`, or CREATE DATABASE "
        f'"{name}"; in SQL), or correct the name in the URL, then run {INIT}.'
    )


def _no_schema(text: str, lowered: str, stores: list[tuple[str, str]]) -> str | None:
    missing_relation = 'relation "' in lowered and "does not exist" in lowered
    if "no such table" not in lowered and not missing_relation:
        return None
    targets = " and ".join(describe_database(url) for _, url in stores) or "the databases"
    return (
        f"the feedbackvault tables are missing ({text.split(' [SQL')[0][:120]}): {targets} "
        f"have not been set up. Run {INIT} first (it creates and migrates both stores and is "
        "safe to re-run)."
    )


def _credentials(text: str, lowered: str, stores: list[tuple[str, str]]) -> str | None:
    if not any(marker in lowered for marker in _CREDENTIALS) and not (
        "role" in lowered and "does not exist" in lowered
    ):
        return None
    user = _USER.search(text)
    who = f"user {user.group(1)!r}" if user else "the user"
    variables = _variables_on_server(text, stores)
    return (
        f"PostgreSQL refused {who} named by {variables}: wrong user or password, or no "
        "pg_hba.conf entry for this client. Correct USER:PASSWORD in the URL (or create the "
        "role on the server) and try again."
    )


def _unreachable(text: str, lowered: str, stores: list[tuple[str, str]]) -> str | None:
    if not any(marker in lowered for marker in _UNREACHABLE):
        return None
    where = _server_of(text)
    variables = _variables_on_server(text, stores)
    if where is None:
        where = _address_of(stores, variables)
    server = f"{where[0]}:{where[1]}" if where else "the PostgreSQL server"
    reason = next(marker for marker in _UNREACHABLE if marker in lowered)
    return (
        f"cannot reach {server} ({reason}), named by {variables}. "
        "Check that the server is running and accepts TCP connections, and that the host "
        "and port in the URL are right; then try again."
    )


def _sqlite_file(_text: str, lowered: str, stores: list[tuple[str, str]]) -> str | None:
    if "unable to open database file" not in lowered:
        return None
    from sqlalchemy.engine import make_url

    culprits = []
    for variable, url in stores:
        database = make_url(url).database if url.startswith("sqlite") else None
        if database:
            folder = Path(database).resolve().parent
            if not folder.is_dir() or not os.access(folder, os.W_OK):
                culprits.append(f"{database} ({variable})")
    named = " and ".join(culprits) or "the SQLite file"
    return (
        f"cannot open {named}: its folder does not exist or is not writable. Create the "
        "folder (owned by the user running the command) or point the URL at one that "
        f"exists; the default files live in {PREFIX}INSTANCE_DIR, which {INIT} creates."
    )


def _permission(error: BaseException) -> str | None:
    if not isinstance(error, OSError) or error.filename is None:
        return None
    if isinstance(error, PermissionError):
        return (
            f"permission denied on {error.filename}: make it readable and writable by the "
            f"user running feedbackvault, or set {PREFIX}INSTANCE_DIR to a folder that user "
            "owns."
        )
    reason = (error.strerror or type(error).__name__).lower()
    return (
        f"{error.filename}: {reason}. {PREFIX}INSTANCE_DIR and the keys folder in it must "
        "be folders (not files) that the user running feedbackvault can write: correct "
        "the path, or move what is in the way."
    )


def _migration_error(error: BaseException) -> str | None:
    if type(error).__module__ != "alembic.util.exc" or type(error).__name__ != "CommandError":
        return None
    text = str(error)
    if "Can't locate revision" not in text:
        return None
    revision = re.search(r"identified by '([^']+)'", text)
    named = f" (revision {revision.group(1)})" if revision else ""
    return (
        f"a database was migrated by a newer version of feedbackvault{named} than this one "
        "knows. Run the version that migrated it (or newer); an older one cannot use its "
        "schema, and restoring a backup taken before that upgrade is the only way back."
    )


def _server_of(text: str) -> tuple[str, str] | None:
    found = _SERVER.search(text)
    return (found.group(1), found.group(2)) if found else None


def _variables_on_server(text: str, stores: list[tuple[str, str]]) -> str:
    """Name the store variables whose URL points at the server the driver names."""
    from sqlalchemy.engine import make_url

    where = _server_of(text)
    matching = []
    for variable, url in stores:
        if url.startswith("sqlite"):
            continue
        parsed = make_url(url)
        host = parsed.host or "localhost"
        port = str(parsed.port or 5432)
        hosts = {host, "127.0.0.1" if host == "localhost" else host}
        if where is None or (where[0] in hosts and where[1] == port):
            matching.append(variable)
    return " and ".join(matching) or f"{DATA_VAR} / {KEYS_VAR}"


def _address_of(stores: list[tuple[str, str]], variables: str) -> tuple[str, str] | None:
    """Return host and port of the first server URL among the variables named."""
    from sqlalchemy.engine import make_url

    for variable, url in stores:
        if variable in variables and not url.startswith("sqlite"):
            parsed = make_url(url)
            return parsed.host or "localhost", str(parsed.port or 5432)
    return None


def _user_of(stores: list[tuple[str, str]], variables: list[str]) -> str:
    from sqlalchemy.engine import make_url

    for variable, url in stores:
        if variable in variables:
            return make_url(url).username or "postgres"
    return "postgres"


_RULES: tuple[Callable[[BaseException], str | None], ...] = (
    _settings_error,
    _policy_error,
    _key_error,
    _url_error,
    _missing_driver,
    _database_error,
    _migration_error,
    _permission,
)
