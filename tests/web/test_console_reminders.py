"""`maintain` e-mails privacy officers the requests due soon, once a day, with no personal data."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from feedbackvault.app import Services
from feedbackvault.settings import Settings
from tests.privacy_centre.mail_sink import Sink, body_of, start_sink
from tests.support import FrozenClock

OFFICER = "fg@voorbeeld.nl"
SUBJECT_EMAIL = "betrokkene-canary@example.nl"


@pytest.fixture
def mailed(settings: Settings, clock: FrozenClock) -> Iterator[tuple[Services, Sink]]:
    """Services whose mail goes to a real SMTP server on 127.0.0.1."""
    controller, sink = start_sink()
    configured = replace(
        settings,
        smtp_url=f"smtp://127.0.0.1:{controller.port}",
        public_url="https://privacy.voorbeeld.nl",
    )
    services = Services.build(configured, clock=clock)
    try:
        yield services, sink
    finally:
        services.databases.dispose()
        controller.stop()


def reminder_lines(services: Services) -> list[str]:
    return [line for line in services.maintenance.run() if line.startswith("reminders:")]


def test_officers_get_one_reminder_a_day_listing_requests_due_within_three_days(
    mailed: tuple[Services, Sink], clock: FrozenClock
) -> None:
    services, sink = mailed
    services.accounts.create(OFFICER, "privacy_officer")
    services.accounts.create("analist@voorbeeld.nl", "analyst")
    soon = services.subject_rights.create("access", {"email": SUBJECT_EMAIL}, None, "test")
    clock.advance(days=10)
    later = services.subject_rights.create("erasure", {"email": SUBJECT_EMAIL}, None, "test")
    clock.advance(days=19)  # `soon` is due in about two days, `later` in three weeks
    assert reminder_lines(services) == [
        "reminders: 1 requests due within 3 days or overdue: reminded 1 privacy officers, "
        "0 already reminded today"
    ]
    [message] = sink.wait_for(OFFICER, 1)
    body = body_of(message)
    assert soon.id in body and later.id not in body
    assert f"https://privacy.voorbeeld.nl/console/requests/{soon.id}" in body
    assert SUBJECT_EMAIL not in message.as_string()
    assert sink.to("analist@voorbeeld.nl") == []
    assert "1 already reminded today" in reminder_lines(services)[0]
    assert len(sink.to(OFFICER)) == 1
    clock.advance(days=1)
    reminder_lines(services)
    assert len(sink.wait_for(OFFICER, 2)) == 2


def test_without_an_smtp_server_maintain_says_how_to_remind(
    services: Services, clock: FrozenClock
) -> None:
    services.subject_rights.create("access", {"email": SUBJECT_EMAIL}, None, "test")
    clock.advance(days=40)
    [line] = reminder_lines(services)
    assert "no e-mail sent: set FEEDBACKVAULT_SMTP_URL" in line
