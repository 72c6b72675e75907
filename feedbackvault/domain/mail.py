"""What the service e-mails and the port that sends it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


class MailFailed(Exception):
    """The mail server refused or could not be reached; the message names neither address."""


@dataclass(frozen=True)
class Message:
    """One plain-text e-mail."""

    to: str = field(repr=False)
    subject: str
    body: str = field(repr=False)


class Mailer(Protocol):
    """Send e-mail (SMTP in production, a local SMTP sink in tests)."""

    def send(self, message: Message) -> None:
        """Deliver one message or raise MailFailed."""
        ...
