"""Remind privacy officers, at most once a day, of the requests whose deadline is near."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from feedbackvault.domain.audit import AuditFilter
from feedbackvault.domain.clock import Clock
from feedbackvault.domain.mail import Mailer, MailFailed, Message
from feedbackvault.services.accounts import AccountService
from feedbackvault.services.privacy_requests import RequestState
from feedbackvault.services.subject_rights import SubjectRightsService
from feedbackvault.storage.units import Stores

ACTOR = "maintain"
ACTION = "reminders.sent"
# A request due within this window, or overdue, is worth an e-mail: three days leave time
# to verify and fulfil, or to extend with a reason (Art. 12(3)) before the deadline.
REMINDER_WINDOW = timedelta(days=3)
# More than a day's work of requests would not be read from one e-mail either.
MAX_LISTED = 200
OPEN_STATUSES = ("received", "verified")


@dataclass(frozen=True)
class ReminderReport:
    """What one reminder run did."""

    due: int
    sent: int
    skipped_today: int
    failed: int
    mail_configured: bool


class ReminderService:
    """E-mail every privacy officer the open requests due within three days or overdue.

    The e-mail holds no personal data: request ids, kinds, days left and a link to the
    console. Each sending is an audit entry naming the account, which is also how a second
    run on the same day knows it has nothing to send.
    """

    def __init__(
        self,
        stores: Stores,
        accounts: AccountService,
        subject_rights: SubjectRightsService,
        clock: Clock,
        mailer: Mailer | None,
        public_url: str | None,
    ) -> None:
        self.stores = stores
        self.accounts = accounts
        self.subject_rights = subject_rights
        self.clock = clock
        self.mailer = mailer
        self.public_url = public_url.rstrip("/") if public_url else None

    def send_due(self) -> ReminderReport:
        """Send today's reminders to the officers who have not had one yet."""
        now = self.clock.now()
        due = self._due(now)
        if self.mailer is None or not due:
            return ReminderReport(len(due), 0, 0, 0, self.mailer is not None)
        officers = [
            account
            for account in self.accounts.list()
            if account.role == "privacy_officer" and account.disabled_at is None
        ]
        reminded = self._reminded_today(now)
        sent = failed = 0
        message_body = self._body(due, now)
        for officer in officers:
            if officer.id in reminded:
                continue
            try:
                self.mailer.send(
                    Message(to=officer.email, subject=self._subject(due, now), body=message_body)
                )
            except MailFailed:
                failed += 1
                continue
            sent += 1
            with self.stores.data() as unit:
                unit.audit.append(
                    at=now,
                    actor=ACTOR,
                    action=ACTION,
                    details={
                        "account": officer.id,
                        "day": now.date().isoformat(),
                        "requests": [request.id for request in due],
                    },
                )
        skipped = sum(1 for officer in officers if officer.id in reminded)
        return ReminderReport(len(due), sent, skipped, failed, True)

    def _due(self, now: datetime) -> list[RequestState]:
        """List open requests due within the window or overdue, earliest deadline first."""
        due = []
        for status in OPEN_STATUSES:
            for request in self.subject_rights.queue(status, None, MAX_LISTED):
                if request.due_at - now <= REMINDER_WINDOW:
                    due.append(request)
        return sorted(due, key=lambda request: (request.due_at, request.id))[:MAX_LISTED]

    def _reminded_today(self, now: datetime) -> set[str]:
        today = now.date()
        where = AuditFilter(action=ACTION, from_day=today, to_day=today)
        with self.stores.read() as unit:
            page = unit.audit.page(where, limit=10_000)
        return {str(json.loads(entry.details).get("account")) for entry in page.entries}

    @staticmethod
    def _subject(due: list[RequestState], now: datetime) -> str:
        overdue = sum(1 for request in due if request.due_at < now)
        return (
            f"feedbackvault: {len(due)} verzoek(en) binnen 3 dagen, {overdue} te laat / "
            f"{len(due)} request(s) due within 3 days, {overdue} overdue"
        )

    def _body(self, due: list[RequestState], now: datetime) -> str:
        lines = [
            "Verzoeken van betrokkenen met een uiterste datum binnen 3 dagen of te laat.",
            "Requests of data subjects due within 3 days or overdue.",
            "",
        ]
        for request in due:
            days = math.floor((request.due_at - now) / timedelta(days=1))
            left = (
                f"{-days} dag(en) te laat / {-days} day(s) overdue"
                if request.due_at < now
                else f"nog {days} dag(en) / {days} day(s) left"
            )
            link = f"  {self.public_url}/console/requests/{request.id}" if self.public_url else ""
            lines.append(f"- {request.id}  {request.kind}  {request.status}  {left}{link}")
        if not self.public_url:
            lines += ["", "Open the console's request queue: /console/requests"]
        return "\n".join(lines) + "\n"


def reminder_line(report: ReminderReport) -> str:
    """Describe a reminder run in one line for `maintain`."""
    if not report.mail_configured:
        return (
            f"{report.due} requests due within 3 days or overdue; no e-mail sent: "
            "set FEEDBACKVAULT_SMTP_URL to remind privacy officers"
        )
    if not report.due:
        return "no request due within 3 days or overdue"
    line = (
        f"{report.due} requests due within 3 days or overdue: reminded {report.sent} "
        f"privacy officers, {report.skipped_today} already reminded today"
    )
    if report.failed:
        line += f", {report.failed} e-mails failed (tried again on the next run)"
    return line
