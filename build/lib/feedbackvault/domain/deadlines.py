"""Say how urgent a data-subject request is: days left and the colour of its badge (pure)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

DAY_SECONDS = 86_400
# API.md: green over 14 days, amber 3-14, red under 3 or overdue.
GREEN_OVER_DAYS = 14
RED_UNDER_DAYS = 3


@dataclass(frozen=True)
class Deadline:
    """Days left until a due date (negative: days overdue) and the badge's urgency."""

    days: int
    overdue: bool
    urgency: str  # "green" | "amber" | "red"


def deadline(due_at: datetime, now: datetime) -> Deadline:
    """Count whole days left, rounding up (due in 20 hours is one day left)."""
    seconds = (due_at - now).total_seconds()
    if seconds < 0:
        return Deadline(-math.ceil(-seconds / DAY_SECONDS), True, "red")
    days = math.ceil(seconds / DAY_SECONDS)
    if days > GREEN_OVER_DAYS:
        urgency = "green"
    elif days >= RED_UNDER_DAYS:
        urgency = "amber"
    else:
        urgency = "red"
    return Deadline(days, False, urgency)
