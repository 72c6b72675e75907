"""Send the privacy centre's e-mails through an SMTP server (`FEEDBACKVAULT_SMTP_URL`)."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import parse_qs, unquote, urlsplit

from feedbackvault.domain.mail import MailFailed, Message

SCHEMES = ("smtp", "smtps")
DEFAULT_PORTS = {"smtp": 25, "smtps": 465}
# A mail server that does not answer within this is treated as down (the form says so).
TIMEOUT_S = 10.0


class SmtpUrlError(ValueError):
    """The SMTP URL cannot be used (the message never repeats its password)."""


@dataclass(frozen=True)
class SmtpServer:
    """Where and how to hand mail over: host, port, STARTTLS or TLS, and an optional login."""

    host: str
    port: int
    tls: bool = False
    starttls: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @classmethod
    def from_url(cls, url: str) -> SmtpServer:
        """Read `smtp://[user:pass@]host:port[?starttls=true]` (or `smtps://` for TLS)."""
        parts = urlsplit(url)
        if parts.scheme not in SCHEMES or not parts.hostname:
            raise SmtpUrlError("the SMTP URL must look like smtp://host:port")
        try:
            port = parts.port or DEFAULT_PORTS[parts.scheme]
        except ValueError as exc:
            raise SmtpUrlError("the SMTP URL has an invalid port") from exc
        query = parse_qs(parts.query)
        starttls = query.get("starttls", ["false"])[-1].lower() in ("1", "true", "yes")
        return cls(
            host=parts.hostname,
            port=port,
            tls=parts.scheme == "smtps",
            starttls=starttls,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )


class SmtpMailer:
    """Hand each message to the SMTP server in its own short session (plain `smtplib`)."""

    def __init__(self, server: SmtpServer, sender: str) -> None:
        self.server = server
        self.sender = sender

    def __repr__(self) -> str:
        """Name the server and hide the login."""
        return f"SmtpMailer(host={self.server.host!r}, port={self.server.port})"

    def send(self, message: Message) -> None:
        """Deliver one message or raise MailFailed (without the address in its text)."""
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = message.to
        mail["Subject"] = message.subject
        mail["Date"] = formatdate(usegmt=True)
        mail["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        mail.set_content(message.body)
        server = self.server
        try:
            smtp: smtplib.SMTP
            if server.tls:
                smtp = smtplib.SMTP_SSL(
                    server.host, server.port, timeout=TIMEOUT_S,
                    context=ssl.create_default_context(),
                )  # fmt: skip
            else:
                smtp = smtplib.SMTP(server.host, server.port, timeout=TIMEOUT_S)
            with smtp:
                if server.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if server.username:
                    smtp.login(server.username, server.password or "")
                smtp.send_message(mail)
        except (OSError, smtplib.SMTPException) as exc:
            # smtplib's messages may quote the recipient: keep only the class name.
            raise MailFailed(
                f"the mail server did not take the message ({type(exc).__name__})"
            ) from None
