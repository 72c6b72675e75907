"""Run the scheduled upkeep as one job: `feedbackvault maintain`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from feedbackvault.domain.purposes import PolicySet
from feedbackvault.services.key_rotation import (
    KeyRotationService,
    destruction_lines,
    rotation_line,
)
from feedbackvault.services.orphan_keys import OrphanKeyCollector, summary_line
from feedbackvault.services.releases import ReleaseService
from feedbackvault.services.reminders import ReminderService, reminder_line
from feedbackvault.services.retention import RetentionService, summary_lines

ACTOR = "maintain"


@dataclass(frozen=True)
class Step:
    """One upkeep step: its name and what runs it, answering the lines it has to say."""

    name: str
    run: Callable[[], list[str]]


class MaintenanceService:
    """Sweep, collect orphaned keys, rotate the KEK when due and destroy KEKs past their grace.

    Every step is safe to run concurrently and repeatedly, so the job is too: the
    sweep claims rows with SKIP LOCKED, shredding is idempotent, and rotation and
    destruction take the key store's KEK lifecycle lock and ask again under it.
    """

    def __init__(
        self,
        policies: PolicySet,
        retention: RetentionService,
        orphan_keys: OrphanKeyCollector,
        key_rotation: KeyRotationService,
        releases: ReleaseService,
        reminders: ReminderService,
    ) -> None:
        self.policies = policies
        self.releases = releases
        self.reminders = reminders
        self.retention = retention
        self.orphan_keys = orphan_keys
        self.key_rotation = key_rotation
        # In order: closed days are released while their responses still count (a
        # release counts what is eligible when it is made); expired data goes before the
        # rotation, so its keys are shredded rather than rewrapped. A new step is one
        # more line here.
        self.steps: list[Step] = [
            Step("releases", self._release_closed_days),
            Step("retention sweep", self._sweep),
            Step("keys gc", self._collect_orphans),
            Step("kek rotation", self._rotate_when_due),
            Step("kek destruction", self._destroy_retired),
            Step("reminders", self._remind_officers),
        ]

    def run(self) -> list[str]:
        """Run every step in order; return what each did, one line each, prefixed by its name."""
        return [f"{step.name}: {line}" for step in self.steps for line in step.run()]

    def _release_closed_days(self) -> list[str]:
        report = self.releases.publish_closed_days()
        return [
            f"released {report.cells} cells over {report.days} days of {report.surveys} "
            f"surveys, through {report.through.isoformat()}"
        ]

    def _sweep(self) -> list[str]:
        return summary_lines(self.retention.sweep(), self.policies)

    def _collect_orphans(self) -> list[str]:
        # The step's name already says "keys gc".
        return [summary_line(self.orphan_keys.collect(actor=ACTOR)).removeprefix("keys gc: ")]

    def _rotate_when_due(self) -> list[str]:
        rotation = self.key_rotation.rotate_when_due(actor=ACTOR)
        if rotation is not None:
            return [rotation_line(rotation)]
        if not self.key_rotation.provider.writable and self.key_rotation.rotation_due():
            return [
                "due, but the environment provider creates no key: list a new one first in "
                "FEEDBACKVAULT_KEK, restart, then run `feedbackvault keys rotate`"
            ]
        return ["not due"]

    def _remind_officers(self) -> list[str]:
        return [reminder_line(self.reminders.send_due())]

    def _destroy_retired(self) -> list[str]:
        return destruction_lines(self.key_rotation.destroy_retired(actor=ACTOR))
