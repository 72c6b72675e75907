"""Manage people's console accounts: one-time passwords, Argon2id, lock-out, sessions."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from feedbackvault.domain.clock import Clock, isoformat_z
from feedbackvault.domain.errors import Conflict, FeedbackVaultError, NotFound, ValidationFailed
from feedbackvault.domain.ids import new_id
from feedbackvault.storage.data_models import Account
from feedbackvault.storage.units import DataUnit, Stores

ROLES = ("privacy_officer", "auditor", "analyst", "follow_up")
# API.md: five wrong passwords in a row lock the account for 15 minutes.
MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
# Long enough for a passphrase; the upper bound keeps one hash from costing a CPU-second.
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256
# Shown on the account page.
RECENT_LOGINS = 5
# The actor column holds "account:<email>", 100 characters at most.
MAX_EMAIL_LENGTH = 90
MAX_NAME_LENGTH = 100
ACTOR_PREFIX = "account:"

TOO_SHORT = f"Use at least {MIN_PASSWORD_LENGTH} characters."
TOO_LONG = f"Use at most {MAX_PASSWORD_LENGTH} characters."
UNCHANGED = "Choose a password different from the current one."
SAME_AS_EMAIL = "Do not use your e-mail address as password."
WRONG_CURRENT = "The current password is not correct."


class LoginRefused(FeedbackVaultError):
    """Wrong e-mail or password, a locked or a disabled account: one answer for all."""

    title = "Login refused"


@dataclass(frozen=True)
class AccountInfo:
    """An account as pages and the CLI see it: never its password hash."""

    id: str
    email: str
    name: str | None
    role: str
    must_change_password: bool
    session_version: int
    created_at: datetime
    disabled_at: datetime | None
    locked_until: datetime | None
    recent_logins: tuple[str, ...]

    @property
    def actor(self) -> str:
        """Name the account in audit entries."""
        return ACTOR_PREFIX + self.email

    @classmethod
    def of(cls, row: Account) -> AccountInfo:
        """Copy a stored account without its hash."""
        return cls(
            id=row.id,
            email=row.email,
            name=row.name,
            role=row.role,
            must_change_password=row.must_change_password,
            session_version=row.session_version,
            created_at=row.created_at,
            disabled_at=row.disabled_at,
            locked_until=row.locked_until,
            recent_logins=tuple(json.loads(row.recent_logins)),
        )


def normalise_email(email: str) -> str:
    """Trim and lower-case an e-mail address, as accounts store it."""
    return email.strip().lower()


def one_time_password() -> str:
    """Make a random one-time password (about 120 bits)."""
    return secrets.token_urlsafe(15)


class AccountService:
    """People's console accounts, with every act audited."""

    def __init__(self, stores: Stores, clock: Clock, hasher: PasswordHasher | None = None) -> None:
        self.stores = stores
        self.clock = clock
        # argon2-cffi's default is Argon2id with RFC 9106's low-memory profile.
        self.hasher = hasher or PasswordHasher()
        self._decoy_hash: str | None = None

    @property
    def _decoy(self) -> str:
        """A hash verified against when the e-mail is unknown, so both answers take as long."""
        if self._decoy_hash is None:
            self._decoy_hash = self.hasher.hash(secrets.token_urlsafe(16))
        return self._decoy_hash

    def create(self, email: str, role: str, name: str | None = None, actor: str = "cli") -> str:
        """Create an account and return its one-time password (shown once)."""
        email = normalise_email(email)
        errors: dict[str, list[str]] = {}
        if role not in ROLES:
            errors["role"] = [f"Must be one of: {', '.join(ROLES)}."]
        if not _plausible_email(email):
            errors["email"] = [
                f"Must be an e-mail address of at most {MAX_EMAIL_LENGTH} characters."
            ]
        if name is not None and (
            not name.strip() or len(name) > MAX_NAME_LENGTH or not name.isprintable()
        ):
            errors["name"] = [f"Must be 1 to {MAX_NAME_LENGTH} printable characters."]
        if errors:
            raise ValidationFailed(errors, "The account is not valid.")
        password = one_time_password()
        now = self.clock.now().replace(microsecond=0)
        row = Account(
            id=new_id(now),
            email=email,
            name=name.strip() if name else None,
            role=role,
            password_hash=self.hasher.hash(password),
            must_change_password=True,
            failed_logins=0,
            locked_until=None,
            session_version=1,
            recent_logins="[]",
            created_at=now,
            disabled_at=None,
        )
        with self.stores.data() as unit:
            if unit.accounts.by_email(email) is not None:
                raise Conflict("An account with that e-mail address exists already.")
            unit.accounts.add(row)
            unit.audit.append(
                at=now, actor=actor, action="account.created",
                details={"account": ACTOR_PREFIX + email, "role": role},
            )  # fmt: skip
        return password

    def list(self) -> list[AccountInfo]:
        """List every account."""
        with self.stores.read() as unit:
            return [AccountInfo.of(row) for row in unit.accounts.all()]

    def disable(self, email: str, actor: str = "cli") -> None:
        """Disable an account; its sessions end at their next request."""
        now = self.clock.now().replace(microsecond=0)
        with self.stores.data() as unit:
            row = _locked(unit, email)
            if row.disabled_at is None:
                row.disabled_at = now
                row.session_version += 1
                unit.audit.append(
                    at=now, actor=actor, action="account.disabled",
                    details={"account": ACTOR_PREFIX + row.email},
                )  # fmt: skip

    def reset_password(self, email: str, actor: str = "cli") -> str:
        """Give an account a new one-time password, unlock it and end its sessions."""
        password = one_time_password()
        now = self.clock.now().replace(microsecond=0)
        with self.stores.data() as unit:
            row = _locked(unit, email)
            row.password_hash = self.hasher.hash(password)
            row.must_change_password = True
            row.failed_logins, row.locked_until = 0, None
            row.session_version += 1
            unit.audit.append(
                at=now, actor=actor, action="account.password_reset",
                details={"account": ACTOR_PREFIX + row.email},
            )  # fmt: skip
        return password

    def login(self, email: str, password: str) -> AccountInfo:
        """Check a password; count failures and lock the account after five in a row."""
        email = normalise_email(email)
        now = self.clock.now().replace(microsecond=0)
        with self.stores.data() as unit:
            row = unit.accounts.by_email(email, for_update=True) if email else None
            if row is None:
                self._verify(self._decoy, password)
                raise LoginRefused("The e-mail address or the password is not correct.")
            actor = ACTOR_PREFIX + row.email
            if row.locked_until is not None and row.locked_until > now:
                # Not even checked: a locked account gives a guesser no signal at all.
                unit.audit.append(at=now, actor=actor, action="account.login_refused_locked")
                refused = True
            elif row.disabled_at is not None or not self._verify(row.password_hash, password):
                row.failed_logins += 1
                details: dict[str, object] = {"failures_in_a_row": row.failed_logins}
                if row.failed_logins >= MAX_FAILED_LOGINS:
                    row.locked_until, row.failed_logins = now + LOCKOUT, 0
                    details["locked_until"] = isoformat_z(row.locked_until)
                unit.audit.append(
                    at=now, actor=actor, action="account.login_failed", details=details
                )
                refused = True
            else:
                row.failed_logins, row.locked_until = 0, None
                logins = [isoformat_z(now), *json.loads(row.recent_logins)][:RECENT_LOGINS]
                row.recent_logins = json.dumps(logins)
                if self.hasher.check_needs_rehash(row.password_hash):
                    row.password_hash = self.hasher.hash(password)
                unit.audit.append(at=now, actor=actor, action="account.login")
                refused = False
            info = AccountInfo.of(row)
        # Raised after the commit, so the failure count and its audit entry are kept.
        if refused:
            raise LoginRefused("The e-mail address or the password is not correct.")
        return info

    def change_password(self, account_id: str, current: str, new: str) -> AccountInfo:
        """Replace a password after checking the current one; other sessions end."""
        now = self.clock.now().replace(microsecond=0)
        with self.stores.data() as unit:
            row = unit.accounts.by_id(account_id)
            if row is None or row.disabled_at is not None:
                raise NotFound("No such account.")
            errors: dict[str, list[str]] = {}
            if not self._verify(row.password_hash, current):
                errors["current_password"] = [WRONG_CURRENT]
            problem = _password_problem(new, row.email)
            if problem is None and current == new:
                problem = UNCHANGED
            if problem is not None:
                errors["new_password"] = [problem]
            if errors:
                raise ValidationFailed(errors, "The password was not changed.")
            row.password_hash = self.hasher.hash(new)
            row.must_change_password = False
            row.session_version += 1
            unit.audit.append(
                at=now, actor=ACTOR_PREFIX + row.email, action="account.password_changed"
            )
            return AccountInfo.of(row)

    def logout(self, account_id: str) -> None:
        """End every session of the account (sessions live in signed cookies)."""
        now = self.clock.now().replace(microsecond=0)
        with self.stores.data() as unit:
            row = unit.accounts.by_id(account_id)
            if row is None:
                return
            row.session_version += 1
            unit.audit.append(at=now, actor=ACTOR_PREFIX + row.email, action="account.logout")

    def session_account(self, account_id: str, session_version: int) -> AccountInfo | None:
        """Return the account a session belongs to while that session is still valid."""
        with self.stores.read() as unit:
            row = unit.accounts.by_id(account_id)
            if row is None or row.disabled_at is not None or row.session_version != session_version:
                return None
            return AccountInfo.of(row)

    def _verify(self, password_hash: str, password: str) -> bool:
        if len(password) > MAX_PASSWORD_LENGTH:
            return False
        try:
            return bool(self.hasher.verify(password_hash, password))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False


def _locked(unit: DataUnit, email: str) -> Account:
    row = unit.accounts.by_email(normalise_email(email), for_update=True)
    if row is None:
        raise NotFound("No account with that e-mail address.")
    return row


def _plausible_email(email: str) -> bool:
    local, at, domain = email.partition("@")
    return (
        bool(local and at and "." in domain)
        and len(email) <= MAX_EMAIL_LENGTH
        and email.isprintable()
        and " " not in email
    )


def _password_problem(password: str, email: str) -> str | None:
    """Say what is wrong with a new password, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return TOO_SHORT
    if len(password) > MAX_PASSWORD_LENGTH:
        return TOO_LONG
    if password.strip().lower() == email:
        return SAME_AS_EMAIL
    return None
