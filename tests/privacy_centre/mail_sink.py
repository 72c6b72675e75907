"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it receives for the tests."""

from __future__ import annotations

import re
import socket
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

LINK = re.compile(r"https?://\S+/privacy/(confirm|export)/[A-Za-z0-9_-]+")


@dataclass
class Sink:
    """The messages the SMTP server accepted, in order."""

    messages: list[EmailMessage] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        """Keep one delivered message (aiosmtpd's handler hook)."""
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        parsed["X-Envelope-To"] = ",".join(envelope.rcpt_tos)
        with self.lock:
            self.messages.append(parsed)
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        """Return the messages delivered to one address."""
        with self.lock:
            return [m for m in self.messages if m["X-Envelope-To"] == address]

    def wait_for(self, address: str, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        """Wait until `count` messages reached an address and return them."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.to(address)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"{count} message(s) expected, {len(self.to(address))} arrived")


def body_of(message: EmailMessage) -> str:
    """Return a message's plain-text body."""
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def link_in(message: EmailMessage, kind: str) -> str:
    """Return the confirm or export link a message carries."""
    for match in LINK.finditer(body_of(message)):
        if match[1] == kind:
            return match[0]
    raise AssertionError(f"no {kind} link in the message")


def free_port() -> int:
    """Return a TCP port free on 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_sink() -> tuple[Controller, Sink]:
    """Start an SMTP server on a free port of 127.0.0.1."""
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    return controller, sink
